/**
 * WorkerHost turns a function `(job, ctx) => Effect<result>` into a worker
 * process. It serves `WorkerApi` (submit is idempotent by job id; it refuses
 * with 503 while draining or when full), runs jobs on a `JobQueue` (bounded
 * parallelism, a pool of devices, queue-level retries), and keeps the
 * coordinator informed through a client derived from `ForemanApi`: it
 * registers with the jobs it runs and the results it could not deliver,
 * heartbeats, registers again when the coordinator forgets it or cannot be
 * reached (backoff 1 s doubling to 30 s), stops jobs the coordinator says are
 * not its own, and reports progress, completion and failure.
 *
 * Closing its scope (SIGTERM under `NodeRuntime.runMain`) drains it: new jobs
 * are refused, running jobs get the drain deadline to finish and be reported,
 * the rest are interrupted; a last registration with no running jobs tells the
 * coordinator which ones to run elsewhere, then the worker deregisters.
 */
import {
  HttpApiBuilder,
  HttpApiClient,
  HttpApiError,
  HttpClient,
  HttpClientRequest,
  HttpServer,
  type HttpServerError
} from "@effect/platform"
import { NodeHttpClient, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import type { Domain } from "@foreman/core"
import { Errors } from "@foreman/core"
import type { Scope } from "effect"
import {
  Clock,
  Context,
  Duration,
  Effect,
  Either,
  Fiber,
  FiberSet,
  Layer,
  Option,
  ParseResult,
  Predicate,
  Redacted,
  Schedule,
  Schema
} from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import { createServer } from "node:http"
import { Authorization, ForemanApi, PayloadTooLarge, ReportBody, Unauthorized, workerSecretHeader } from "@foreman/api/Api"
import * as HttpFailure from "@foreman/api/HttpFailure"
import { type JobState, UnknownJob, WorkerApi, WorkerUnavailable } from "@foreman/api/WorkerApi"
import * as JobQueue from "./JobQueue.js"
import * as WorkerConfig from "./WorkerConfig.js"

/** What a job is given besides its spec. */
export interface JobContext {
  readonly workerId: Domain.WorkerId
  /** 1 for the first run, 2 for the first queue-level retry, … */
  readonly attempt: number
  /** The device (or slot) borrowed for this run. */
  readonly device: string
  /** Reports progress (0–1) and an optional message to the coordinator. */
  readonly progress: (fraction: number, message?: string) => Effect.Effect<void>
}

/** The work a worker does. A failure (a message or an `Error`) is retried, then reported. */
export type WorkerFunction = (job: Domain.JobSpec, ctx: JobContext) => Effect.Effect<unknown, string | Error>

/** A running worker, for embedding and tests. */
export interface WorkerHostShape {
  readonly id: Domain.WorkerId
  readonly type: Domain.WorkerType
  /** The URL the coordinator reaches this worker at. */
  readonly endpoint: string
  readonly queue: JobQueue.JobQueue<Domain.JobSpec, unknown>
  readonly draining: Effect.Effect<boolean>
  /** Results the coordinator could not be given, held for the next registration. */
  readonly unreported: Effect.Effect<ReadonlyArray<Domain.JobReport>>
  /** Drains now (closing the scope does it too); idempotent. */
  readonly drain: Effect.Effect<void>
}

export class WorkerHost extends Context.Tag("@foreman/worker/WorkerHost")<WorkerHost, WorkerHostShape>() {}

/** How the coordinator should read one finished job. */
const finalReport = (
  workerId: Domain.WorkerId,
  entry: JobQueue.Entry<Domain.JobSpec, unknown>
): Option.Option<Domain.JobReport> => {
  const jobId = entry.input.jobId
  switch (entry.status) {
    case "completed":
      return Option.some({ _tag: "Completed", jobId, workerId, result: entry.result })
    case "failed":
      return Option.some({ _tag: "Failed", jobId, workerId, error: (entry.error ?? "failed").slice(0, 10_000) })
    default:
      return Option.none()
  }
}

/** A job as `WorkerApi` shows it. */
export const toJobState = (entry: JobQueue.Entry<Domain.JobSpec, unknown>): JobState => ({
  jobId: entry.input.jobId,
  status: entry.status,
  progress: entry.progress,
  attempts: entry.attempts,
  ...(entry.message === null ? {} : { message: entry.message }),
  ...(entry.status === "completed" && entry.result !== undefined ? { result: entry.result } : {}),
  ...((entry.status === "failed" || entry.status === "cancelled") && entry.error !== null ? { error: entry.error } : {})
})

const digest = (text: string) => createHash("sha256").update(text).digest()

/** Checks the coordinator's bearer token against `FOREMAN_WORKER_TOKEN` (anyone, when unset). */
const authorizationLayer = (token: Option.Option<Redacted.Redacted>) =>
  Layer.succeed(
    Authorization,
    Authorization.of({
      bearer: (presented) =>
        Option.match(token, {
          onNone: () => Effect.succeed({ operator: false, worker: true, speaksFor: () => true }),
          onSome: (expected) =>
            timingSafeEqual(digest(Redacted.value(presented)), digest(Redacted.value(expected)))
              ? Effect.succeed({ operator: false, worker: true, speaksFor: () => true })
              : Effect.fail(new Unauthorized({ message: "missing or wrong bearer token" }))
        })
    })
  )

/** Calls to the coordinator that failed because of the network or a passing coordinator trouble. */
const isPassing = (error: unknown): boolean =>
  HttpFailure.isNetworkFailure(error) ||
  Predicate.isTagged(error, "StorageError") ||
  // A registration of this worker crossed the call: the next registration's credential will do.
  Predicate.isTagged(error, "WorkerNotAuthenticated") ||
  (HttpFailure.statusOf(error) ?? 0) >= 500

/**
 * Starts a worker in the current scope: serves `WorkerApi` on the `HttpServer`,
 * talks to the coordinator through the `HttpClient`, and drains when the scope
 * closes.
 */
export const make = (
  fn: WorkerFunction,
  config: WorkerConfig.WorkerConfigShape
): Effect.Effect<WorkerHostShape, never, HttpServer.HttpServer | HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const workerId = config.id
    const endpoint = WorkerConfig.endpointUrl(
      config,
      server.address._tag === "TcpAddress" ? server.address.port : config.port
    )
    const coordinator = yield* HttpApiClient.make(ForemanApi, {
      baseUrl: config.apiUrl,
      transformClient: Option.match(config.token, {
        onNone: () => (client: HttpClient.HttpClient) => client,
        onSome: (secret) => HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(secret)))
      })
    })
    const requestTimeout = Duration.seconds(config.requestTimeoutSeconds)
    // Interruptible, so the time limit holds during the drain (finalizers run uninterruptibly).
    const limited = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.timeoutFail(Effect.interruptible(effect), {
        duration: requestTimeout,
        onTimeout: () => new HttpFailure.RequestTimeout({ after: requestTimeout })
      })
    const describe = (error: unknown) => HttpFailure.describe(config.apiUrl, error)

    let draining = false
    /** Finished jobs not yet acknowledged; `sending` while a delivery is under way. */
    const unreported = new Map<string, { readonly report: Domain.JobReport; sending: boolean }>()
    const deliveries = yield* FiberSet.make()
    const progressSends = yield* FiberSet.make()
    /** Per job: whether a progress report is in flight, and the latest one waiting behind it. */
    const progressState = new Map<string, { sending: boolean; next: Domain.JobReport | null }>()

    /** The credential of the latest registration, sent with every call about this worker. */
    let secret: string | undefined
    const credential = () => (secret === undefined ? {} : { [workerSecretHeader]: secret })

    const sendReport = (report: Domain.JobReport) =>
      Effect.suspend(() => {
        const request = { path: { workerId, jobId: report.jobId }, headers: credential() }
        switch (report._tag) {
          case "Progress":
            return coordinator.workers.report({
              ...request,
              payload: {
                _tag: "Progress",
                progress: report.progress,
                ...(report.message === undefined ? {} : { message: report.message })
              }
            }).pipe(limited)
          case "Completed":
            return coordinator.workers.report({ ...request, payload: { _tag: "Completed", result: report.result } })
              .pipe(limited)
          case "Failed":
            return coordinator.workers.report({ ...request, payload: { _tag: "Failed", error: report.error } }).pipe(limited)
        }
      })

    /** Sends the latest progress of a job, never more than one at a time per job. */
    const sendProgress = (entry: JobQueue.Entry<Domain.JobSpec, unknown>) =>
      Effect.suspend(() => {
        const report: Domain.JobReport = {
          _tag: "Progress",
          jobId: entry.input.jobId,
          workerId,
          progress: entry.progress,
          ...(entry.message === null ? {} : { message: entry.message.slice(0, 1000) })
        }
        const existing = progressState.get(entry.id)
        if (existing !== undefined && existing.sending) {
          existing.next = report
          return Effect.void
        }
        const state = { sending: true, next: null as Domain.JobReport | null }
        progressState.set(entry.id, state)
        const loop = (next: Domain.JobReport): Effect.Effect<void> =>
          sendReport(next).pipe(
            Effect.catchAll((error) => Effect.logDebug(`progress of ${next.jobId} not delivered: ${describe(error)}`)),
            Effect.zipRight(Effect.suspend(() => {
              const waiting = state.next
              state.next = null
              if (waiting === null) {
                state.sending = false
                return Effect.void
              }
              return loop(waiting)
            }))
          )
        return Effect.asVoid(FiberSet.run(progressSends, loop(report)))
      })

    /** The distinct messages of a refusal's issues, or its one message when it lists none. */
    const reasonOf = (issues: ReadonlyArray<{ readonly message: string }>, message: string): string =>
      issues.length === 0 ? message : Array.from(new Set(issues.map((issue) => issue.message))).join("; ")

    /** Why the contract refuses a report as it stands (text storage cannot keep, too long, not JSON), if it does. */
    const invalidity = (report: Domain.JobReport): Option.Option<string> => {
      try {
        return Either.match(Schema.validateEither(ReportBody)(report), {
          onLeft: (error) =>
            Option.some(reasonOf(ParseResult.ArrayFormatter.formatErrorSync(error), Errors.describeParseError(error))),
          onRight: () => Option.none()
        })
      } catch (cause) {
        // The storable check serializes: a BigInt or a cycle in a result throws.
        return Option.some(`result: not JSON (${cause instanceof Error ? cause.message : String(cause)})`)
      }
    }

    /** Why the coordinator refused a report as such (400: invalid body, 413: too large), if that is the failure. */
    const refusalOf = (error: unknown): Option.Option<string> => {
      if (error instanceof HttpApiError.HttpApiDecodeError) return Option.some(reasonOf(error.issues, error.message))
      if (error instanceof PayloadTooLarge) return Option.some(error.message)
      const status = HttpFailure.statusOf(error)
      return status === 400 || status === 413 ? Option.some(describe(error)) : Option.none()
    }

    /** Text storage can keep: NUL and lone surrogates become U+FFFD (one code unit each, so lengths hold). */
    const storableText = (text: string): string =>
      text.replaceAll("\u0000", "\ufffd").replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd")

    /** The failure that replaces a report the coordinator cannot accept: why, and the job's own error if it had one. */
    const refusedAsFailure = (report: Domain.JobReport, reason: string): Domain.JobReport => ({
      _tag: "Failed",
      jobId: report.jobId,
      workerId: report.workerId,
      error: storableText(
        (report._tag === "Failed"
          ? `the coordinator refused the job's report (${reason}); the job failed: ${report.error}`
          : `the coordinator refused the job's result: ${reason}`).slice(0, 10_000)
      )
    })

    /**
     * Delivers a final report; kept for the next registration when the coordinator cannot be told.
     * A report the coordinator cannot accept as such (invalid, too large) is never held, since
     * sending it again cannot help: the job is reported failed instead, saying why, once.
     */
    const deliver = (report: Domain.JobReport, replaceable = true): Effect.Effect<void> =>
      Effect.suspend(() => {
        const invalid = invalidity(report)
        return Option.isSome(invalid)
          ? refused(report, invalid.value, replaceable)
          : sendReport(report).pipe(
            Effect.retry({ schedule: Schedule.exponential(Duration.millis(100)), times: 2, while: isPassing }),
            Effect.matchEffect({
              onSuccess: () =>
                Effect.sync(() => {
                  if (unreported.get(report.jobId)?.report === report) unreported.delete(report.jobId)
                }),
              onFailure: (error) =>
                Effect.suspend(() => {
                  const held = unreported.get(report.jobId)
                  if (isPassing(error)) {
                    if (held !== undefined) held.sending = false
                    return Effect.logWarning(
                      `could not report job ${report.jobId} (${describe(error)}); will send it with the next registration`
                    )
                  }
                  const refusal = refusalOf(error)
                  if (Option.isSome(refusal)) return refused(report, refusal.value, replaceable)
                  // The coordinator answered and does not want this report (unknown job, not ours).
                  if (held?.report === report) unreported.delete(report.jobId)
                  return Effect.logWarning(`coordinator refused the report on job ${report.jobId}: ${describe(error)}`)
                })
            })
          )
      })

    /** A report the coordinator cannot accept: replaced by a failure saying why, or dropped if it was that failure. */
    const refused = (report: Domain.JobReport, reason: string, replaceable: boolean): Effect.Effect<void> =>
      Effect.suspend(() => {
        const held = unreported.get(report.jobId)
        if (held?.report !== report) return Effect.void
        if (!replaceable) {
          unreported.delete(report.jobId)
          return Effect.logError(`coordinator refused the failure report on job ${report.jobId} (${reason}): dropping it`)
        }
        const failure = refusedAsFailure(report, reason)
        unreported.set(report.jobId, { report: failure, sending: true })
        return Effect.zipRight(
          Effect.logWarning(`coordinator cannot accept the report on job ${report.jobId} (${reason}): reporting it failed`),
          deliver(failure, false)
        )
      })

    const onSettled = (entry: JobQueue.Entry<Domain.JobSpec, unknown>) =>
      Effect.gen(function*() {
        progressState.delete(entry.id)
        const report = finalReport(workerId, entry)
        if (Option.isNone(report)) {
          yield* Effect.logInfo(`job ${entry.id} ${entry.status}: ${entry.error ?? ""}`)
          return
        }
        yield* Effect.logInfo(
          `job ${entry.id} ${entry.status} after ${entry.attempts} attempt(s)${entry.error === null ? "" : `: ${entry.error}`}`
        )
        unreported.set(entry.id, { report: report.value, sending: true })
        yield* FiberSet.run(deliveries, deliver(report.value))
      })

    const queue = yield* JobQueue.make<Domain.JobSpec, unknown, string | Error>({
      concurrency: config.capacity,
      maxRetries: config.maxRetries,
      limit: config.queueLimit,
      ...(config.devices.length > 0 ? { resources: config.devices as readonly [string, ...Array<string>] } : {}),
      run: (spec, ctx) => fn(spec, { workerId, attempt: ctx.attempt, device: ctx.resource, progress: ctx.progress }),
      onProgress: sendProgress,
      onSettled
    })

    // --- the coordinator link ---------------------------------------------------

    /** The last registration's sequence: this worker's clock, and never twice the same. */
    let lastSequence = 0
    const nextSequence = Effect.map(Clock.currentTimeMillis, (now) => (lastSequence = Math.max(lastSequence + 1, now)))

    const registration = (
      runningJobs: ReadonlyArray<string>,
      finishedJobs: ReadonlyArray<Domain.JobReport>,
      sequence: number
    ) => ({
      id: workerId,
      sequence,
      type: config.type,
      endpoint,
      capacity: config.capacity,
      capabilities: { ...config.capabilities, devices: config.devices },
      runningJobs,
      finishedJobs
    })

    /** Jobs the coordinator said are not this worker's (from registration answers). */
    const disowned = new Set<string>()

    const hasUnsent = () => Array.from(unreported.values()).some((held) => !held.sending)

    /**
     * Held while a registration is under way and while a job is accepted: the
     * running jobs a registration lists are exactly those accepted before it, and
     * a job accepted after it is checked against its answer. Without it a job
     * accepted while the registration was in flight is declared lost by the
     * coordinator and runs here to the end all the same.
     */
    const accepting = yield* Effect.makeSemaphore(1)

    const register = accepting.withPermits(1)(Effect.gen(function*() {
      const finished = Array.from(unreported.values()).filter((held) => !held.sending).map((held) => held.report)
      // A job whose result is being delivered right now still counts as running here:
      // its report follows, and the coordinator must not declare it lost meanwhile.
      const delivering = Array.from(unreported.values()).filter((held) => held.sending).map((held) => held.report.jobId)
      const running = [...(yield* queue.active).map((entry) => entry.id), ...delivering]
      const payload = registration(running, finished, yield* nextSequence)
      const answer = yield* coordinator.workers.register({ payload }).pipe(limited)
      secret = answer.secret
      // Keep retrying within what the coordinator tolerates, or its jobs are declared lost.
      backoffMax = Duration.min(configuredBackoffMax, Duration.seconds(answer.retryWithinSeconds))
      for (const report of finished) {
        if (unreported.get(report.jobId)?.report === report) unreported.delete(report.jobId)
      }
      for (const jobId of answer.cancel) {
        // A job not here yet is a dispatch that crossed this registration: refuse it when it comes.
        disowned.add(jobId)
        if (Option.isNone(yield* queue.get(jobId))) continue
        yield* Effect.logWarning(`coordinator does not assign job ${jobId} to this worker: stopping it`)
        yield* Effect.forkScoped(queue.cancel(jobId, "the coordinator assigned this job elsewhere"))
      }
      return finished.length
    }))

    const heartbeat = Effect.suspend(() =>
      coordinator.workers.heartbeat({ path: { workerId }, headers: credential(), payload: { healthy: true } })
    ).pipe(limited)

    const backoffBase = Duration.seconds(config.registerBackoffSeconds)
    const configuredBackoffMax = Duration.seconds(config.registerBackoffMaxSeconds)
    let backoffMax = configuredBackoffMax
    const interval = Duration.seconds(config.heartbeatIntervalSeconds)

    /** Registers, heartbeats, and registers again when needed, until interrupted. */
    const link = Effect.gen(function*() {
      let registered = false
      let everRegistered = false
      let backoff = backoffBase
      while (true) {
        const registering = !registered || hasUnsent()
        const outcome = yield* Effect.either(registering ? register : Effect.as(heartbeat, 0))
        if (Either.isRight(outcome)) {
          if (registering) {
            const sent = outcome.right > 0 ? ` with ${outcome.right} held result(s)` : ""
            yield* Effect.logInfo(
              `${everRegistered ? "registered again" : "registered"} with ${config.apiUrl} as ${workerId} at ${endpoint}${sent}`
            )
          }
          registered = true
          everRegistered = true
          backoff = backoffBase
          yield* Effect.sleep(interval)
          continue
        }
        const error = outcome.left
        if (error instanceof Errors.WorkerNotFound || error instanceof Errors.WorkerNotAuthenticated) {
          yield* Effect.logWarning(`${error.message}: registering again`)
          registered = false
          continue
        }
        yield* Effect.logWarning(
          `${registering ? "registration" : "heartbeat"} failed: ${describe(error)}; retrying in ${Duration.format(backoff)}`
        )
        if (isPassing(error)) registered = false
        yield* Effect.sleep(backoff)
        backoff = Duration.min(Duration.times(backoff, 2), backoffMax)
      }
    })

    // --- the HTTP side ------------------------------------------------------------

    const refuse = (reason: "full" | "draining" | "disowned", why: string) =>
      new WorkerUnavailable({ message: `worker ${workerId} ${why}`, reason })

    const jobsLayer = HttpApiBuilder.group(WorkerApi, "jobs", (handlers) =>
      handlers
        .handle("submit", ({ payload }) =>
          accepting.withPermits(1)(Effect.gen(function*() {
            const known = yield* queue.get(payload.jobId)
            if (Option.isSome(known)) return toJobState(known.value)
            if (draining) return yield* refuse("draining", "is shutting down")
            if (disowned.has(payload.jobId)) {
              return yield* refuse("disowned", `was told job ${payload.jobId} runs elsewhere`)
            }
            const added = yield* queue.enqueue(payload.jobId, payload).pipe(
              Effect.catchTags({
                QueueFull: (e) => Effect.fail(refuse("full", `is full (${e.limit} jobs running or waiting)`)),
                QueueClosed: () => Effect.fail(refuse("draining", "is shutting down"))
              })
            )
            if (added.created) {
              yield* Effect.logInfo(`accepted job ${payload.jobId} (${payload.kind}, attempt ${payload.attempt})`)
            }
            return toJobState(added.entry)
          })))
        .handle("get", ({ path }) =>
          Effect.flatMap(queue.get(path.jobId), Option.match({
            onNone: () => Effect.fail(new UnknownJob({ jobId: path.jobId })),
            onSome: (entry) => Effect.succeed(toJobState(entry))
          })))
        .handle("cancel", ({ path }) =>
          Effect.flatMap(queue.cancel(path.jobId, "cancelled by the coordinator"), Option.match({
            onNone: () => Effect.fail(new UnknownJob({ jobId: path.jobId })),
            onSome: (entry) => Effect.succeed(toJobState(entry))
          }))))

    const healthLayer = HttpApiBuilder.group(WorkerApi, "health", (handlers) =>
      handlers.handle("health", () =>
        Effect.map(queue.summary, (summary) => ({
          status: draining ? "draining" as const : "ok" as const,
          workerId,
          type: config.type,
          running: summary.running,
          capacity: config.capacity
        }))))

    yield* Layer.build(
      HttpApiBuilder.serve().pipe(
        Layer.provide(HttpApiBuilder.api(WorkerApi)),
        Layer.provide([jobsLayer, healthLayer]),
        Layer.provide(authorizationLayer(config.token)),
        Layer.provide(HttpServer.layerContext),
        Layer.provide(Layer.succeed(HttpServer.HttpServer, server))
      )
    )
    yield* Effect.logInfo(`worker ${workerId} (${config.type}) serving at ${endpoint}, capacity ${config.capacity}`)

    const linkFiber = yield* Effect.forkScoped(Effect.interruptible(link))

    // --- draining -------------------------------------------------------------------

    const drainOnce = Effect.gen(function*() {
      draining = true
      const began = yield* Clock.currentTimeMillis
      const active = yield* queue.active
      const deadline = Duration.seconds(config.drainDeadlineSeconds)
      yield* Effect.logInfo(
        `draining: ${active.filter((e) => e.status === "running").length} running, ` +
          `${active.filter((e) => e.status === "pending").length} waiting; deadline ${Duration.format(deadline)}`
      )
      const result = yield* queue.drain(deadline)
      if (result.notStarted.length > 0) {
        yield* Effect.logWarning(`not started, left to the coordinator: ${result.notStarted.join(", ")}`)
      }
      if (result.interrupted.length > 0) {
        yield* Effect.logWarning(`interrupted at the drain deadline: ${result.interrupted.join(", ")}`)
      }
      // Reports under way get what is left of the deadline, and at least one request's time.
      const spent = (yield* Clock.currentTimeMillis) - began
      const left = Duration.max(Duration.subtract(deadline, Duration.millis(spent)), requestTimeout)
      yield* Effect.interruptible(FiberSet.awaitEmpty(deliveries)).pipe(Effect.timeoutOption(left))
      yield* Fiber.interrupt(linkFiber)
      // The last word: results still held, and no running jobs, so the coordinator runs the
      // interrupted and unstarted ones elsewhere now instead of waiting for them to be lost.
      const finished = Array.from(unreported.values(), (held) => held.report)
      yield* coordinator.workers.register({ payload: registration([], finished, yield* nextSequence) }).pipe(
        limited,
        // The last registration's credential is the one the goodbye needs.
        Effect.flatMap((answer) =>
          coordinator.workers.deregister({ path: { workerId }, headers: { [workerSecretHeader]: answer.secret } })
            .pipe(limited)
        ),
        Effect.zipRight(Effect.logInfo(`drained and deregistered from ${config.apiUrl}`)),
        Effect.catchAll((error) =>
          Effect.logWarning(`could not say goodbye to the coordinator (${describe(error)}); it will notice the silence`)
        )
      )
    })
    const drain = yield* Effect.cached(drainOnce)
    yield* Effect.addFinalizer(() => drain)

    return {
      id: workerId,
      type: config.type,
      endpoint,
      queue,
      draining: Effect.sync(() => draining),
      unreported: Effect.sync(() => Array.from(unreported.values()).filter((held) => !held.sending).map((held) => held.report)),
      drain
    } satisfies WorkerHostShape
  }).pipe(Effect.annotateLogs({ worker: config.id }))

