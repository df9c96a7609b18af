/**
 * In-process workers and the transport that reaches them. Each worker is a
 * simulated process: it registers, heartbeats, accepts jobs idempotently by
 * job id, runs them with a handler, and reports results to the registry, just
 * as an HTTP worker would. Workers can be crashed and restarted, and dispatch
 * can be made to fail, to exercise recovery.
 */
import { type Domain, Errors, ForemanConfig, WorkerRegistry, WorkerTransport } from "@foreman/core"
import { Clock, Context, Duration, Effect, Fiber, Layer, Option } from "effect"

/** Runs one job; a failure is reported as the job's error. */
export type JobHandler = (
  spec: Domain.JobSpec,
  context: {
    readonly workerId: Domain.WorkerId
    readonly progress: (fraction: number, message?: string) => Effect.Effect<void>
  }
) => Effect.Effect<unknown, string>

export interface WorkerSpec {
  readonly id: string
  readonly type: string
  readonly capacity?: number
  /** What it declares it supports when it registers (designers read it). */
  readonly capabilities?: Readonly<Record<string, unknown>>
}

/** What the workers observed, for invariant checks. */
export interface WorkerStats {
  /** Jobs started (a repeated dispatch of a running or finished job starts nothing). */
  readonly starts: number
  /** Job ids started more than once. */
  readonly duplicateStarts: ReadonlyArray<string>
  /** Researches that had two worker jobs running at once. */
  readonly overlapping: ReadonlyArray<string>
  /** Busy job-seconds per worker type. */
  readonly busySeconds: Readonly<Record<string, number>>
}

export interface MemoryWorkersShape {
  /** Starts a worker process: it registers and keeps heartbeating. */
  readonly spawn: (spec: WorkerSpec) => Effect.Effect<void>
  /** Kills a worker process: its jobs and heartbeats stop without a word. */
  readonly crash: (id: string) => Effect.Effect<void>
  /** Starts a crashed worker again; it re-registers with no running jobs. */
  readonly restart: (id: string) => Effect.Effect<void>
  readonly running: (id: string) => ReadonlyArray<string>
  readonly stats: Effect.Effect<WorkerStats>
}

export class MemoryWorkers extends Context.Tag("@foreman/adapter-memory/MemoryWorkers")<
  MemoryWorkers,
  MemoryWorkersShape
>() {}

export interface MemoryWorkersOptions {
  /** Handlers by worker type. */
  readonly handlers: Readonly<Record<string, JobHandler>>
  /** Decides per dispatch whether it fails as if the worker were unreachable. */
  readonly dispatchFails?: Effect.Effect<boolean>
}

interface Process {
  readonly spec: WorkerSpec
  up: boolean
  readonly jobs: Map<string, { readonly fiber: Fiber.RuntimeFiber<unknown>; readonly researchId: string }>
  /** Job ids this process has accepted (idempotency). */
  readonly accepted: Set<string>
}

