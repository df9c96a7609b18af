/**
 * Registered workers in PostgreSQL. A claim is one call of `foreman_claim`,
 * which for each job picks the least-loaded live worker with
 * `FOR UPDATE SKIP LOCKED` and appends the job to it, so two coordinators racing
 * for one slot can never both get it. A registration merges its jobs into the
 * row in one statement, so it never erases a claim made meanwhile. Rows are
 * decoded with the worker's field schemas; moments are `timestamptz`.
 *
 * Every status written here is decided by `WorkerTransitions` in core (the
 * owner of the worker state machine): each statement evaluates the core
 * function's table on the row it writes (`internal/workerStatus.ts`), and the
 * claim's SQL function transcribes it; no status rule is written here.
 * Rows are decoded by `internal/workerRows.ts`.
 */
import { PgClient } from "@effect/sql-pg"
import { type Domain, WorkerStore, WorkerTransitions } from "@foreman/core"
import { Effect, Layer, Option } from "effect"
import { Timestamp, toDate } from "./internal/rows.js"
import { storage } from "./internal/storage.js"
import { workersOf } from "./internal/workerRows.js"
import * as WorkerStatus from "./internal/workerStatus.js"

const workers = workersOf(Timestamp)

/** The worker a statement returned, if any. */
const one = <E>(statement: Effect.Effect<ReadonlyArray<unknown>, E>) =>
  Effect.map(Effect.flatMap(statement, workers), (rows) => Option.fromNullable(rows[0]))

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  /** An expiry's cutoff: minus infinity (nobody is that silent) is PostgreSQL's `-infinity`, not an invalid date. */
  const cutoff = (before: number) => Number.isFinite(before) ? sql`${toDate(before)}` : sql`'-infinity'::timestamptz`
  /** Frees the job's slot on the worker, whose status `next` decides from the one on its row. */
  const dropJob = (id: Domain.WorkerId, jobId: Domain.JobId, next: (status: WorkerTransitions.Status) => WorkerTransitions.Status) =>
    storage(Effect.asVoid(sql`
      UPDATE foreman_workers SET current_jobs = array_remove(current_jobs, ${jobId}::text),
        status = ${WorkerStatus.onRow(sql, next, sql`false`)}
      WHERE id = ${id}`))
  return WorkerStore.WorkerStore.of({
    register: (w, lost, secretHash, sequence) => {
      // The merged slots: what the row holds (claims in flight included) plus what the
      // worker runs, minus what this registration declared lost. Evaluated on the locked row.
      const merged = sql`ARRAY(SELECT DISTINCT j FROM unnest(foreman_workers.current_jobs || EXCLUDED.current_jobs) AS j
        WHERE j <> ALL(${[...lost] as Array<string>}::text[]))`
      const registered = (full: boolean) => WorkerTransitions.registered(w.status, full)
      return storage(one(sql`
          INSERT INTO foreman_workers (id, type, endpoint, status, capacity, current_jobs, capabilities,
            registered_at, last_heartbeat_at, secret_hash, registration_sequence, protocol, runtime)
          VALUES (${w.id}, ${w.type}, ${w.endpoint}, ${registered(WorkerTransitions.isFull(w.currentJobs.length, w.capacity))}, ${w.capacity},
            ${[...w.currentJobs] as Array<string>}::text[], ${sql.json(w.capabilities)}, ${toDate(w.registeredAt)},
            ${toDate(w.lastHeartbeatAt)}, ${secretHash}, ${sequence}, ${w.protocol ?? "push"}, ${w.runtime ?? null})
          ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, endpoint = EXCLUDED.endpoint, capacity = EXCLUDED.capacity,
            protocol = EXCLUDED.protocol, runtime = EXCLUDED.runtime, polling_until = NULL,
            capabilities = EXCLUDED.capabilities, registered_at = EXCLUDED.registered_at,
            last_heartbeat_at = EXCLUDED.last_heartbeat_at, secret_hash = EXCLUDED.secret_hash,
            registration_sequence = COALESCE(EXCLUDED.registration_sequence, foreman_workers.registration_sequence),
            current_jobs = ${merged},
            status = ${WorkerStatus.onLoad(sql, registered, sql`cardinality(${merged}) >= EXCLUDED.capacity`)}
          WHERE EXCLUDED.registration_sequence IS NULL OR foreman_workers.registration_sequence IS NULL
            OR EXCLUDED.registration_sequence > foreman_workers.registration_sequence
          RETURNING *`))
    },
    secretHash: (id) =>
      storage(Effect.map(
        sql<{ secret_hash: string | null }>`SELECT secret_hash FROM foreman_workers WHERE id = ${id}`,
        (rows) => Option.map(Option.fromNullable(rows[0]), (row) => row.secret_hash)
      )),
    markRefusing: (id, jobId, status) => dropJob(id, jobId, (current) => WorkerTransitions.refused(current, status)),
    markUnreachable: (id, jobId) => dropJob(id, jobId, WorkerTransitions.unreachable),
    get: (id) => storage(one(sql`SELECT * FROM foreman_workers WHERE id = ${id}`)),
    list: storage(Effect.flatMap(sql`SELECT * FROM foreman_workers ORDER BY id`, workers)),
    heartbeat: (id, at, healthy, pollingUntil) =>
      storage(Effect.gen(function*() {
        // The row locked first, so the status before is the one this update replaced.
        const rows = yield* sql<{ before_status: WorkerTransitions.Status }>`
          WITH before AS (SELECT id AS before_id, status AS before_status FROM foreman_workers WHERE id = ${id} FOR UPDATE)
          UPDATE foreman_workers SET last_heartbeat_at = ${toDate(at)},
            polling_until = ${
          pollingUntil === undefined
            ? sql`polling_until`
            : sql`${pollingUntil === null ? null : toDate(pollingUntil)}::timestamptz`
        },
            status = ${
          WorkerStatus.onRow(
            sql,
            (current, full) => WorkerTransitions.heartbeat(current, full, healthy),
            sql`cardinality(current_jobs) >= capacity`
          )
        }
          FROM before WHERE foreman_workers.id = before.before_id RETURNING foreman_workers.*, before.before_status`
        const [worker] = yield* workers(rows)
        return worker === undefined ? Option.none() : Option.some({ worker, before: rows[0]!.before_status })
      })),
    claim: (type, jobIds, now) =>
      jobIds.length === 0
        ? Effect.succeed([])
        : storage(Effect.flatMap(
          // foreman_claim is defined in src/functions/foreman_claim.ts.
          sql`SELECT * FROM foreman_claim(${type}, ${[...jobIds] as Array<string>}::text[], ${toDate(now)})`,
          workers
        )),
    release: (id, jobId) =>
      storage(Effect.asVoid(sql`
        UPDATE foreman_workers SET current_jobs = array_remove(current_jobs, ${jobId}::text),
          status = ${WorkerStatus.onRow(sql, WorkerTransitions.released, sql`cardinality(current_jobs) - 1 >= capacity`)}
        WHERE id = ${id} AND ${jobId}::text = ANY(current_jobs)`)),
    expire: (offlineBefore, removeBefore) =>
      storage(Effect.map(
        sql<{ kind: "offline" | "removed"; id: Domain.WorkerId }>`
          WITH removed AS (
            DELETE FROM foreman_workers WHERE last_heartbeat_at < ${cutoff(removeBefore)} RETURNING id
          ), offline AS (
            UPDATE foreman_workers SET status = ${WorkerStatus.onRow(sql, WorkerTransitions.expired, sql`false`)}
            WHERE last_heartbeat_at < ${cutoff(offlineBefore)} AND last_heartbeat_at >= ${cutoff(removeBefore)}
              AND status IN ${WorkerStatus.changing(sql, WorkerTransitions.expired)}
            RETURNING id
          )
          SELECT 'removed' AS kind, id FROM removed UNION ALL SELECT 'offline' AS kind, id FROM offline`,
        (rows) => ({
          offline: rows.filter((r) => r.kind === "offline").map((r) => r.id).sort(),
          removed: rows.filter((r) => r.kind === "removed").map((r) => r.id).sort()
        })
      )),
    forgetPolls: storage(Effect.asVoid(sql`UPDATE foreman_workers SET polling_until = NULL WHERE polling_until IS NOT NULL`)),
    remove: (id) =>
      storage(Effect.map(sql`DELETE FROM foreman_workers WHERE id = ${id} RETURNING id`, (rows) => rows.length > 0))
  })
})

export const layer: Layer.Layer<WorkerStore.WorkerStore, never, PgClient.PgClient> = Layer.effect(
  WorkerStore.WorkerStore,
  make
)
