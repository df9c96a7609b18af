/**
 * Idempotency keys as Stripe's: beside a research's request id, the
 * fingerprint of the request that recorded it (a hash of its canonical body;
 * the same id with another request is refused) and when it was recorded (a key
 * expires, then may start a new research). Keys recorded before this have no
 * fingerprint (they match any request) and count as recorded when their
 * research was created.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE foreman_researches ADD COLUMN request_fingerprint text`
  yield* sql`ALTER TABLE foreman_researches ADD COLUMN request_recorded_at timestamptz`
  yield* sql`UPDATE foreman_researches SET request_recorded_at = created_at WHERE request_id IS NOT NULL`
})
