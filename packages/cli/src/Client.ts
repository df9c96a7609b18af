/**
 * The coordinator's client as the CLI uses it: `@foreman/api`'s typed client
 * pointed at `--api-url` with the operator token, every call under a time
 * limit, and every failure turned into a `CommandFailed`: one line a person
 * reads plus hint lines.
 */
import { FetchHttpClient, type HttpClient, HttpClientError } from "@effect/platform"
import { type Api, Client as ApiClient } from "@foreman/api"
import { type Coordinator, Errors } from "@foreman/core"
import { Data, Duration, Effect, type Layer, Option, ParseResult, Predicate, type Redacted } from "effect"

/** The default coordinator URL. */
export const defaultApiUrl = "http://127.0.0.1:8000"

/** A command refused or failed: `message` is the one line, `hints` the lines under it. Exit code 1. */
export class CommandFailed extends Data.TaggedError("CommandFailed")<{
  readonly message: string
  readonly hints: ReadonlyArray<string>
}> {}

/**
 * A failure from the command line itself (a missing flag combination, a bad
 * setting…). Exit code 2. Its `hints` are printed under it; without them, a
 * pointer to the command's help.
 */
export class UsageError extends Data.TaggedError("UsageError")<{
  readonly message: string
  readonly hints?: ReadonlyArray<string>
}> {}

/** No answer within the time limit. */
class NoAnswer extends Data.TaggedError("NoAnswer")<{ readonly after: Duration.Duration }> {}

/** Where the coordinator is, how to authenticate, and how long a request may take (default `requestTimeout`). */
export interface Connection {
  readonly apiUrl: string
  readonly token: Option.Option<Redacted.Redacted>
  readonly timeout?: Duration.Duration
}

/** Under a refused connection: nothing listens there. */
const startHint = "Is it running? Start it with: npx foreman server"

/** Under a connection that failed otherwise: the address, or the way to it. */
const addressHint = "Check --api-url (FOREMAN_API_URL) and the network between here and the coordinator."

/** Under a request the coordinator took but never answered. */
const noAnswerHint =
  "It accepted the connection but did not answer: it may be overloaded or stuck (its log says why); " +
  "FOREMAN_REQUEST_TIMEOUT_SECONDS waits longer."

/** Under a trigger that may have reached the coordinator. */
const mayHaveStartedHint = "The research may have started: check `foreman agent status` before triggering again."

/** The first `code` (ECONNREFUSED, ENOTFOUND, …) found down an error's `cause` chain. */
const errorCode = (error: unknown): string | undefined => {
  let current: unknown = error
  for (let depth = 0; depth < 6 && Predicate.isObject(current); depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { readonly cause?: unknown }).cause
  }
  return undefined
}

const innermostMessage = (error: unknown): string => {
  let current: unknown = error
  let message = "connection failed"
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (current.message !== "") message = current.message
    current = (current as { readonly cause?: unknown }).cause
  }
  return message
}

const networkReason = (cause: unknown): string => {
  switch (errorCode(cause)) {
    case "ECONNREFUSED":
      return "connection refused"
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found"
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return "connection reset"
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connection timed out"
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable"
    default:
      return innermostMessage(cause)
  }
}

/** What the CLI says under a refused trigger (the seeds' texts). */
const refusalHints = (error: Errors.AtCapacity | Errors.BudgetExhausted): ReadonlyArray<string> =>
  error._tag === "AtCapacity"
    ? ["Use --force to override limit"]
    : [
      `Active researches (${error.active}) will complete, but no new triggers accepted.`,
      "Use --force to override budget check"
    ]

/** One readable failure for any error of a call to the coordinator at `apiUrl`. */
export const describe = (apiUrl: string, error: unknown): CommandFailed => {
  const fail = (message: string, ...hints: ReadonlyArray<string>) => new CommandFailed({ message, hints })
  if (error instanceof CommandFailed) return error
  if (error instanceof Errors.AtCapacity || error instanceof Errors.BudgetExhausted) {
    return fail(error.message, ...refusalHints(error))
  }
  if (error instanceof Errors.StorageError) {
    return fail(error.message, "The coordinator's storage is unavailable or busy: try again in a moment.")
  }
  if (
    error instanceof Errors.ResearchNotFound || error instanceof Errors.NotCancellable || error instanceof Errors.CancelConflict ||
    error instanceof Errors.InvalidInput || error instanceof Errors.WorkerNotFound ||
    error instanceof Errors.StrategyNotFound
  ) {
    return fail(error.message)
  }
  if (Predicate.isTagged(error, "Unavailable")) {
    return fail(`The coordinator at ${apiUrl} could not answer (503): ${messageOf(error)}`, "Its log says why.")
  }
  if (error instanceof NoAnswer) {
    return fail(`No answer from the coordinator at ${apiUrl} within ${Duration.format(error.after)}`, noAnswerHint)
  }
  if (error instanceof HttpClientError.RequestError) {
    return error.reason === "Transport"
      ? fail(
        `Cannot reach the coordinator at ${apiUrl} (${networkReason(error.cause)})`,
        errorCode(error.cause) === "ECONNREFUSED" ? startHint : addressHint
      )
      : fail(`Cannot send the request to ${apiUrl}: ${error.description ?? error.reason}`, "Check --api-url (FOREMAN_API_URL).")
  }
  if (error instanceof HttpClientError.ResponseError) {
    return fail(
      `Unexpected answer from ${apiUrl}: HTTP ${error.response.status}`,
      "Is --api-url (FOREMAN_API_URL) the address of a Foreman coordinator?"
    )
  }
  if (Predicate.isTagged(error, "Unauthorized")) {
    return fail(
      `The coordinator at ${apiUrl} rejected the request (401): ${messageOf(error)}`,
      "Set FOREMAN_API_TOKEN (or pass --token) to the coordinator's operator token."
    )
  }
  if (Predicate.isTagged(error, "Forbidden")) {
    return fail(
      `The coordinator at ${apiUrl} refused the request (403): ${messageOf(error)}`,
      "Use the operator token (FOREMAN_API_TOKEN), not the worker token."
    )
  }
  if (ParseResult.isParseError(error)) {
    return fail(
      `Unreadable answer from ${apiUrl}: ${Errors.describeParseError(error)}`,
      "Are the CLI and the coordinator the same version?"
    )
  }
  return fail(`Request to ${apiUrl} failed: ${messageOf(error)}`)
}

