/**
 * Failures of calls made with derived HTTP clients: which are worth another
 * attempt (the request may never have arrived), and one readable line for each.
 */
import { HttpClientError } from "@effect/platform"
import { Errors } from "@foreman/core"
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
