/**
 * The database's own account, read with SQL (not through the coordinator):
 * the research and job rows, and the history of the leader lease. The lease
 * keeps only its current epoch, so the lab installs, in the scenario's
 * database and once the coordinators have migrated it, a trigger on
 * `foreman_lease` that notes each epoch handed out with the database's clock
 * (`chaos_lease_history`): test instrumentation of the lab's database, not part
 * of Foreman's schema.
 */
import type { JobRow, LeaseBump, ResearchView } from "./checks.js"
import { withClient } from "./postgres.js"

export interface Rows {
  readonly researches: ReadonlyArray<ResearchView>
  readonly jobs: ReadonlyArray<JobRow>
  readonly bumps: ReadonlyArray<LeaseBump>
}

/** Starts the lease's history in the database at `url` (after the migrations made `foreman_lease`). */
export const installLeaseHistory = (url: string): Promise<void> =>
  withClient(url, async (client) => {
    await client.query(`
      CREATE TABLE IF NOT EXISTS chaos_lease_history (epoch bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())`)
    // The row is updated once the bump holds the row lock, so after every commit holding it FOR SHARE has ended.
    await client.query(`
      CREATE OR REPLACE FUNCTION chaos_lease_bumped() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO chaos_lease_history (epoch) VALUES (NEW.epoch) ON CONFLICT (epoch) DO NOTHING;
        RETURN NEW;
      END $$`)
    await client.query(`DROP TRIGGER IF EXISTS chaos_lease_bumped ON foreman_lease`)
    await client.query(`CREATE TRIGGER chaos_lease_bumped AFTER UPDATE ON foreman_lease FOR EACH ROW EXECUTE FUNCTION chaos_lease_bumped()`)
    // The epoch handed out before the trigger existed (its start is not known; only later ones' are needed).
    await client.query(`INSERT INTO chaos_lease_history (epoch) SELECT epoch FROM foreman_lease WHERE id = 1 ON CONFLICT (epoch) DO NOTHING`)
  })

const millis = (column: string) => `(extract(epoch FROM ${column}) * 1000)::double precision`

/** Every research and job row, and the lease's history (empty when it was not installed). */
export const readRows = (url: string): Promise<Rows> =>
  withClient(url, async (client) => {
    const researches = await client.query<ResearchView>(`SELECT id, status, phase FROM foreman_researches`)
    const jobs = await client.query<{ id: string; researchId: string; kind: string; workerId: string | null; status: string; epoch: number; createdAt: number }>(
      `SELECT id, research_id AS "researchId", kind, worker_id AS "workerId", status, epoch::int AS epoch,
        ${millis("created_at")} AS "createdAt" FROM foreman_jobs`
    )
    const history = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class WHERE relname = 'chaos_lease_history'`)
    const bumps = (history.rows[0]?.n ?? 0) > 0
      ? (await client.query<LeaseBump>(`SELECT epoch::int AS epoch, ${millis("at")} AS at FROM chaos_lease_history ORDER BY epoch`)).rows
      : []
    return { researches: researches.rows, jobs: jobs.rows.map((j) => ({ ...j, createdAt: Number(j.createdAt) })), bumps: bumps.map((b) => ({ epoch: Number(b.epoch), at: Number(b.at) })) }
  })
