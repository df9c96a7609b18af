/**
 * `foreman_commit(t jsonb)`: one research transition in one round trip, all or
 * nothing. Called by `PgResearchStore.commit`, and by `foreman_commit_all` for
 * each transition of a batch.
 *
 * `t` is `{ epoch, expectedVersion, research: row, jobs: [{ job: row, expected }], design? }`
 * (built by `transitionRows` in `internal/researchRows.ts`); rows are read with
 * `jsonb_populate_record`, so their fields are the tables' column names.
 *
 * - The epoch (when not null) must still be the lease's: the lease row is read
 *   `FOR SHARE`, so a new leader taking the lease waits for this commit, and a
 *   stale leader's commit fails instead of overwriting the new one's.
 * - The research is written only at `expectedVersion` (optimistic concurrency).
 * - Each job is inserted when `expected` is null (an id already taken fails),
 *   else updated only while its status is `expected` (`foreman_update_job`).
 * - A designed strategy (`design`) is stored under its name in the same
 *   transaction; a name already taken, even by a concurrent transaction (the
 *   primary key waits for it), fails.
 *
 * Every failed check raises SQLSTATE `FMSTL` (a stale write), which undoes the
 * whole call; the store maps it to `StaleWrite`. History: migrations 0001
 * (blob columns), 0004 (typed columns), 0005 (the strategy catalogue).
 */
import type { SqlFunction } from "../internal/sqlFunction.js"

export default {
  name: "foreman_commit",
  parameters: [["t", "jsonb"]],
  returns: "void",
  language: "plpgsql",
  body: `
DECLARE
  r foreman_researches := jsonb_populate_record(NULL::foreman_researches, t->'research');
  w jsonb;
BEGIN
  IF t->'epoch' <> 'null'::jsonb THEN
    PERFORM 1 FROM foreman_lease WHERE id = 1 AND epoch = (t->>'epoch')::bigint FOR SHARE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'epoch % was superseded', t->>'epoch' USING ERRCODE = 'FMSTL';
    END IF;
  END IF;
  UPDATE foreman_researches SET brief = r.brief, model = r.model, bypass_gates = r.bypass_gates,
    forced = r.forced, phase = r.phase, status = r.status, strategy = r.strategy, results = r.results,
    gates = r.gates, cost_usd = r.cost_usd, created_at = r.created_at, updated_at = r.updated_at,
    finished_at = r.finished_at, waiting_for = r.waiting_for, waiting_since = r.waiting_since,
    active_job_id = r.active_job_id, attempt = r.attempt, failures = r.failures, retry_at = r.retry_at,
    error = r.error, version = r.version
  WHERE id = r.id AND version = (t->>'expectedVersion')::int;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'expected version %', t->>'expectedVersion' USING ERRCODE = 'FMSTL';
  END IF;
  FOR w IN SELECT value FROM jsonb_array_elements(t->'jobs') LOOP
    IF w->'expected' = 'null'::jsonb THEN
      INSERT INTO foreman_jobs SELECT * FROM jsonb_populate_record(NULL::foreman_jobs, w->'job')
      ON CONFLICT (id) DO NOTHING;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'job % changed meanwhile', w->'job'->>'id' USING ERRCODE = 'FMSTL';
      END IF;
    ELSIF NOT foreman_update_job(w->'job', ARRAY[w->>'expected']) THEN
      RAISE EXCEPTION 'job % changed meanwhile', w->'job'->>'id' USING ERRCODE = 'FMSTL';
    END IF;
  END LOOP;
  IF coalesce(t->'design', 'null'::jsonb) <> 'null'::jsonb THEN
    INSERT INTO foreman_strategies (name, strategy, research_id, created_at)
    VALUES (t->'design'->>'name', t->'design', r.id, r.updated_at)
    ON CONFLICT (name) DO NOTHING;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'strategy % is already stored', t->'design'->>'name' USING ERRCODE = 'FMSTL';
    END IF;
  END IF;
END
`
} satisfies SqlFunction
