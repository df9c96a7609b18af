/**
 * Test harness for the worker side over real HTTP on 127.0.0.1: a fake
 * coordinator implementing only the `workers` group of `ForemanApi` (recording
 * every call; its polls hand pull workers the jobs a test offers), and helpers
 * that start a `WorkerHost` (pull, or push on an OS-chosen port) with short
 * intervals.
 */
import { HttpApi, HttpApiBuilder, HttpApiClient, HttpApiError, HttpServer } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { type Domain, Errors, type WorkerRegistry } from "@foreman/core"
import { Context, Deferred, Duration, Effect, Exit, FiberId, Layer, Option, Redacted, Scope } from "effect"
import { createServer } from "node:http"
import { Api, WorkerApi } from "@foreman/api"
import { WorkerConfig, WorkerHost } from "@foreman/worker"

/** The coordinator's contract reduced to what workers call. */
class FakeCoordinatorApi extends HttpApi.make("fake-coordinator").add(Api.WorkersGroup).prefix("/api/v1") {}

export interface ReportCall {
  readonly workerId: string
  readonly jobId: string
  readonly body: typeof Api.ReportBody.Type
  /** Whether it came while another report of the same job was still unanswered (a worker sends one at a time). */
  readonly overlapped: boolean
}

export interface PollCall {
  readonly workerId: string
  /** The jobs the worker said it holds. */
  readonly running: ReadonlyArray<string>
  readonly waitSeconds: number
  /** A poll of its own, or the `next` of a final report. */
  readonly via: "poll" | "report"
}

/** Everything the fake coordinator was told, in order. */
export interface Calls {
  readonly registrations: Array<WorkerRegistry.Registration>
  readonly heartbeats: Array<string>
  /**
   * Every registration, heartbeat and poll attempt: when (ms), the credential a heartbeat
   * presented, and the jobs a heartbeat or poll listed as held.
   */
  readonly contacts: Array<{
    readonly at: number
    readonly kind: "register" | "heartbeat" | "poll"
    readonly secret?: string
    readonly running?: ReadonlyArray<string>
  }>
  readonly polls: Array<PollCall>
  /** Jobs handed over to workers, in order, and whether a poll or a final report's `next` carried each. */
  readonly handovers: Array<{ readonly jobId: string; readonly via: "poll" | "report" }>
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
  polls: [],
  handovers: [],
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
  /**
   * Assigns a job to a pull worker: the worker's next poll (or a waiting one) hands it over,
   * once per offer. Until the worker reports it finished, the job is the worker's.
   */
  readonly offer: (spec: Domain.JobSpec, workerId?: string) => void
  /** Cancels an offered job: heartbeats and polls listing it answer `stop`, its progress reports `cancelled`. */
  readonly cancel: (jobId: string) => void
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
    /** Per job, its reports not answered yet. */
    const unanswered = new Map<string, number>()
    /** The credential each worker's latest registration was handed, checked as the real coordinator does. */
    const secrets = new Map<string, string>()
    /** Offered jobs not yet reported finished: whose they are. */
    const assigned = new Map<string, string>()
    const cancelled = new Set<string>()
    /** Per worker, offers its polls have not handed over yet. */
    const offers = new Map<string, Array<Domain.JobSpec>>()
    /** Completed (and replaced) whenever offers or assignments change, waking waiting polls. */
    let changed = Deferred.unsafeMake<void>(FiberId.none)
    const signal = () => {
      Deferred.unsafeDone(changed, Exit.void)
      changed = Deferred.unsafeMake<void>(FiberId.none)
    }
    /** Held jobs that are no longer the worker's. */
    const toStop = (workerId: string, running: ReadonlyArray<string>) =>
      running.filter((jobId) => assigned.get(jobId) !== workerId)

