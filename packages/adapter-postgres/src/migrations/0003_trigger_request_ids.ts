/**
 * Idempotent triggers: the request id a research was triggered with, unique,
 * so a retried trigger finds the research its first attempt created and two
 * concurrent retries cannot both insert one. Researches triggered without a
 * request id keep it null (a unique column admits many nulls).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE foreman_researches ADD COLUMN request_id text`
  yield* sql`ALTER TABLE foreman_researches ADD CONSTRAINT foreman_researches_request_id UNIQUE (request_id)`
})
