/** The first schema: researches, jobs, workers, the budget ledger and the leader lease. */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE foreman_researches (
      id text PRIMARY KEY,
      status text NOT NULL,
      created_at double precision NOT NULL,
      version integer NOT NULL,
      data jsonb NOT NULL
    )`
  yield* sql`CREATE INDEX foreman_researches_active ON foreman_researches (created_at) WHERE status IN ('pending', 'running')`
  yield* sql`CREATE INDEX foreman_researches_created ON foreman_researches (created_at DESC)`
  yield* sql`
    CREATE TABLE foreman_jobs (
      id text PRIMARY KEY,
      research_id text NOT NULL REFERENCES foreman_researches (id),
      worker_id text,
      status text NOT NULL,
      created_at double precision NOT NULL,
      data jsonb NOT NULL
    )`
  yield* sql`CREATE INDEX foreman_jobs_research ON foreman_jobs (research_id, created_at)`
  yield* sql`CREATE INDEX foreman_jobs_worker ON foreman_jobs (worker_id) WHERE status IN ('pending', 'running')`
  yield* sql`
    CREATE TABLE foreman_workers (
      id text PRIMARY KEY,
      type text NOT NULL,
      endpoint text NOT NULL,
      status text NOT NULL,
      capacity integer NOT NULL,
      current_jobs text[] NOT NULL DEFAULT '{}',
      capabilities jsonb NOT NULL DEFAULT '{}',
      registered_at double precision NOT NULL,
      last_heartbeat_at double precision NOT NULL
    )`
  yield* sql`
    CREATE TABLE foreman_budget (
      job_id text PRIMARY KEY,
      research_id text NOT NULL,
      model text NOT NULL,
      input_tokens integer NOT NULL,
      output_tokens integer NOT NULL,
      amount_usd double precision NOT NULL,
      at double precision NOT NULL
    )`
  yield* sql`CREATE INDEX foreman_budget_at ON foreman_budget (at)`
  yield* sql`CREATE TABLE foreman_lease (id integer PRIMARY KEY CHECK (id = 1), epoch bigint NOT NULL)`
  yield* sql`INSERT INTO foreman_lease (id, epoch) VALUES (1, 0)`
  // One phase transition in one round trip: checks the epoch (holding the lease
  // row in share mode), the research's version and each job's expected status,
  // and raises FMSTL (a stale write) to undo everything when one fails.
  yield* sql.unsafe(`
    CREATE FUNCTION foreman_commit(t jsonb) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      r jsonb := t->'research';
      w jsonb;
    BEGIN
      IF t->'epoch' <> 'null'::jsonb THEN
        PERFORM 1 FROM foreman_lease WHERE id = 1 AND epoch = (t->>'epoch')::bigint FOR SHARE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'epoch % was superseded', t->>'epoch' USING ERRCODE = 'FMSTL';
        END IF;
      END IF;
      UPDATE foreman_researches SET status = r->>'status', version = (r->>'version')::int, data = r
        WHERE id = r->>'id' AND version = (t->>'expectedVersion')::int;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'expected version %', t->>'expectedVersion' USING ERRCODE = 'FMSTL';
      END IF;
      FOR w IN SELECT value FROM jsonb_array_elements(t->'jobs') LOOP
        IF w->'expected' = 'null'::jsonb THEN
          INSERT INTO foreman_jobs (id, research_id, worker_id, status, created_at, data)
          VALUES (w->'job'->>'id', w->'job'->>'researchId', w->'job'->>'workerId', w->'job'->>'status',
            (w->'job'->>'createdAt')::double precision, w->'job')
          ON CONFLICT (id) DO NOTHING;
        ELSE
          UPDATE foreman_jobs SET worker_id = w->'job'->>'workerId', status = w->'job'->>'status', data = w->'job'
          WHERE id = w->'job'->>'id' AND status = w->>'expected';
        END IF;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'job % changed meanwhile', w->'job'->>'id' USING ERRCODE = 'FMSTL';
        END IF;
      END LOOP;
    END $$`)
  // Many transitions in one round trip, each in a subtransaction of its own:
  // returns, for each, whether it was written.
  yield* sql.unsafe(`
    CREATE FUNCTION foreman_commit_all(ts jsonb) RETURNS boolean[] LANGUAGE plpgsql AS $$
    DECLARE
      t jsonb;
      written boolean[] := '{}';
    BEGIN
      FOR t IN SELECT value FROM jsonb_array_elements(ts) LOOP
        BEGIN
          PERFORM foreman_commit(t);
          written := written || true;
        EXCEPTION WHEN SQLSTATE 'FMSTL' THEN
          written := written || false;
        END;
      END LOOP;
      RETURN written;
    END $$`)
  // Claims slots for jobs in order, each on the least-loaded live worker of a
  // type, stopping at the first job for which none is free.
  yield* sql.unsafe(`
    CREATE FUNCTION foreman_claim(worker_type text, job_ids text[]) RETURNS SETOF foreman_workers
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
          WHERE type = worker_type AND status IN ('available', 'busy') AND cardinality(current_jobs) < capacity
          ORDER BY cardinality(current_jobs), id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING * INTO claimed;
        EXIT WHEN NOT FOUND;
        RETURN NEXT claimed;
      END LOOP;
    END $$`)
})
