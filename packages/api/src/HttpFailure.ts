/**
 * Failures of calls made with derived HTTP clients: which are worth another
 * attempt (the request may never have arrived), which surely never arrived
 * (no connection was made), and one readable line for each.
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as Errors from "@foreman/core/Errors"
import { Data, Duration, ParseResult, Predicate } from "effect"

/** A request got no answer within its time limit. */
export class RequestTimeout extends Data.TaggedError("RequestTimeout")<{ readonly after: Duration.Duration }> {
  override get message(): string {
    return `no answer within ${Duration.format(this.after)}`
  }
}

/** The network failed or timed out: the request may not have arrived, so it may be sent again. */
export const isNetworkFailure = (error: unknown): boolean =>
  error instanceof RequestTimeout || (error instanceof HttpClientError.RequestError && error.reason === "Transport")

/**
 * Error codes (Node's and undici's) of a connection that was never made: the
 * peer refused it, the host is unknown or unreachable, or connecting timed out.
 * A reset or a time-out once connected is not one: the request may have gone out.
 */
const unconnected = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT"
])

/** The first error code on `cause`, its causes, or the errors it aggregates (Node tries each address of a host). */
const codeOf = (cause: unknown, depth = 0): string | undefined => {
  if (typeof cause !== "object" || cause === null || depth > 4) return undefined
  const { cause: inner, code, errors } = cause as { readonly code?: unknown; readonly cause?: unknown; readonly errors?: unknown }
  if (typeof code === "string") return code
  const nested = codeOf(inner, depth + 1)
  if (nested !== undefined) return nested
  return Array.isArray(errors) ? errors.map((e) => codeOf(e, depth + 1)).find((c) => c !== undefined) : undefined
}

/**
 * A network failure that happened before any connection was made (refused,
 * unknown or unreachable host): the request cannot have reached its target.
 * A time-out is never one (it cannot tell a connection not made from an answer
 * that never came).
 */
export const isUnconnected = (error: unknown): boolean => {
  if (!(error instanceof HttpClientError.RequestError) || error.reason !== "Transport") return false
  const code = codeOf(error.cause)
  return code !== undefined && unconnected.has(code)
}

/** The status code of an answer, if the failure came with one. */
export const statusOf = (error: unknown): number | undefined =>
  error instanceof HttpClientError.ResponseError ? error.response.status : undefined

const causeMessage = (cause: unknown): string => {
  if (cause instanceof Error) {
    // Node and undici put the useful part ("connect ECONNREFUSED …") on the cause's cause.
    const inner: unknown = (cause as { readonly cause?: unknown }).cause
    return inner instanceof Error && inner.message !== "" ? inner.message : cause.message
  }
  return typeof cause === "string" ? cause : "connection failed"
}

/** One line for a failed call to `target` (a URL). */
export const describe = (target: string, error: unknown): string => {
  if (error instanceof RequestTimeout) return `no answer from ${target} within ${Duration.format(error.after)}`
  if (error instanceof HttpClientError.RequestError) {
    return error.reason === "Transport"
      ? `cannot reach ${target}: ${causeMessage(error.cause)}`
      : `cannot send the request to ${target}: ${error.description ?? error.reason}`
  }
  if (error instanceof HttpClientError.ResponseError) {
    return `unexpected answer from ${target}: HTTP ${error.response.status}`
  }
  if (ParseResult.isParseError(error)) return `unreadable answer from ${target}: ${Errors.describeParseError(error)}`
  if (Predicate.isTagged(error, "Unauthorized")) return `${target} rejected the token (401): check FOREMAN_WORKER_TOKEN`
  if (Predicate.isTagged(error, "Forbidden")) return `${target} refused this caller (403): check FOREMAN_WORKER_TOKEN`
  if (error instanceof Error) return `${target}: ${error.message}`
  return `${target}: ${String(error)}`
}
