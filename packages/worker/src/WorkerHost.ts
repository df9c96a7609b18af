/**
 * WorkerHost turns a function `(job, ctx) => Effect<result>` into a worker
 * process. It runs jobs on a `JobQueue` (bounded parallelism, a pool of
 * devices, queue-level retries, idempotent by job id) and keeps the
 * coordinator informed through a client derived from `WorkersApi`: it
 * registers with the jobs it runs and the results it could not deliver,
 * heartbeats, registers again when the coordinator forgets it or cannot be
 * reached (backoff 1 s doubling to 30 s), stops jobs the coordinator says are
 * not its own, and reports progress, completion and failure.
 *
 * It gets its jobs by the protocol its configuration names
 * (`FOREMAN_WORKER_PROTOCOL`). A `pull` worker (the default,
 * docs/worker-protocol.md) opens no port: it long-polls the coordinator while
 * it has a free slot, and a job's final report carries its next poll. A `push`
 * worker (the legacy protocol) serves `WorkerApi` for the coordinator to call
 * (submit is idempotent by job id; it refuses with 503 while draining or when
 * full).
 *
 * Closing its scope (SIGTERM under `NodeRuntime.runMain`) drains it: no new
 * jobs are taken (a waiting poll is dropped), running jobs get the drain
 * deadline to finish and be reported, the rest are interrupted; a last
 * registration with no running jobs tells the coordinator which ones to run
 * elsewhere, then the worker deregisters.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type * as Domain from "@foreman/core/Domain"
import type { Scope } from "effect"
import { Clock, Context, Duration, Effect, Fiber, Layer, Option } from "effect"
import * as Link from "./internal/link.js"
import * as Pull from "./internal/pull.js"
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
  /** How it gets its jobs. */
  readonly protocol: WorkerConfig.Protocol
  /** The URL the coordinator reaches a push worker at; null for a pull worker. */
  readonly endpoint: string | null
  readonly queue: JobQueue.JobQueue<Domain.JobSpec, unknown>
  readonly draining: Effect.Effect<boolean>
  /** Results the coordinator could not be given, held for the next registration. */
  readonly unreported: Effect.Effect<ReadonlyArray<Domain.JobReport>>
  /** Drains now (closing the scope does it too); idempotent. */
  readonly drain: Effect.Effect<void>
}

export class WorkerHost extends Context.Tag("@foreman/worker/WorkerHost")<WorkerHost, WorkerHostShape>() {}

export { toJobState } from "./internal/jobState.js"

/**
 * The platform's `fetch` (Node's built-in client, connections kept alive)
 * reaches the coordinator. Measured beside the others: undici's client
 * answers sooner but weighs ~1 MB on every worker's start; Node's `http`
 * client costs less CPU a request than `fetch`, but its module brings undici's
 * along (plain `node`, and the shared chunk of the `foreman` binary).
 */
const httpClient = FetchHttpClient.layer

/** The push worker's server, loaded only when a push worker starts (a pull worker never loads an HTTP server). */
const pushServer = Effect.promise(() => import("./internal/pushServer.js"))

/**
 * What both protocols share: the queue running `fn`, the link with the
 * coordinator, and the host itself, whose drain first stops the protocol's
 * own way of taking jobs (`stopTaking`).
 */
const common = (
  fn: WorkerFunction,
  config: WorkerConfig.WorkerConfigShape,
  endpoint: string | null,
  turn: Option.Option<Link.Turn>
) =>
  Effect.gen(function*() {
    const workerId = config.id
    let draining = false
    const queue: JobQueue.JobQueue<Domain.JobSpec, unknown> = yield* JobQueue.make<Domain.JobSpec, unknown, string | Error>({
      concurrency: config.capacity,
      maxRetries: config.maxRetries,
      // A pull worker asks for no more than it can run: every job handed over is its own to run.
      ...(endpoint === null ? {} : { limit: config.queueLimit }),
      ...(config.devices.length > 0 ? { resources: config.devices as readonly [string, ...Array<string>] } : {}),
      run: (spec, ctx) => fn(spec, { workerId, attempt: ctx.attempt, device: ctx.resource, progress: ctx.progress }),
      onProgress: (entry) => link.progress(entry),
      onSettled: (entry) => link.settled(entry)
    })
    const link = yield* Link.make({ config, queue, endpoint, turn, draining: () => draining })

    const drainOnce = (stopTaking: Effect.Effect<void>) =>
      Effect.gen(function*() {
        draining = true
        yield* stopTaking
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
        const spent = (yield* Clock.currentTimeMillis) - began
        yield* link.farewell(Duration.subtract(deadline, Duration.millis(spent)))
      })

    /** The running host, draining when the scope closes. */
    const host = (stopTaking: Effect.Effect<void>) =>
      Effect.gen(function*() {
        const drain = yield* Effect.cached(drainOnce(stopTaking))
        yield* Effect.addFinalizer(() => drain)
        return {
          id: workerId,
          type: config.type,
          protocol: endpoint === null ? "pull" : "push",
          endpoint,
          queue,
          draining: Effect.sync(() => draining),
          unreported: link.unreported,
          drain
        } satisfies WorkerHostShape
      })

    return { queue, link, draining: () => draining, host }
  })

