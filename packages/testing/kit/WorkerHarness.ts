/**
 * Test harness for the worker side over real HTTP on 127.0.0.1: a fake
 * coordinator implementing only the `workers` group of `ForemanApi` (recording
 * every call), and a helper that starts a `WorkerHost` on an OS-chosen port
 * with short intervals.
 */
import { HttpApi, HttpApiBuilder, HttpApiClient, HttpApiError, HttpServer } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { type Domain, Errors, type WorkerRegistry } from "@foreman/core"
import { Context, Duration, Effect, Exit, Layer, Option, Redacted, Scope } from "effect"
import { createServer } from "node:http"
import { Api, WorkerApi } from "@foreman/api"
import { WorkerConfig, WorkerHost } from "@foreman/worker"

/** The coordinator's contract reduced to what workers call. */
class FakeCoordinatorApi extends HttpApi.make("fake-coordinator").add(Api.WorkersGroup).prefix("/api/v1") {}

export interface ReportCall {
  readonly workerId: string
  readonly jobId: string
  readonly body: typeof Api.ReportBody.Type
}

/** Everything the fake coordinator was told, in order. */
export interface Calls {
  readonly registrations: Array<WorkerRegistry.Registration>
  readonly heartbeats: Array<string>
  /** Every registration and heartbeat attempt: when (ms), and the credential a heartbeat presented. */
  readonly contacts: Array<{ readonly at: number; readonly kind: "register" | "heartbeat"; readonly secret?: string }>
  readonly reports: Array<ReportCall>
  /** Deregistrations that presented the latest registration's credential. */
  readonly deregistrations: Array<string>
  /** Bearer tokens presented, in order. */
  readonly tokens: Array<string>
}

export const makeCalls = (): Calls => ({
  registrations: [],
  heartbeats: [],
  contacts: [],
  reports: [],
  deregistrations: [],
  tokens: []
})

export interface FakeCoordinator {
  readonly url: string
  readonly port: number
  readonly calls: Calls
  /** Forgets a worker: its next heartbeat gets 404 (WorkerNotFound). */
  readonly forget: (workerId: string) => void
  /** Says a job is not the worker's: the next registration that lists it answers `cancel`. */
  readonly disown: (jobId: string) => void
  /** Declares a job lost at the next registration (as when a dispatch crosses it): the answer cancels it. */
  readonly loseOnRegistration: (jobId: string) => void
  /**
   * Refuses the reports for which `refusal` gives a message, with 400 (HttpApiDecodeError) as the
   * coordinator does for a body it cannot accept; refused reports are recorded too.
   */
  readonly refuseReports: (refusal: (body: typeof Api.ReportBody.Type) => string | undefined) => void
  /** Sets the longest re-registration backoff the registration answers tolerate (30 s by default). */
  readonly tolerate: (seconds: number) => void
  /** Answers reports only after `ms` (a slow coordinator). */
  readonly delayReports: (ms: number) => void
  /** Answers registrations and heartbeats 503 (storage unreachable) while set. */
  readonly unavailable: (yes: boolean) => void
  /** Stops serving (the port closes). */
  readonly stop: Effect.Effect<void>
}

const now = () => Date.now()

const workerOf = (registration: WorkerRegistry.Registration): Domain.Worker => ({
  id: registration.id,
  type: registration.type,
  endpoint: registration.endpoint ?? "",
  protocol: registration.endpoint === undefined ? "pull" : "push",
  status: "available",
  capacity: registration.capacity,
  currentJobs: registration.runningJobs as ReadonlyArray<Domain.JobId>,
  capabilities: registration.capabilities,
  registeredAt: now(),
  lastHeartbeatAt: now()
})

const jobOf = (workerId: Domain.WorkerId, jobId: Domain.JobId, body: typeof Api.ReportBody.Type): Domain.Job => ({
  id: jobId,
  researchId: "op_test" as Domain.ResearchId,
  kind: "training",
  phase: "training",
  workerType: "training",
  workerId,
  status: body._tag === "Progress" ? "running" : body._tag === "Completed" ? "completed" : "failed",
  attempt: 1,
  progress: body._tag === "Progress" ? body.progress : 1,
  message: null,
  input: null,
  result: body._tag === "Completed" ? body.result : null,
  usage: null,
  error: body._tag === "Failed" ? body.error : null,
  epoch: 0,
  createdAt: 0,
  updatedAt: now(),
  finishedAt: null
})

