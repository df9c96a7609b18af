/**
 * How a worker reads a failed call to its coordinator: the coordinator forgot
 * it, the trouble is passing (send again later), or the coordinator refused
 * the body as such (sending it again cannot help).
 */
import * as HttpApiError from "@effect/platform/HttpApiError"
import * as Errors from "@foreman/core/Errors"
import { Option, Predicate } from "effect"
import { PayloadTooLarge } from "@foreman/api/Wire"
import * as HttpFailure from "@foreman/api/HttpFailure"

/** The coordinator forgot the worker, or does not know its credential: register again. */
export const isNotRegistered = (error: unknown): boolean =>
  error instanceof Errors.WorkerNotFound || error instanceof Errors.WorkerNotAuthenticated

/** Calls to the coordinator that failed because of the network or a passing coordinator trouble. */
export const isPassing = (error: unknown): boolean =>
  HttpFailure.isNetworkFailure(error) ||
  Predicate.isTagged(error, "StorageError") ||
  // A registration of this worker crossed the call: the next registration's credential will do.
  Predicate.isTagged(error, "WorkerNotAuthenticated") ||
  // Too many requests open under this credential (429), or one too slow to arrive (408): send again later.
  Predicate.isTagged(error, "TooManyConnections") ||
  [408, 429].includes(HttpFailure.statusOf(error) ?? 0) ||
  (HttpFailure.statusOf(error) ?? 0) >= 500

/** The distinct messages of a refusal's issues, or its one message when it lists none. */
export const reasonOf = (issues: ReadonlyArray<{ readonly message: string }>, message: string): string =>
  issues.length === 0 ? message : Array.from(new Set(issues.map((issue) => issue.message))).join("; ")

/**
 * Why the coordinator refused a report as such (400: invalid body, 413: too
 * large), if that is the failure; `describe` words any other 400 or 413.
 */
export const refusalOf = (error: unknown, describe: (error: unknown) => string): Option.Option<string> => {
  if (error instanceof HttpApiError.HttpApiDecodeError) return Option.some(reasonOf(error.issues, error.message))
  if (error instanceof PayloadTooLarge) return Option.some(error.message)
  const status = HttpFailure.statusOf(error)
  return status === 400 || status === 413 ? Option.some(describe(error)) : Option.none()
}
