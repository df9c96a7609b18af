/**
 * The autopilot's durable state (`Autopilot.State`): one row, its state as
 * JSON, written conditionally on its version, so it goes on after a restart.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`CREATE TABLE foreman_autopilot (
    id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    state jsonb NOT NULL,
    version integer NOT NULL,
    updated_at timestamp with time zone NOT NULL
  )`)
})
