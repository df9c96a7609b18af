/**
 * Maps SQL failures to the engine's `StorageError` at the adapter's edge. The
 * `SqlError` stays as the `StorageError`'s `cause` (logs show it whole); code
 * that must tell failures apart reads their SQLSTATE (`sqlState`), never
 * their text.
 */
import type { SqlError } from "@effect/sql"
import { Errors } from "@foreman/core"
import { Effect, Option, Predicate } from "effect"

const isSqlError = (u: unknown): u is SqlError.SqlError => Predicate.isTagged(u, "SqlError")

/** The SQLSTATE codes the adapter tells apart. */
export const SqlState = {
  /** A unique constraint refused a row. */
  uniqueViolation: "23505",
  /** A conditional write lost (`foreman_commit` raises it with `USING ERRCODE = 'FMSTL'`). */
  staleWrite: "FMSTL"
} as const

/**
 * The SQLSTATE of a failure: of a `SqlError`'s driver error, or of the
 * `SqlError` under a `StorageError`; undefined when there is none.
 */
export const sqlState = (error: unknown): string | undefined => {
  let current: unknown = error
  // StorageError → SqlError → the driver's error (postgres.js puts SQLSTATE in `code`).
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    if (!Predicate.hasProperty(current, "_tag") && Predicate.hasProperty(current, "code")) {
      // A SQLSTATE is five digits or capitals; a socket's `ECONNREFUSED` is none.
      return typeof current.code === "string" && /^[0-9A-Z]{5}$/.test(current.code) ? current.code : undefined
    }
    current = Predicate.hasProperty(current, "cause") ? current.cause : undefined
  }
  return undefined
}

/** Whether `error` carries the SQLSTATE `code`. */
export const hasSqlState = (code: string) => (error: unknown): boolean => sqlState(error) === code

/**
 * Turns a `SqlError` defect back into a failure. `sql.withTransaction` dies
 * (`orDie`) when its COMMIT or ROLLBACK fails, e.g. when the connection drops:
 * a lost connection is a storage failure, not a bug. After a lost COMMIT the
 * transaction may or may not have been written; writes that a client retries
 * are idempotent for that reason (a trigger's request id).
 */
export const sqlDefectsAsFailures = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError.SqlError, R> =>
  Effect.catchSomeDefect(self, (defect) => isSqlError(defect) ? Option.some(Effect.fail(defect)) : Option.none())

/** Fails with `StorageError` (the `SqlError` as its cause) for every SQL failure, including a failed COMMIT or ROLLBACK. */
export const storage = <A, E, R>(self: Effect.Effect<A, E | SqlError.SqlError, R>) =>
  Effect.catchIf(
    sqlDefectsAsFailures(self),
    isSqlError,
    (e) => Effect.fail(new Errors.StorageError({ reason: describe(e), cause: e }))
  )

const describe = (e: SqlError.SqlError): string => {
  const cause = e.cause as { message?: string } | undefined
  return cause?.message ? `${e.message}: ${cause.message}` : e.message
}
