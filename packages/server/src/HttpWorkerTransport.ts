/**
 * The coordinator's `WorkerTransport` over HTTP, through a client derived from
 * `WorkerApi`: dispatch is `POST {endpoint}/jobs` (idempotent by job id on the
 * worker), cancel is `DELETE {endpoint}/jobs/{id}`, status is
 * `GET {endpoint}/jobs/{id}`. Each request has a time limit and is retried with
 * exponential backoff when the network fails (never on an answer such as a
 * 4xx). A worker that refuses a job (503) fails at once so the coordinator can
 * try another. Every failure becomes core's `DispatchError` with a readable
 * reason; one without an answer says whether any attempt may have reached the
 * worker (`unreachable`: `unsent` when none connected, else `unanswered`), so
 * the coordinator knows whether the worker may have the job.
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { type Domain, Errors, WorkerTransport } from "@foreman/core"
import type { ConfigError } from "effect"
import { Duration, Effect, Layer, Option, Redacted, Schedule } from "effect"
import * as HttpFailure from "@foreman/api/HttpFailure"
import { WorkerConfig } from "@foreman/worker"
import { type JobState, UnknownJob, WorkerApi, WorkerUnavailable } from "@foreman/api/WorkerApi"

export interface Options {
  /** Time limit of one request (default 5 s). */
  readonly timeout?: Duration.DurationInput
  /** Further attempts after a network failure or time-out (default 3). */
  readonly retries?: number
  /** Pause before the first retry, doubling after each (default 200 ms). */
  readonly backoff?: Duration.DurationInput
  /** Bearer token sent to workers (default: `FOREMAN_WORKER_TOKEN`, when set). */
  readonly token?: Redacted.Redacted
}

const makeClient = (httpClient: HttpClient.HttpClient, endpoint: string, token: Option.Option<Redacted.Redacted>) =>
  HttpApiClient.make(WorkerApi, {
    baseUrl: endpoint.replace(/\/+$/, ""),
    transformClient: Option.match(token, {
      onNone: () => (client: HttpClient.HttpClient) => client,
      onSome: (secret) => HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(secret)))
    })
  }).pipe(Effect.provideService(HttpClient.HttpClient, httpClient))

type Client = Effect.Effect.Success<ReturnType<typeof makeClient>>

/** Maps what the worker said (or did not) to a report, as core expects. */
export const toReport = (workerId: Domain.WorkerId, state: JobState): Domain.JobReport => {
  switch (state.status) {
    case "pending":
    case "running":
      return {
        _tag: "Progress",
        jobId: state.jobId,
        workerId,
        progress: Math.min(1, Math.max(0, state.progress)),
        ...(state.message === undefined ? {} : { message: state.message.slice(0, 1000) })
      }
    case "completed":
      return { _tag: "Completed", jobId: state.jobId, workerId, result: state.result }
    case "failed":
      return { _tag: "Failed", jobId: state.jobId, workerId, error: (state.error ?? "failed on the worker").slice(0, 10_000) }
    case "cancelled":
      return {
        _tag: "Failed",
        jobId: state.jobId,
        workerId,
        error: `cancelled on worker ${workerId}${state.error === undefined ? "" : `: ${state.error}`}`.slice(0, 10_000)
      }
  }
}

/** A worker that said it is full or shutting down refused for now: a scheduling fact, not a failure. */
const refusal = (error: unknown): { readonly refused?: "full" | "draining" } =>
  error instanceof WorkerUnavailable && (error.reason === "full" || error.reason === "draining")
    ? { refused: error.reason }
    : {}

/**
 * A failure without an answer, after attempts of which some may have reached
 * the worker (`reached`): `unsent` when none can have, else `unanswered`.
 */
const unreachable = (error: unknown, reached: boolean): { readonly unreachable?: "unsent" | "unanswered" } =>
  HttpFailure.isNetworkFailure(error) ? { unreachable: reached ? "unanswered" : "unsent" } : {}