    /** A poll: answers at once with offers or jobs to stop, else when one comes or the wait is over. */
    const poll = (workerId: Domain.WorkerId, body: typeof Api.PollBody.Type, via: PollCall["via"]) =>
      Effect.gen(function*() {
        const running = body.running ?? []
        const waitSeconds = body.waitSeconds ?? 20
        calls.polls.push({ workerId, running, waitSeconds, via })
        calls.contacts.push({ at: now(), kind: "poll", running })
        if (unavailable) return yield* new Errors.StorageError({ reason: "database unreachable" })
        if (!workers.has(workerId)) return yield* new Errors.WorkerNotFound({ workerId })
        const deadline = now() + waitSeconds * 1000
        for (;;) {
          const jobs = (offers.get(workerId) ?? []).splice(0)
          const stop = toStop(workerId, running)
          const left = deadline - now()
          if (jobs.length > 0 || stop.length > 0 || left <= 0) {
            for (const job of jobs) calls.handovers.push({ jobId: job.jobId, via })
            return { jobs, stop }
          }
          yield* Effect.raceFirst(Deferred.await(changed), Effect.sleep(Duration.millis(left)))
        }
      })

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
        .handle("heartbeat", ({ headers, path, payload }) =>
          Effect.suspend((): Effect.Effect<typeof Api.HeartbeatAnswer.Type, Errors.WorkerNotFound | Errors.StorageError> => {
            calls.heartbeats.push(path.workerId)
            const secret = headers["x-foreman-worker-secret"]
            calls.contacts.push({
              at: now(),
              kind: "heartbeat",
              ...(secret === undefined ? {} : { secret }),
              ...(payload.running === undefined ? {} : { running: payload.running })
            })
            if (unavailable) return Effect.fail(new Errors.StorageError({ reason: "database unreachable" }))
            const worker = workers.get(path.workerId)
            return worker === undefined
              ? Effect.fail(new Errors.WorkerNotFound({ workerId: path.workerId }))
              : Effect.succeed({ ...worker, stop: toStop(path.workerId, payload.running ?? []) })
          }))
        .handle("poll", ({ path, payload }) => poll(path.workerId, payload, "poll"))
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
          Effect.suspend((): Effect.Effect<
            typeof Api.ReportAnswer.Type,
            HttpApiError.HttpApiDecodeError | Errors.WorkerNotFound | Errors.StorageError
          > => {
            const pending = unanswered.get(path.jobId) ?? 0
            unanswered.set(path.jobId, pending + 1)
            calls.reports.push({ workerId: path.workerId, jobId: path.jobId, body: payload, overlapped: pending > 0 })
            const refused = refusal(payload)
            if (refused !== undefined) {
              return Effect.delay(
                Effect.fail(new HttpApiError.HttpApiDecodeError({ issues: [], message: refused })),
                Duration.millis(reportDelayMs)
              )
            }
            const job = jobOf(path.workerId, path.jobId, payload)
            if (payload._tag === "Progress") {
              const answer = cancelled.has(path.jobId) ? { ...job, status: "cancelled" as const } : job
              return Effect.delay(Effect.succeed(answer), Duration.millis(reportDelayMs))
            }
            if (assigned.delete(path.jobId)) signal()
            return Effect.delay(
              payload.next === undefined
                ? Effect.succeed(job)
                : Effect.map(poll(path.workerId, payload.next, "report"), (next) => ({ ...job, next })),
              Duration.millis(reportDelayMs)
            )
          }).pipe(Effect.ensuring(Effect.sync(() => unanswered.set(path.jobId, (unanswered.get(path.jobId) ?? 1) - 1))))))

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
      offer: (spec, workerId = "trainer-1") => {
        assigned.set(spec.jobId, workerId)
        offers.set(workerId, [...(offers.get(workerId) ?? []), spec])
        signal()
      },
      cancel: (jobId) => {
        assigned.delete(jobId)
        cancelled.add(jobId)
        signal()
      },
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
  pollWaitSeconds: 1,
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
  /** Closes the worker's scope: it drains, then stops. */
  readonly stop: Effect.Effect<void>
}

export interface RunningPushWorker extends RunningWorker {
  /** Where the worker serves. */
  readonly endpoint: string
  /** A client of the worker's own API, as the coordinator would use. */
  readonly client: WorkerClient
}

type WorkerSettings = Partial<Parameters<typeof WorkerConfig.make>[0]> & { readonly apiUrl: string }

/**
 * Starts a worker with `fn` against the coordinator at `apiUrl`, with the
 * protocol the settings name (pull by default; a push worker on an OS-chosen port).
 */
export const startWorker = (fn: WorkerHost.WorkerFunction, settings: WorkerSettings) =>
  Effect.gen(function*() {
    const config = WorkerConfig.make({ ...fastSettings, ...settings })
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(WorkerHost.layerNode(fn, config), scope).pipe(Effect.orDie)
    const host = Context.get(context, WorkerHost.WorkerHost)
    const stop = Scope.close(scope, Exit.void)
    yield* Effect.addFinalizer(() => stop)
    return { host, config, stop } satisfies RunningWorker
  })

/** Starts a push worker (the legacy protocol) with `fn` on an OS-chosen port, with a client of its API. */
export const startPushWorker = (fn: WorkerHost.WorkerFunction, settings: WorkerSettings) =>
  Effect.gen(function*() {
    const worker = yield* startWorker(fn, { ...settings, protocol: "push" })
    const endpoint = worker.host.endpoint
    if (endpoint === null) return yield* Effect.dieMessage("a push worker without an endpoint")
    const httpClient = yield* Layer.build(NodeHttpClient.layerUndici)
    const client = yield* makeWorkerClient(endpoint).pipe(Effect.provide(httpClient))
    return { ...worker, endpoint, client } satisfies RunningPushWorker
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
