/** Maps SQL failures to the engine's `StorageError` at the adapter's edge. */
import type { SqlError } from "@effect/sql"
import { Errors } from "@foreman/core"
import { Effect } from "effect"

export const storage = <A, E, R>(self: Effect.Effect<A, E | SqlError.SqlError, R>) =>
  Effect.catchIf(
    self,
    (e): e is SqlError.SqlError => (e as { _tag?: string })._tag === "SqlError",
    (e) => Effect.fail(new Errors.StorageError({ reason: describe(e) }))
  )

const describe = (e: SqlError.SqlError): string => {
  const cause = e.cause as { message?: string } | undefined
  return cause?.message ? `${e.message}: ${cause.message}` : e.message
}
