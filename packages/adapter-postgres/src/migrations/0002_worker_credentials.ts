/**
 * Workers get a credential (the digest of a per-registration secret) and the
 * sequence of their latest registration (a stale one changes nothing), and a
 * claim takes only workers that are `available`: a worker marked busy because
 * it said it was full, or draining, gets no job until it says otherwise.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE foreman_workers ADD COLUMN secret_hash text`
  yield* sql`ALTER TABLE foreman_workers ADD COLUMN registration_sequence double precision`
  yield* sql.unsafe(`
    CREATE OR REPLACE FUNCTION foreman_claim(worker_type text, job_ids text[]) RETURNS SETOF foreman_workers
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
          ORDER BY cardinality(current_jobs), id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING * INTO claimed;
        EXIT WHEN NOT FOUND;
        RETURN NEXT claimed;
      END LOOP;
    END $$`)
})