/** A worker as a layer: needs an `HttpServer` to serve on and an `HttpClient` to reach the coordinator. */
export const layer = (
  fn: WorkerFunction,
  config: WorkerConfig.WorkerConfigShape
): Layer.Layer<WorkerHost, never, HttpServer.HttpServer | HttpClient.HttpClient> =>
  Layer.scoped(WorkerHost, make(fn, config))

const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(host)

/** Warns when the worker listens beyond loopback without a token: anyone who reaches it could run jobs. */
export const warnOpenBind = (config: WorkerConfig.WorkerConfigShape): Effect.Effect<void> =>
  Option.isNone(config.token) && !isLoopback(config.host)
    ? Effect.logWarning(
      `listening on ${config.host} without FOREMAN_WORKER_TOKEN: anyone who reaches port ${config.port} can run jobs; ` +
        `set FOREMAN_WORKER_TOKEN (the same on the coordinator) or FOREMAN_WORKER_HOST=127.0.0.1`
    )
    : Effect.void

/**
 * A worker on Node's HTTP server (on the configured host and port) and client;
 * warns when it listens beyond loopback without a token (`warnOpenBind`).
 */
export const layerNode = (
  fn: WorkerFunction,
  config: WorkerConfig.WorkerConfigShape
): Layer.Layer<WorkerHost, HttpServerError.ServeError> =>
  layer(fn, config).pipe(
    Layer.provide(NodeHttpServer.layer(createServer, { port: config.port, host: config.host })),
    Layer.provide(NodeHttpClient.layerUndici),
    Layer.merge(Layer.effectDiscard(warnOpenBind(config)))
  )

/**
 * Runs a worker as a Node program, configured from the environment
 * (`WorkerConfig`), until SIGINT or SIGTERM, then drains:
 *
 * ```ts
 * WorkerHost.runNode((job, ctx) => train(job.input, ctx), { type: "training" })
 * ```
 */
export const runNode = (fn: WorkerFunction, options: WorkerConfig.LoadOptions = {}): void =>
  Layer.launch(
    Layer.unwrapEffect(Effect.map(WorkerConfig.load(options), (config) => layerNode(fn, config)))
  ).pipe(NodeRuntime.runMain)
