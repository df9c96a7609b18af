/**
 * The strategy catalogue: every design under its name, unique, with the
 * research that designed it. A transition that designed a strategy carries it
 * as `design`, and `foreman_commit` stores it in the same transaction: a name
 * already taken (even by a concurrent transaction, which the unique index
 * waits for) makes the transition stale, so it writes nothing. Researches are
 * indexed by their strategy's name, which the catalogue's metrics look up.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    CREATE TABLE foreman_strategies (
      name text PRIMARY KEY,
      strategy jsonb NOT NULL,
      research_id text NOT NULL REFERENCES foreman_researches (id),
      created_at timestamptz NOT NULL
    )`)
  yield* sql.unsafe(`CREATE INDEX foreman_strategies_created_at ON foreman_strategies (created_at DESC, name DESC)`)
  yield* sql.unsafe(`CREATE INDEX foreman_researches_strategy_name ON foreman_researches ((strategy->>'name'))`)
  // As in 0004, then the design stored under its name, or nothing written at all.
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
      IF coalesce(t->'design', 'null'::jsonb) <> 'null'::jsonb THEN
        INSERT INTO foreman_strategies (name, strategy, research_id, created_at)
        VALUES (t->'design'->>'name', t->'design', r.id, r.updated_at)
        ON CONFLICT (name) DO NOTHING;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'strategy % is already stored', t->'design'->>'name' USING ERRCODE = 'FMSTL';
        END IF;
      END IF;
    END $$`)
})