/** A readable line for any failure or defect: its message, else its tag, else its JSON; never `[object Object]`. */
export const messageOf = (error: unknown): string => {
  if (Predicate.hasProperty(error, "message") && typeof error.message === "string" && error.message !== "") {
    return error.message
  }
  if (typeof error === "string") return error
  if (Predicate.hasProperty(error, "_tag") && typeof error._tag === "string") return error._tag
  if (Predicate.isObject(error) && !(error instanceof Error)) {
    try {
      const json = JSON.stringify(error)
      if (json !== undefined) return json === "{}" ? "unknown error" : json
    } catch {
      // Circular: nothing better to say than that it is an object.
    }
    return "unknown error"
  }
  return String(error)
}

/** A connected client: the typed API plus `call`, which limits time and describes failures. */
export interface Client {
  readonly apiUrl: string
  readonly api: ApiClient.ApiClient
  /** Runs one call: fails with `CommandFailed` after the connection's timeout or on any error. */
  readonly call: <A, E>(request: Effect.Effect<A, E>) => Effect.Effect<A, CommandFailed>
  /**
   * Triggers a research under a fresh `Idempotency-Key`, sent once more with
   * the same key after a 503 or a network error, both attempts within the
   * connection's timeout. When the trigger may have reached the coordinator
   * (no answer, or a failed retry), the failure says to check before
   * triggering again.
   */
  readonly trigger: (
    payload: Coordinator.TriggerRequest
  ) => Effect.Effect<typeof Api.TriggerAccepted.Type, CommandFailed>
}

/** How long one call may take, by default. */
export const requestTimeout = Duration.seconds(10)

/** Whether the coordinator may have done the request: it may have, unless it was never reached. */
const mayHaveArrived = (error: unknown): boolean => {
  if (!(error instanceof HttpClientError.RequestError)) return true
  const code = errorCode(error.cause)
  return code !== "ECONNREFUSED" && code !== "ENOTFOUND" && code !== "EAI_AGAIN"
}

const limited = (after: Duration.Duration) => <A, E>(request: Effect.Effect<A, E>) =>
  Effect.timeoutFail(request, { duration: after, onTimeout: () => new NoAnswer({ after }) })

/** A client of the coordinator at `connection.apiUrl`; needs an `HttpClient`. */
export const make = (connection: Connection): Effect.Effect<Client, CommandFailed, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const apiUrl = ApiClient.baseUrl(connection.apiUrl)
    if (!URL.canParse(apiUrl) || !/^https?:$/.test(new URL(apiUrl).protocol)) {
      return yield* new CommandFailed({
        message: `Not an http(s) URL: ${connection.apiUrl}`,
        hints: ["Pass --api-url http://host:8000 (or set FOREMAN_API_URL)."]
      })
    }
    const client = yield* ApiClient.make({ url: apiUrl, token: Option.getOrUndefined(connection.token) })
    const within = limited(connection.timeout ?? requestTimeout)
    return {
      apiUrl,
      api: client.api,
      call: (request) => Effect.mapError(within(request), (error) => describe(apiUrl, error)),
      trigger: (payload) =>
        Effect.mapError(within(client.trigger(payload)), (error) => {
          const failed = describe(apiUrl, error)
          if (error instanceof NoAnswer) return new CommandFailed({ message: failed.message, hints: [mayHaveStartedHint] })
          if (!ApiClient.isRetryable(error) || !mayHaveArrived(error)) return failed
          return new CommandFailed({ message: failed.message, hints: [...failed.hints, mayHaveStartedHint] })
        })
    } satisfies Client
  })

/** The HTTP client the CLI uses (fetch). */
export const layerHttp: Layer.Layer<HttpClient.HttpClient> = FetchHttpClient.layer
