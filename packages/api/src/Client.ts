/**
 * The coordinator's typed Effect client, derived from `Api.ForemanApi`:
 * pointed at a coordinator's URL with the operator token as bearer. A
 * trigger carries an `Idempotency-Key` and is sent a second time after a 503
 * or a network error, so an answer lost on the way never starts a research
 * twice. The CLI and the Promise client are both built on it.
 */
import { HttpApiClient, HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import { type Coordinator, Errors } from "@foreman/core"
import { Context, Duration, Effect, Either, identity, Layer, Predicate, Redacted } from "effect"
import { ForemanApi, idempotencyKeyHeader, type TriggerAccepted } from "./Api.js"

/** Where the coordinator is and how to authenticate. */
export interface ClientOptions {
  /** The coordinator's base URL, e.g. `http://127.0.0.1:8000` (a trailing `/api/v1` is accepted). */
  readonly url: string
  /** The operator token, when the coordinator has one. */
  readonly token?: string | Redacted.Redacted | undefined
}

const makeApi = (
  options: ClientOptions,
  headers: Record<string, string> = {},
  transform: (client: HttpClient.HttpClient) => HttpClient.HttpClient = identity
) =>
  HttpApiClient.make(ForemanApi, {
    baseUrl: baseUrl(options.url),
    transformClient: (client) =>
      transform(HttpClient.mapRequest(client, (request) => {
        const token = options.token === undefined ? undefined : Redacted.isRedacted(options.token)
          ? Redacted.value(options.token)
          : options.token
        return HttpClientRequest.setHeaders(
          token === undefined ? request : HttpClientRequest.bearerToken(request, token),
          headers
        )
      }))
  })

/** The client derived from `ForemanApi`: one method per endpoint, grouped (`agent`, `workers`, `health`). */
export type ApiClient = Effect.Effect.Success<ReturnType<typeof makeApi>>

/** A coordinator client. */
export interface ClientShape {
  /** The coordinator's base URL, normalised. */
  readonly url: string
  /** Every endpoint, typed. */
  readonly api: ApiClient
  /**
   * Triggers a research under an `Idempotency-Key` (the request's `requestId`,
   * or a fresh one), sent once more with the same key after a 503 or a network
   * error.
   */
  readonly trigger: (
    request: Coordinator.TriggerRequest
  ) => Effect.Effect<typeof TriggerAccepted.Type, TriggerError>
}

/** How a trigger can fail. */
export type TriggerError = ApiClient["agent"]["trigger"] extends (...args: ReadonlyArray<never>) => Effect.Effect<
  unknown,
  infer E
> ? E
  : never

export class Client extends Context.Tag("@foreman/api/Client")<Client, ClientShape>() {}

/** The base URL without trailing slashes or `/api/v1`. */
export const baseUrl = (url: string): string => url.replace(/\/+$/, "").replace(/\/api\/v1$/, "")

/** The pause before a trigger is sent again. */
export const triggerRetryPause = Duration.millis(500)

/** A 503 or a network error: worth sending again (with the same key: the first may have been done). */
export const isRetryable = (error: unknown): boolean =>
  error instanceof Errors.StorageError ||
  Predicate.isTagged(error, "Unavailable") ||
  (error instanceof HttpClientError.RequestError && error.reason === "Transport") ||
  (error instanceof HttpClientError.ResponseError && error.response.status === 503)

/**
 * Sends a request once more after `triggerRetryPause` when it answered 503 or
 * did not get through. This works on the response, before it is decoded: a
 * 503 from a proxy in front of the coordinator has no body the API can decode.
 */
const sendAgainOnce = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.transformResponse(client, (send) =>
    Effect.flatMap(Effect.either(send), (outcome) =>
      (Either.isRight(outcome) ? outcome.right.status === 503 : isRetryable(outcome.left))
        ? Effect.zipRight(Effect.sleep(triggerRetryPause), send)
        : outcome))

/** A client of the coordinator at `options.url`; needs an `HttpClient`. */
export const make = (options: ClientOptions): Effect.Effect<ClientShape, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const api = yield* makeApi(options)
    const http = yield* HttpClient.HttpClient
    return {
      url: baseUrl(options.url),
      api,
      trigger: (payload) =>
        Effect.gen(function*() {
          // A request id in the payload is the key: the server refuses a header that differs from it.
          const key = payload.requestId ?? crypto.randomUUID()
          const keyed = yield* makeApi(options, { [idempotencyKeyHeader]: key }, sendAgainOnce).pipe(
            Effect.provideService(HttpClient.HttpClient, http)
          )
          return yield* keyed.agent.trigger({ payload })
        })
    }
  })

/** The client as a layer. */
export const layer = (options: ClientOptions): Layer.Layer<Client, never, HttpClient.HttpClient> =>
  Layer.effect(Client, make(options))