/**
 * Starts a pull worker in the current scope (whatever `config.protocol` says):
 * it opens no port, asks the coordinator for jobs through the `HttpClient`, and
 * drains when the scope closes.
 */
export const makePull = (
  fn: WorkerFunction,
  config: WorkerConfig.WorkerConfigShape
): Effect.Effect<WorkerHostShape, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const turn = yield* Pull.makeTurn(config)
    const { host, link } = yield* common(fn, config, null, Option.some(turn))
    yield* Effect.logInfo(
      `worker ${config.id} (${config.type}) pulling jobs from ${config.apiUrl}, capacity ${config.capacity}`
    )
    yield* link.start
    const polling = yield* Effect.forkScoped(Effect.interruptible(Pull.loop(link, turn, config)))
    return yield* host(Effect.zipRight(turn.stop, Fiber.interrupt(polling)))
  }).pipe(Effect.annotateLogs({ worker: config.id }))

/**
 * Starts a push worker in the current scope (whatever `config.protocol` says):
 * serves `WorkerApi` on the `HttpServer` for the coordinator to call, talks to
 * the coordinator through the `HttpClient`, and drains when the scope closes.
 */
export const makePush = (
  fn: WorkerFunction,
  config: WorkerConfig.WorkerConfigShape
): Effect.Effect<WorkerHostShape, never, HttpServer.HttpServer | HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const push = yield* pushServer
    const workerId = config.id
    const endpoint = WorkerConfig.endpointUrl(config, Option.getOrElse(yield* push.boundPort, () => config.port))
    const { draining, host, link, queue } = yield* common(fn, config, endpoint, Option.none())
    yield* push.serve({ config, queue, link, draining })
    yield* Effect.logInfo(`worker ${workerId} (${config.type}) serving at ${endpoint}, capacity ${config.capacity}`)
    yield* link.start
    return yield* host(Effect.void)
  }).pipe(Effect.annotateLogs({ worker: config.id }))

/** Starts the worker `config.protocol` names in the current scope; it drains when the scope closes. */
export const make = (
  fn: WorkerFunction,
  config: WorkerConfig.WorkerConfigShape
): Effect.Effect<WorkerHostShape, never, HttpServer.HttpServer | HttpClient.HttpClient | Scope.Scope> =>
  config.protocol === "pull" ? makePull(fn, config) : makePush(fn, config)

/**
 * A worker as a layer: needs an `HttpClient` to reach the coordinator, and an
 * `HttpServer` to serve on (only a push worker uses it; `layerNode` gives a pull
 * worker none).
 */
export const layer = (
  fn: WorkerFunction,
  config: WorkerConfig.WorkerConfigShape
): Layer.Layer<WorkerHost, never, HttpServer.HttpServer | HttpClient.HttpClient> =>
  Layer.scoped(WorkerHost, make(fn, config))

const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(host)

/** Warns when a push worker listens beyond loopback without a token: anyone who reaches it could run jobs. */
export const warnOpenBind = (config: WorkerConfig.WorkerConfigShape): Effect.Effect<void> =>
  Option.isNone(config.token) && !isLoopback(config.host)
    ? Effect.logWarning(
      `listening on ${config.host} without FOREMAN_WORKER_TOKEN: anyone who reaches port ${config.port} can run jobs; ` +
        `set FOREMAN_WORKER_TOKEN (the same on the coordinator) or FOREMAN_WORKER_HOST=127.0.0.1`
    )
    : Effect.void

/**
 * A worker on the platform's `fetch`; a push worker
 * also on Node's HTTP server (on the configured host and port), warning when it
 * listens beyond loopback without a token (`warnOpenBind`).
 */
export const layerNode = (
  fn: WorkerFunction,
  config: WorkerConfig.WorkerConfigShape
): Layer.Layer<WorkerHost, HttpServerError.ServeError> =>
  config.protocol === "pull"
    ? Layer.scoped(WorkerHost, makePull(fn, config)).pipe(Layer.provide(httpClient))
    : Layer.unwrapEffect(Effect.map(pushServer, (push) =>
      Layer.scoped(WorkerHost, makePush(fn, config)).pipe(
        Layer.provide(push.layerNode(config)),
        Layer.provide(httpClient),
        Layer.merge(Layer.effectDiscard(warnOpenBind(config)))
      )))

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