const make = (options: MemoryWorkersOptions) =>
  Effect.gen(function*() {
    const registry = yield* WorkerRegistry.WorkerRegistry
    const config = yield* ForemanConfig.ForemanConfig
    const scope = yield* Effect.scope
    const processes = new Map<string, Process>()
    const everStarted = new Set<string>()
    const duplicateStarts: Array<string> = []
    const overlapping: Array<string> = []
    const busySeconds: Record<string, number> = {}
    let starts = 0

    const register = (process: Process) =>
      registry.register({
        id: process.spec.id as Domain.WorkerId,
        type: process.spec.type,
        endpoint: `memory://${process.spec.id}`,
        runtime: "in-memory (simulated)",
        capacity: process.spec.capacity ?? 1,
        capabilities: process.spec.capabilities ?? {},
        runningJobs: Array.from(process.jobs.keys()),
        finishedJobs: []
      }).pipe(Effect.orDie)

    // One fiber sends every worker's heartbeats: each up worker has its own next beat,
    // `heartbeatIntervalSeconds` after its last one (or its boot), and the fiber sleeps
    // until the earliest. The beats come when one loop per worker would send them, but a
    // pool whose workers beat together wakes once per interval, not once per worker.
    const interval = Duration.toMillis(Duration.seconds(config.heartbeatIntervalSeconds))
    const due = new Map<Process, number>()
    let beater: Fiber.RuntimeFiber<void> | undefined
    /** When the sleeping beater wakes; undefined while it beats or when it is gone. */
    let sleepingUntil: number | undefined

    const beat = (process: Process) =>
      registry.heartbeat(process.spec.id as Domain.WorkerId).pipe(
        Effect.catchTag("WorkerNotFound", () => register(process)),
        Effect.catchAll((e) => Effect.logWarning(`heartbeat of ${process.spec.id} failed: ${e.message}`))
      )

    const beatLoop: Effect.Effect<void> = Effect.gen(function*() {
      for (;;) {
        let next = Infinity
        for (const at of due.values()) next = Math.min(next, at)
        if (next === Infinity) {
          beater = undefined
          return
        }
        const now = yield* Clock.currentTimeMillis
        sleepingUntil = next
        if (next > now) yield* Effect.sleep(Duration.millis(next - now))
        sleepingUntil = undefined
        const at = yield* Clock.currentTimeMillis
        for (const [process, time] of due) {
          if (time > at) continue
          due.set(process, time + interval)
          yield* beat(process)
        }
      }
    })

    const scheduleBeats = (process: Process) =>
      Effect.gen(function*() {
        const first = (yield* Clock.currentTimeMillis) + interval
        due.set(process, first)
        if (beater !== undefined && sleepingUntil === undefined) return // it is beating and will look again
        if (beater !== undefined && sleepingUntil! <= first) return
        if (beater !== undefined) yield* Fiber.interrupt(beater)
        beater = yield* Effect.forkIn(beatLoop, scope)
      })

    const boot = (process: Process) =>
      Effect.gen(function*() {
        process.up = true
        yield* register(process)
        yield* scheduleBeats(process)
      })

    const stop = (process: Process) =>
      Effect.gen(function*() {
        process.up = false
        due.delete(process)
        const fibers = Array.from(process.jobs.values(), (j) => j.fiber)
        process.jobs.clear()
        yield* Fiber.interruptAll(fibers)
      })

    const find = (worker: Domain.Worker) =>
      Option.fromNullable(processes.get(worker.id)).pipe(Option.filter((p) => p.up))

    const unreachable = (worker: Domain.Worker, reason = "connection refused") =>
      new Errors.DispatchError({ workerId: worker.id, reason })

    const runJob = (process: Process, spec: Domain.JobSpec, handler: JobHandler) =>
      Effect.gen(function*() {
        const workerId = process.spec.id as Domain.WorkerId
        const began = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const outcome = yield* Effect.either(handler(spec, {
          workerId,
          progress: (progress, message) =>
            registry.report({
              _tag: "Progress",
              jobId: spec.jobId,
              workerId,
              progress,
              ...(message === undefined ? {} : { message })
            }).pipe(Effect.ignore)
        }))
        const ended = yield* Effect.clockWith((c) => c.currentTimeMillis)
        busySeconds[process.spec.type] = (busySeconds[process.spec.type] ?? 0) + (ended - began) / 1000
        process.jobs.delete(spec.jobId)
        yield* registry.report(
          outcome._tag === "Right"
            ? { _tag: "Completed", jobId: spec.jobId, workerId, result: outcome.right }
            : { _tag: "Failed", jobId: spec.jobId, workerId, error: outcome.left }
        ).pipe(Effect.catchAll((e) => Effect.logDebug(`report on ${spec.jobId} ignored: ${e.message}`)))
      })

    const transport = WorkerTransport.WorkerTransport.of({
      dispatch: (worker, spec) =>
        Effect.gen(function*() {
          const process = find(worker)
          if (Option.isNone(process)) return yield* unreachable(worker)
          const p = process.value
          if (p.accepted.has(spec.jobId)) return
          if (p.jobs.size >= (p.spec.capacity ?? 1)) {
            return yield* new Errors.DispatchError({ workerId: worker.id, reason: "worker is full", refused: "full" })
          }
          if (options.dispatchFails !== undefined && (yield* options.dispatchFails)) {
            return yield* unreachable(worker, "simulated network failure")
          }
          const handler = options.handlers[p.spec.type]
          if (handler === undefined) return yield* unreachable(worker, `no handler for ${p.spec.type} jobs`)
          if (everStarted.has(spec.jobId)) duplicateStarts.push(spec.jobId)
          for (const other of processes.values()) {
            for (const [jobId, job] of other.jobs) {
              if (job.researchId === spec.researchId) overlapping.push(`${spec.researchId}: ${jobId} and ${spec.jobId}`)
            }
          }
          everStarted.add(spec.jobId)
          p.accepted.add(spec.jobId)
          starts++
          const fiber = yield* Effect.forkIn(runJob(p, spec, handler), scope)
          p.jobs.set(spec.jobId, { fiber, researchId: spec.researchId })
        }),
      cancel: (worker, jobId) =>
        Effect.gen(function*() {
          const process = find(worker)
          if (Option.isNone(process)) return yield* unreachable(worker)
          const job = process.value.jobs.get(jobId)
          process.value.jobs.delete(jobId)
          if (job !== undefined) yield* Fiber.interrupt(job.fiber)
        }),
      status: (worker, jobId) =>
        Effect.gen(function*() {
          const process = find(worker)
          if (Option.isNone(process)) return yield* unreachable(worker)
          return process.value.jobs.has(jobId)
            ? Option.some<Domain.JobReport>({ _tag: "Progress", jobId, workerId: worker.id, progress: 0 })
            : Option.none()
        })
    })

    const workers: MemoryWorkersShape = {
      spawn: (spec) =>
        Effect.suspend(() => {
          const process: Process = { spec, up: false, jobs: new Map(), accepted: new Set() }
          processes.set(spec.id, process)
          return boot(process)
        }),
      crash: (id) => Effect.suspend(() => {
        const process = processes.get(id)
        return process === undefined || !process.up ? Effect.void : stop(process)
      }),
      restart: (id) => Effect.suspend(() => {
        const process = processes.get(id)
        return process === undefined || process.up ? Effect.void : boot(process)
      }),
      running: (id) => Array.from(processes.get(id)?.jobs.keys() ?? []),
      stats: Effect.sync(() => ({
        starts,
        duplicateStarts: [...duplicateStarts],
        overlapping: [...overlapping],
        busySeconds: { ...busySeconds }
      }))
    }
    return { transport, workers }
  })

/** The in-process transport and its workers, as one layer. */
export const layer = (
  options: MemoryWorkersOptions
): Layer.Layer<
  WorkerTransport.WorkerTransport | MemoryWorkers,
  never,
  WorkerRegistry.WorkerRegistry | ForemanConfig.ForemanConfig
> =>
  Layer.scopedContext(Effect.map(make(options), ({ transport, workers }) =>
    Context.make(WorkerTransport.WorkerTransport, transport).pipe(Context.add(MemoryWorkers, workers))))
