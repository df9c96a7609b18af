/**
 * Pull workers (docs/worker-protocol.md): a worker records how it gets its
 * jobs (`protocol`: `push`, the default for rows before this, or `pull`), what
 * it runs on (`runtime`), and until when a pull worker waits in a poll
 * (`polling_until`). `foreman_claim` now takes the claim's moment and gives a
 * pull worker a job only while one of its polls waits: a job goes only to a
 * worker that asked for one.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE foreman_workers ADD COLUMN protocol text NOT NULL DEFAULT 'push'`
  yield* sql`ALTER TABLE foreman_workers ADD COLUMN runtime text`
  yield* sql`ALTER TABLE foreman_workers ADD COLUMN polling_until timestamptz`
  yield* sql`DROP FUNCTION foreman_claim(text, text[])`
  // For each job in order: the least-loaded available worker of the type with a free
  // slot that asks for work at `at` (a push worker always does, a pull worker while
  // polling), locked with SKIP LOCKED so two coordinators never take one slot.
  yield* sql.unsafe(`
    CREATE FUNCTION foreman_claim(worker_type text, job_ids text[], at timestamptz) RETURNS SETOF foreman_workers
    LANGUAGE plpgsql AS $$
    DECLARE
      job_id text;
      claimed foreman_workers;
    BEGIN
      FOREACH job_id IN ARRAY job_ids LOOP
        UPDATE foreman_workers SET current_jobs = array_append(current_jobs, job_id),
          status = CASE WHEN cardinality(current_jobs) + 1 >= capacity THEN 'busy' ELSE 'available' END
        WHERE id = (
          SELECT id FROM foreman_workers
          WHERE type = worker_type AND status = 'available' AND cardinality(current_jobs) < capacity
            AND (protocol = 'push' OR polling_until >= at)
          ORDER BY cardinality(current_jobs), id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING * INTO claimed;
        EXIT WHEN NOT FOUND;
        RETURN NEXT claimed;
      END LOOP;
    END $$`)
})
