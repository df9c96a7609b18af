/**
 * `foreman_claim(worker_type text, job_ids text[], at timestamptz) RETURNS SETOF foreman_workers`:
 * gives each job, in order, a slot on a worker, atomically; called by
 * `PgWorkerStore.claim`. Stops at the first job no worker can take, so it
 * answers the workers of a prefix of `job_ids`.
 *
 * For each job: the least-loaded worker of the type (ties by id) that can take
 * one more at `at` — `WorkerTransitions.canTake` in core: status `available`, a free
 * slot, and asking for work (a push worker always, a pull worker while its poll
 * waits, `polling_until >= at`). The row is locked `FOR UPDATE SKIP LOCKED`, so
 * two coordinators claiming at once never take one slot twice (the second
 * skips the row and takes the next worker, or none). The job is appended to
 * `current_jobs` and the status follows the new load: a direct transcription
 * of `WorkerTransitions.claimed` (packages/core/src/WorkerTransitions.ts), which owns
 * the worker state machine; the contract test `WorkerStatusContract` runs the
 * same cases through both, so they cannot drift.
 *
 * History: migrations 0001, 0002 (only `available` workers), 0008 (pull workers, `at`).
 */
import type { SqlFunction } from "../internal/sqlFunction.js"

export default {
  name: "foreman_claim",
  parameters: [["worker_type", "text"], ["job_ids", "text[]"], ["at", "timestamptz"]],
  returns: "SETOF foreman_workers",
  language: "plpgsql",
  body: `
DECLARE
  job_id text;
  claimed foreman_workers;
BEGIN
  FOREACH job_id IN ARRAY job_ids LOOP
    UPDATE foreman_workers SET current_jobs = array_append(current_jobs, job_id),
      -- WorkerTransitions.claimed: busy once full, else available.
      status = CASE WHEN cardinality(current_jobs) + 1 >= capacity THEN 'busy' ELSE 'available' END
    WHERE id = (
      -- WorkerTransitions.canTake: available, a free slot, asking for work at \`at\`.
      SELECT id FROM foreman_workers
      WHERE type = worker_type AND status = 'available' AND cardinality(current_jobs) < capacity
        AND (protocol = 'push' OR polling_until >= at)
      ORDER BY cardinality(current_jobs), id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING * INTO claimed;
    EXIT WHEN NOT FOUND;
    RETURN NEXT claimed;
  END LOOP;
END
`
} satisfies SqlFunction