/** Starts a fake coordinator on `port` (0: the system chooses), recording into `calls`. */
export const startCoordinator = (options: { readonly port?: number; readonly calls?: Calls } = {}) =>
  Effect.gen(function*() {
    const calls = options.calls ?? makeCalls()
    const workers = new Map<string, Domain.Worker>()
    const disowned = new Set<string>()
    const lost = new Set<string>()
    let refusal: (body: typeof Api.ReportBody.Type) => string | undefined = () => undefined
    let retryWithinSeconds = 30
    let unavailable = false
    let reportDelayMs = 0
    /** The credential each worker's latest registration was handed, checked as the real coordinator does. */
    const secrets = new Map<string, string>()

    const workersLive = HttpApiBuilder.group(FakeCoordinatorApi, "workers", (handlers) =>
      handlers
        .handle("register", ({ payload }) =>
          Effect.suspend(() => {
            calls.contacts.push({ at: now(), kind: "register" })
            if (unavailable) return Effect.fail(new Errors.StorageError({ reason: "database unreachable" }))
            calls.registrations.push(payload)
            const worker = workerOf(payload)
            workers.set(worker.id, worker)
            const cancel = [...payload.runningJobs.filter((id) => disowned.has(id)), ...lost]
            lost.clear()
            const secret = `secret-${calls.registrations.length}`
            secrets.set(worker.id, secret)
            return Effect.succeed({ worker, cancel, secret, retryWithinSeconds })
          }))
        .handle("heartbeat", ({ headers, path }) =>
          Effect.suspend((): Effect.Effect<typeof Api.HeartbeatAnswer.Type, Errors.WorkerNotFound | Errors.StorageError> => {
            calls.heartbeats.push(path.workerId)
            const secret = headers["x-foreman-worker-secret"]
            calls.contacts.push({ at: now(), kind: "heartbeat", ...(secret === undefined ? {} : { secret }) })
            if (unavailable) return Effect.fail(new Errors.StorageError({ reason: "database unreachable" }))
            const worker = workers.get(path.workerId)
            return worker === undefined
              ? Effect.fail(new Errors.WorkerNotFound({ workerId: path.workerId }))
              : Effect.succeed({ ...worker, stop: [] })
          }))
        .handle("poll", ({ path, payload }) =>
          Effect.suspend(() => {
            if (!workers.has(path.workerId)) return Effect.fail(new Errors.WorkerNotFound({ workerId: path.workerId }))
            return Effect.as(Effect.sleep(`${Math.max(50, (payload.waitSeconds ?? 20) * 1000)} millis`), { jobs: [], stop: [] })
          }))
        .handle("deregister", ({ headers, path }) =>
          Effect.suspend((): Effect.Effect<void, Errors.WorkerNotFound | Errors.WorkerNotAuthenticated> => {
            if (headers["x-foreman-worker-secret"] !== secrets.get(path.workerId)) {
              return Effect.fail(new Errors.WorkerNotAuthenticated({ workerId: path.workerId }))
            }
            calls.deregistrations.push(path.workerId)
            return workers.delete(path.workerId) ? Effect.void : Effect.fail(new Errors.WorkerNotFound({ workerId: path.workerId }))
          }))
        .handle("list", () => Effect.sync(() => Array.from(workers.values())))
        .handle("get", ({ path }) =>
          Option.match(Option.fromNullable(workers.get(path.workerId)), {
            onNone: () => Effect.fail(new Errors.WorkerNotFound({ workerId: path.workerId })),
            onSome: Effect.succeed
          }))
        .handle("report", ({ path, payload }) =>
          Effect.suspend(() => {
            calls.reports.push({ workerId: path.workerId, jobId: path.jobId, body: payload })
            const refused = refusal(payload)
            const answer = refused === undefined
              ? Effect.succeed(jobOf(path.workerId, path.jobId, payload))
              : Effect.fail(new HttpApiError.HttpApiDecodeError({ issues: [], message: refused }))
            return Effect.delay(answer, Duration.millis(reportDelayMs))
          })))

    const authLive = Layer.succeed(
      Api.Authorization,
      Api.Authorization.of({
        bearer: (token) =>
          Effect.sync(() => {
            calls.tokens.push(Redacted.value(token))
            return { operator: false, worker: true, speaksFor: () => true }
          })
      })
    )

    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(
      HttpApiBuilder.serve().pipe(
        Layer.provide(HttpApiBuilder.api(FakeCoordinatorApi)),
        Layer.provide(workersLive),
        Layer.provide(authLive),
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port ?? 0, host: "127.0.0.1" }))
      ),
      scope
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    const port = address._tag === "TcpAddress" ? address.port : 0
    const stop = Scope.close(scope, Exit.void)
    yield* Effect.addFinalizer(() => stop)
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      calls,
      forget: (workerId) => void workers.delete(workerId),
      disown: (jobId) => void disowned.add(jobId),
      loseOnRegistration: (jobId) => void lost.add(jobId),
      refuseReports: (refuse) => void (refusal = refuse),
      tolerate: (seconds) => void (retryWithinSeconds = seconds),
      unavailable: (yes) => void (unavailable = yes),
      delayReports: (ms) => void (reportDelayMs = ms),
      stop
    } satisfies FakeCoordinator
  })