/** Makes the transport; the token comes from `options` or `FOREMAN_WORKER_TOKEN`. */
export const make = (
  options: Options = {}
): Effect.Effect<WorkerTransport.WorkerTransportShape, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const httpClient = yield* HttpClient.HttpClient
    const token = options.token === undefined ? yield* WorkerConfig.tokenConfig : Option.some(options.token)
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(5))
    const retries = options.retries ?? 3
    const backoff = Duration.decode(options.backoff ?? Duration.millis(200))
    const clients = new Map<string, Client>()

    const clientFor = (worker: Domain.Worker) =>
      Effect.suspend(() => {
        const cached = clients.get(worker.endpoint)
        if (cached !== undefined) return Effect.succeed(cached)
        return Effect.tap(makeClient(httpClient, worker.endpoint, token), (client) =>
          Effect.sync(() => clients.set(worker.endpoint, client)))
      })

    const describe = (worker: Domain.Worker, attempts: number, error: unknown): string => {
      if (error instanceof WorkerUnavailable) return `worker refused the job (503): ${error.message}`
      const reason = HttpFailure.describe(worker.endpoint, error)
      return HttpFailure.isNetworkFailure(error)
        ? `${reason} (${attempts === 1 ? "1 attempt" : `${attempts} attempts`})`
        : reason
    }

    /** One call with its time limit and network retries; failures become `DispatchError`. */
    const call = <A, E>(worker: Domain.Worker, request: (client: Client) => Effect.Effect<A, E>) =>
      Effect.gen(function*() {
        const client = yield* clientFor(worker)
        let attempts = 0
        // Whether an attempt may have reached the worker: every one that failed after connecting, or timed out.
        let reached = false
        return yield* Effect.suspend(() => {
          attempts++
          return request(client)
        }).pipe(
          Effect.timeoutFail({ duration: timeout, onTimeout: () => new HttpFailure.RequestTimeout({ after: timeout }) }),
          Effect.tapError((error) => Effect.sync(() => reached ||= !HttpFailure.isUnconnected(error))),
          Effect.retry({ schedule: Schedule.exponential(backoff), times: retries, while: HttpFailure.isNetworkFailure }),
          Effect.mapError((error) =>
            new Errors.DispatchError({
              workerId: worker.id,
              reason: describe(worker, attempts, error),
              ...refusal(error),
              ...unreachable(error, reached)
            })
          )
        )
      })

    return WorkerTransport.WorkerTransport.of({
      dispatch: Effect.fn("HttpWorkerTransport.dispatch")(function*(worker: Domain.Worker, spec: Domain.JobSpec) {
        yield* call(worker, (client) => client.jobs.submit({ payload: spec }))
      }),
      cancel: Effect.fn("HttpWorkerTransport.cancel")(function*(worker: Domain.Worker, jobId: Domain.JobId) {
        // A job the worker does not know is not running there: nothing to cancel.
        yield* call(worker, (client) =>
          client.jobs.cancel({ path: { jobId } }).pipe(
            Effect.asVoid,
            Effect.catchIf((error) => error instanceof UnknownJob, () => Effect.void)
          ))
      }),
      status: Effect.fn("HttpWorkerTransport.status")(function*(worker: Domain.Worker, jobId: Domain.JobId) {
        return yield* call(worker, (client) =>
          client.jobs.get({ path: { jobId } }).pipe(
            Effect.map((state) => Option.some(toReport(worker.id, state))),
            Effect.catchIf((error) => error instanceof UnknownJob, () => Effect.succeedNone)
          ))
      })
    })
  })

/** The transport with its defaults; needs an `HttpClient`. */
export const layer: Layer.Layer<WorkerTransport.WorkerTransport, ConfigError.ConfigError, HttpClient.HttpClient> =
  Layer.effect(WorkerTransport.WorkerTransport, make())

/** The transport with chosen time limit, retries, backoff or token. */
export const layerWith = (
  options: Options
): Layer.Layer<WorkerTransport.WorkerTransport, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(WorkerTransport.WorkerTransport, make(options))

/** The transport over Node's HTTP client. */
export const layerNode: Layer.Layer<WorkerTransport.WorkerTransport, ConfigError.ConfigError> = layer.pipe(
  Layer.provide(NodeHttpClient.layerUndici)
)
