/**
 * The ledger says what was simulated: `simulated` marks a call no model
 * answered (the offline agents'), charged to the budget all the same. Rows
 * from before are real calls, except those the offline agents recorded under
 * their old default name `sonnet-class`, which are marked simulated and
 * renamed `offline`, their name now. (Offline calls recorded under the model a
 * trigger asked for cannot be told apart and stay as they were.)
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`ALTER TABLE foreman_budget ADD COLUMN simulated boolean NOT NULL DEFAULT false`)
  yield* sql.unsafe(`UPDATE foreman_budget SET simulated = true, model = 'offline' WHERE model = 'sonnet-class'`)
})