/** Short intervals so a whole suite runs in seconds. */
export const fastSettings = {
  type: "training",
  id: "trainer-1",
  host: "127.0.0.1",
  port: 0,
  heartbeatIntervalSeconds: 0.1,
  registerBackoffSeconds: 0.05,
  registerBackoffMaxSeconds: 0.2,
  requestTimeoutSeconds: 1,
  drainDeadlineSeconds: 0.3,
  maxRetries: 0
} as const

const makeWorkerClient = (baseUrl: string) => HttpApiClient.make(WorkerApi.WorkerApi, { baseUrl })

/** A typed client of a worker's API. */
export type WorkerClient = Effect.Effect.Success<ReturnType<typeof makeWorkerClient>>

export interface RunningWorker {
  readonly host: WorkerHost.WorkerHostShape
  readonly config: WorkerConfig.WorkerConfigShape
  /** A client of the worker's own API, as the coordinator would use. */
  readonly client: WorkerClient
  /** Closes the worker's scope: it drains, then stops serving. */
  readonly stop: Effect.Effect<void>
}

/** Starts a worker with `fn` against the coordinator at `apiUrl`, on an OS-chosen port. */
export const startWorker = (
  fn: WorkerHost.WorkerFunction,
  settings: Partial<Parameters<typeof WorkerConfig.make>[0]> & { readonly apiUrl: string }
) =>
  Effect.gen(function*() {
    const config = WorkerConfig.make({ ...fastSettings, ...settings })
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(
      WorkerHost.layer(fn, config).pipe(
        Layer.provide(NodeHttpServer.layer(createServer, { port: config.port, host: config.host })),
        Layer.provide(NodeHttpClient.layerUndici)
      ),
      scope
    )
    const host = Context.get(context, WorkerHost.WorkerHost)
    const httpClient = yield* Layer.build(NodeHttpClient.layerUndici)
    const client = yield* makeWorkerClient(host.endpoint).pipe(Effect.provide(httpClient))
    const stop = Scope.close(scope, Exit.void)
    yield* Effect.addFinalizer(() => stop)
    return { host, config, client, stop } satisfies RunningWorker
  })

/** Polls `check` every few milliseconds until it holds (or dies after `within`). */
export const eventually = (check: () => boolean, within: Duration.DurationInput = Duration.seconds(5)) =>
  Effect.gen(function*() {
    const deadline = Date.now() + Duration.toMillis(Duration.decode(within))
    while (!check()) {
      if (Date.now() > deadline) return yield* Effect.dieMessage("condition never held")
      yield* Effect.sleep(Duration.millis(5))
    }
  })

let counter = 0
/** A job spec with a fresh id. */
export const jobSpec = (input: unknown = null, kind = "training"): Domain.JobSpec => ({
  jobId: `job_t${++counter}_${Math.floor(Math.random() * 1e6)}` as Domain.JobId,
  researchId: "op_test" as Domain.ResearchId,
  kind,
  attempt: 1,
  input
})
