/**
 * One ledger row per LLM call instead of one per job: a job's calls are
 * numbered from 0 (`call`), and each row keeps the prompt tokens read from the
 * provider's cache, the call's latency and, for a failed attempt, why it
 * failed. Rows from before are each their job's call 0.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    ALTER TABLE foreman_budget
      ADD COLUMN call integer NOT NULL DEFAULT 0,
      ADD COLUMN cached_input_tokens integer NOT NULL DEFAULT 0,
      ADD COLUMN latency_ms double precision NOT NULL DEFAULT 0,
      ADD COLUMN error text`)
  yield* sql.unsafe(`ALTER TABLE foreman_budget DROP CONSTRAINT foreman_budget_pkey`)
  yield* sql.unsafe(`ALTER TABLE foreman_budget ADD PRIMARY KEY (job_id, call)`)
  yield* sql.unsafe(`CREATE INDEX foreman_budget_research ON foreman_budget (research_id)`)
})
