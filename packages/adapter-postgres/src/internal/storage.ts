/** Maps SQL failures to the engine's `StorageError` at the adapter's edge. */
import type { SqlError } from "@effect/sql"
import { Errors } from "@foreman/core"
import { Effect, Option, Predicate } from "effect"

const isSqlError = (u: unknown): u is SqlError.SqlError => Predicate.isTagged(u, "SqlError")

/**
 * Turns a `SqlError` defect back into a failure. `sql.withTransaction` dies
 * (`orDie`) when its COMMIT or ROLLBACK fails, e.g. when the connection drops:
 * a lost connection is a storage failure, not a bug. After a lost COMMIT the
 * transaction may or may not have been written; writes that a client retries
 * are idempotent for that reason (a trigger's request id).
 */
export const sqlDefectsAsFailures = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError.SqlError, R> =>
  Effect.catchSomeDefect(self, (defect) => isSqlError(defect) ? Option.some(Effect.fail(defect)) : Option.none())

/** Fails with `StorageError` for every SQL failure, including a failed COMMIT or ROLLBACK. */
export const storage = <A, E, R>(self: Effect.Effect<A, E | SqlError.SqlError, R>) =>
  Effect.catchIf(
    sqlDefectsAsFailures(self),
    isSqlError,
    (e) => Effect.fail(new Errors.StorageError({ reason: describe(e) }))
  )

const describe = (e: SqlError.SqlError): string => {
  const cause = e.cause as { message?: string } | undefined
  return cause?.message ? `${e.message}: ${cause.message}` : e.message
}
