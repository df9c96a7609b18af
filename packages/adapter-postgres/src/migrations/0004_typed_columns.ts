/**
 * Every value in a column of its own type, each kept once. Researches and jobs
 * lose their `data` blob: its fields move to columns (the queried ones, phase,
 * waiting-for, active job, kind, worker, and the rest beside them), structured
 * results stay `jsonb`, and every moment becomes a `timestamptz` (it was epoch
 * milliseconds in a `double precision`) on every table. The values move in SQL,
 * in the migration's transaction; a row lacking a required field stops it.
 *
 * Transitions now carry rows, not objects: `foreman_commit` reads the research
 * and its jobs with `jsonb_populate_record`, and `foreman_update_job` (also
 * called on its own by the store) writes one job if its status is expected.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** SQL for epoch milliseconds (a column, or JSON text) as a `timestamptz`, exact to the millisecond. */
const timestamptz = (millis: string) => `to_timestamp((${millis})::double precision / 1000)`

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  yield* sql.unsafe(`
    ALTER TABLE foreman_researches
      ADD COLUMN brief text,
      ADD COLUMN model text,
      ADD COLUMN bypass_gates boolean,
      ADD COLUMN forced boolean,
      ADD COLUMN phase text,
      ADD COLUMN strategy jsonb,
      ADD COLUMN results jsonb,
      ADD COLUMN gates jsonb,
      ADD COLUMN cost_usd double precision,
      ADD COLUMN updated_at timestamptz,
      ADD COLUMN finished_at timestamptz,
      ADD COLUMN waiting_for text,
      ADD COLUMN waiting_since timestamptz,
      ADD COLUMN active_job_id text,
      ADD COLUMN attempt integer,
      ADD COLUMN failures integer,
      ADD COLUMN retry_at timestamptz,
      ADD COLUMN error text,
      ALTER COLUMN created_at TYPE timestamptz USING ${timestamptz("created_at")}`)
  // status, version and created_at were already columns, written with the blob in one statement.
  yield* sql.unsafe(`
    UPDATE foreman_researches SET
      brief = data->>'brief',
      model = data->>'model',
      bypass_gates = (data->>'bypassGates')::boolean,
      forced = (data->>'forced')::boolean,
      phase = data->>'phase',
      strategy = nullif(data->'strategy', 'null'),
      results = data->'results',
      gates = data->'gates',
      cost_usd = (data->>'costUsd')::double precision,
      updated_at = ${timestamptz("data->>'updatedAt'")},
      finished_at = ${timestamptz("data->>'finishedAt'")},
      waiting_for = data->'waitingFor'->>'workerType',
      waiting_since = ${timestamptz("data->'waitingFor'->>'since'")},
      active_job_id = data->>'activeJobId',
      attempt = (data->>'attempt')::integer,
      failures = (data->>'failures')::integer,
      retry_at = ${timestamptz("data->>'retryAt'")},
      error = data->>'error'`)
  yield* sql.unsafe(`
    ALTER TABLE foreman_researches
      DROP COLUMN data,
      ALTER COLUMN brief SET NOT NULL,
      ALTER COLUMN bypass_gates SET NOT NULL,
      ALTER COLUMN forced SET NOT NULL,
      ALTER COLUMN phase SET NOT NULL,
      ALTER COLUMN results SET NOT NULL,
      ALTER COLUMN gates SET NOT NULL,
      ALTER COLUMN cost_usd SET NOT NULL,
      ALTER COLUMN updated_at SET NOT NULL,
      ALTER COLUMN attempt SET NOT NULL,
      ALTER COLUMN failures SET NOT NULL,
      ADD CONSTRAINT foreman_researches_waiting CHECK ((waiting_for IS NULL) = (waiting_since IS NULL))`)

  yield* sql.unsafe(`
    ALTER TABLE foreman_jobs
      ADD COLUMN kind text,
      ADD COLUMN phase text,
      ADD COLUMN worker_type text,
      ADD COLUMN attempt integer,
      ADD COLUMN progress double precision,
      ADD COLUMN message text,
      ADD COLUMN input jsonb,
      ADD COLUMN result jsonb,
      ADD COLUMN usage jsonb,
      ADD COLUMN error text,
      ADD COLUMN epoch integer,
      ADD COLUMN queued_since timestamptz,
      ADD COLUMN updated_at timestamptz,
      ADD COLUMN finished_at timestamptz,
      ALTER COLUMN created_at TYPE timestamptz USING ${timestamptz("created_at")}`)
  // research_id, worker_id, status and created_at were already columns.
  yield* sql.unsafe(`
    UPDATE foreman_jobs SET
      kind = data->>'kind',
      phase = data->>'phase',
      worker_type = data->>'workerType',
      attempt = (data->>'attempt')::integer,
      progress = (data->>'progress')::double precision,
      message = data->>'message',
      input = nullif(data->'input', 'null'),
      result = nullif(data->'result', 'null'),
      usage = nullif(data->'usage', 'null'),
      error = data->>'error',
      epoch = (data->>'epoch')::integer,
      queued_since = ${timestamptz("data->>'queuedSince'")},
      updated_at = ${timestamptz("data->>'updatedAt'")},
      finished_at = ${timestamptz("data->>'finishedAt'")}`)
  yield* sql.unsafe(`
    ALTER TABLE foreman_jobs
      DROP COLUMN data,
      ALTER COLUMN kind SET NOT NULL,
      ALTER COLUMN phase SET NOT NULL,
      ALTER COLUMN attempt SET NOT NULL,
      ALTER COLUMN progress SET NOT NULL,
      ALTER COLUMN epoch SET NOT NULL,
      ALTER COLUMN updated_at SET NOT NULL`)

  yield* sql.unsafe(`
    ALTER TABLE foreman_workers
      ALTER COLUMN registered_at TYPE timestamptz USING ${timestamptz("registered_at")},
      ALTER COLUMN last_heartbeat_at TYPE timestamptz USING ${timestamptz("last_heartbeat_at")}`)
  yield* sql.unsafe(`ALTER TABLE foreman_budget ALTER COLUMN at TYPE timestamptz USING ${timestamptz("at")}`)

  // One job written only if its status is still one of `expected`; says whether it was.
  yield* sql.unsafe(`
    CREATE FUNCTION foreman_update_job(job jsonb, expected text[]) RETURNS boolean LANGUAGE plpgsql AS $$
    DECLARE
      j foreman_jobs := jsonb_populate_record(NULL::foreman_jobs, job);
    BEGIN
      UPDATE foreman_jobs SET research_id = j.research_id, kind = j.kind, phase = j.phase,
        worker_type = j.worker_type, worker_id = j.worker_id, status = j.status, attempt = j.attempt,
        progress = j.progress, message = j.message, input = j.input, result = j.result, usage = j.usage,
        error = j.error, epoch = j.epoch, queued_since = j.queued_since, created_at = j.created_at,
        updated_at = j.updated_at, finished_at = j.finished_at
      WHERE id = j.id AND status = ANY(expected);
      RETURN FOUND;
    END $$`)
  // The same checks as before, on rows: `t` is { epoch, expectedVersion, research: row, jobs: [{ job: row, expected }] }.
  yield* sql.unsafe(`
    CREATE OR REPLACE FUNCTION foreman_commit(t jsonb) RETURNS void LANGUAGE plpgsql AS $$
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
    END $$`)
})
