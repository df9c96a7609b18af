/**
 * The worker SDK for code that does not use Effect: `runWorker` starts a
 * worker process's `WorkerHost` with async handlers, one per job kind, and
 * answers a handle to stop it. It pulls its jobs from the coordinator unless
 * told to serve them (`protocol: "push"`). On SIGINT or SIGTERM it stops
 * (drains, deregisters) and, unless the program handles that signal itself,
 * exits 0, as `WorkerHost.runNode` does.
 *
 * ```js
 * import { runWorker } from "@foreman/worker"
 * const worker = await runWorker({
 *   type: "training",
 *   apiUrl: "http://127.0.0.1:8000",
 *   handlers: { training: async (input, job) => { await job.progress(0.5); return { testAccuracy: 0.6 } } }
 * })
 * // … later, or on SIGINT / SIGTERM
 * await worker.stop()
 * ```
 */
import { Cause, ConfigProvider, Effect, Exit, Layer, ManagedRuntime, Runtime } from "effect"
import type * as Domain from "@foreman/core/Domain"
import * as WorkerConfig from "./WorkerConfig.js"
import * as WorkerHost from "./WorkerHost.js"

/** What a handler is given besides the job's input. */
export interface JobInfo {
  readonly jobId: string
  readonly researchId: string
  readonly kind: string
  /** 1 for the first run, 2 for the first retry, … */
  readonly attempt: number
  /** The device (or slot) this run holds. */
  readonly device: string
  /** Aborted when the coordinator cancels the job or the worker stops. */
  readonly signal: AbortSignal
  /** Reports progress (0–1) and an optional message to the coordinator. */
  readonly progress: (fraction: number, message?: string) => Promise<void>
}

/** Does one job of a kind: resolves with its result; a rejection is retried, then reported as the failure. */
export type Handler = (input: unknown, job: JobInfo) => Promise<unknown>

export interface RunWorkerOptions {
  /** The worker type (`training`, `backtest`, …); `FOREMAN_WORKER_TYPE` when not given. */
  readonly type?: string
  /** A handler per job kind this worker runs. */
  readonly handlers: Readonly<Record<string, Handler>>
  /** The coordinator's URL; `FOREMAN_API_URL` when not given. */
  readonly apiUrl?: string
  /** The worker token; `FOREMAN_WORKER_TOKEN` when not given. */
  readonly token?: string
  /** How it gets its jobs; `FOREMAN_WORKER_PROTOCOL` (default `pull`: it asks the coordinator, opening no port). */
  readonly protocol?: WorkerConfig.Protocol
  /** Port a push worker listens on; `FOREMAN_WORKER_PORT` (default 5003, 0 for any free port). */
  readonly port?: number
  /** Address a push worker listens on; `FOREMAN_WORKER_HOST`. */
  readonly host?: string
  /** Capabilities the worker declares. */
  readonly capabilities?: Readonly<Record<string, unknown>>
  /**
   * Stop on SIGINT and SIGTERM (default true): drain, deregister, then exit 0
   * unless the program has its own listener for that signal (then exiting is
   * its call). `false` leaves the signals to the program, which calls `stop`.
   */
  readonly handleSignals?: boolean
}

/** A running worker. */
export interface RunningWorker {
  readonly id: string
  readonly type: string
  readonly protocol: WorkerConfig.Protocol
  /** The URL the coordinator reaches a push worker at; null for a pull worker. */
  readonly endpoint: string | null
  /** Drains (running jobs get the drain deadline to finish), deregisters and stops. */
  readonly stop: () => Promise<void>
}

/** The settings the options give, read before the environment. */
const settings = (options: RunWorkerOptions): Map<string, string> => {
  const map = new Map<string, string>()
  if (options.type !== undefined) map.set("FOREMAN_WORKER_TYPE", options.type)
  if (options.apiUrl !== undefined) map.set("FOREMAN_API_URL", options.apiUrl)
  if (options.token !== undefined) map.set("FOREMAN_WORKER_TOKEN", options.token)
  if (options.protocol !== undefined) map.set("FOREMAN_WORKER_PROTOCOL", options.protocol)
  if (options.port !== undefined) map.set("FOREMAN_WORKER_PORT", String(options.port))
  if (options.host !== undefined) map.set("FOREMAN_WORKER_HOST", options.host)
  return map
}

/** One job through the handler of its kind, cancelled through the signal when the fiber is interrupted. */
const perform = (handlers: RunWorkerOptions["handlers"]): WorkerHost.WorkerFunction => (job: Domain.JobSpec, ctx) => {
  const handler = handlers[job.kind]
  if (handler === undefined) {
    return Effect.fail(`this worker has no handler for jobs of kind "${job.kind}" (it has: ${Object.keys(handlers).join(", ")})`)
  }
  return Effect.flatMap(Effect.runtime<never>(), (runtime) =>
    Effect.tryPromise({
      try: (signal) =>
        handler(job.input, {
          jobId: job.jobId,
          researchId: job.researchId,
          kind: job.kind,
          attempt: ctx.attempt,
          device: ctx.device,
          signal,
          progress: (fraction, message) => Runtime.runPromise(runtime)(ctx.progress(fraction, message))
        }),
      catch: (error) => (error instanceof Error ? error : String(error))
    }))
}

/**
 * Starts a worker: registers with the coordinator and runs its jobs until `stop`.
 * Rejects when the configuration is missing or wrong, or a push worker's port is taken.
 */
export const runWorker = async (options: RunWorkerOptions): Promise<RunningWorker> => {
  const provider = ConfigProvider.orElse(ConfigProvider.fromMap(settings(options)), () => ConfigProvider.fromEnv())
  const host = Layer.unwrapEffect(
    Effect.map(
      WorkerConfig.load({
        ...(options.type === undefined ? {} : { type: options.type }),
        ...(options.capabilities === undefined ? {} : { capabilities: options.capabilities })
      }),
      (config) => WorkerHost.layerNode(perform(options.handlers), config)
    )
  ).pipe(Layer.provide(Layer.setConfigProvider(provider)))
  const runtime = ManagedRuntime.make(host)
  const started = await runtime.runPromiseExit(WorkerHost.WorkerHost)
  if (Exit.isFailure(started)) {
    await runtime.dispose()
    const error = Cause.squash(started.cause)
    throw new Error(`the worker could not start: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  const worker = started.value
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopsOnSignal.delete(stop)
      if (stopsOnSignal.size === 0) for (const name of signals) process.removeListener(name, onSignal)
      await runtime.dispose()
    })()
    return stopping
  }
  if (options.handleSignals !== false) {
    if (stopsOnSignal.size === 0) for (const name of signals) process.on(name, onSignal)
    stopsOnSignal.add(stop)
  }
  return { id: worker.id, type: worker.type, protocol: worker.protocol, endpoint: worker.endpoint, stop }
}

/** The signals a process is asked to stop with: Ctrl+C, and service managers' and orchestrators' stop. */
const signals: ReadonlyArray<NodeJS.Signals> = ["SIGINT", "SIGTERM"]

/** The `stop` of every running worker of this process that stops on those signals. */
const stopsOnSignal = new Set<() => Promise<void>>()

/**
 * Stops every such worker; then, when the program has no listener of its own
 * for the signal (Node would have exited on it), exits 0. While they drain
 * the listener is gone, so a second Ctrl+C ends the process at once.
 */
const onSignal = (name: NodeJS.Signals): void => {
  const exit = process.listenerCount(name) === 1
  void Promise.allSettled([...stopsOnSignal].map((stop) => stop())).then(() => {
    if (exit) process.exit(0)
  })
}
