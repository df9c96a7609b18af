/**
 * In-process workers and the transport that reaches them. Each worker is a
 * simulated process: it registers, heartbeats, accepts jobs idempotently by
 * job id, runs them with a handler, and reports results to the registry, just
 * as an HTTP worker would. A push worker (the default) is sent its jobs
 * through the transport; a pull worker polls the registry for them while it
 * has a free slot and stops the jobs its polls and heartbeats say are no
 * longer its own, as docs/worker-protocol.md asks. Workers can be crashed and
 * restarted, and dispatch can be made to fail, to exercise recovery.
 */
import { type Domain, Errors, ForemanConfig, WorkerRegistry, WorkerTransport } from "@foreman/core"
import { Clock, Context, Deferred, Duration, Effect, Fiber, Layer, Option } from "effect"
import { Pulses } from "./MemoryWorkerStore.js"

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
  /** `pull`: it polls for its jobs (docs/worker-protocol.md); `push` (default): jobs are sent to it. */
  readonly protocol?: Domain.WorkerProtocol
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
  /**
   * Decides per dispatch whether it fails as if the network dropped it: no
   * answer came, so the worker may have the job (`DispatchError.unreachable`
   * `unanswered`; it does not, here). A crashed worker's dispatch fails as
   * refused connections do (`unsent`).
   */
  readonly dispatchFails?: Effect.Effect<boolean>
  /**
   * Push workers beat by pulse (`MemoryWorkerStore.Pulses`, when the storage
   * has them): the store applies their beats when it is read, instead of each
   * beat being sent. Every reader sees the workers as the beats left them; what
   * sending does besides (a beat failing in a storage outage) does not happen.
   * For simulations, which then spend nothing on beats.
   */
  readonly beatByPulse?: boolean
}

interface Process {
  readonly spec: WorkerSpec
  up: boolean
  readonly jobs: Map<string, { readonly fiber: Fiber.RuntimeFiber<unknown>; readonly researchId: string }>
  /** Job ids this process has accepted (idempotency). */
  readonly accepted: Set<string>
  /** A pull worker's poll loop, while it is up. */
  poller: Fiber.RuntimeFiber<void> | undefined
  /** When it last booted: a pulse beats every interval after. */
  bootedAt: number
}

/** How long a simulated pull worker's poll waits, in seconds. */
const POLL_WAIT_SECONDS = 20

const make = (options: MemoryWorkersOptions) =>
  Effect.gen(function*() {
    const registry = yield* WorkerRegistry.WorkerRegistry
    const config = yield* ForemanConfig.ForemanConfig
    const pulses = options.beatByPulse === true ? Option.getOrUndefined(yield* Effect.serviceOption(Pulses)) : undefined
    const scope = yield* Effect.scope
    const processes = new Map<string, Process>()
    const everStarted = new Set<string>()
    const duplicateStarts: Array<string> = []
    const overlapping: Array<string> = []
    const busySeconds: Record<string, number> = {}
    let starts = 0

    const pulls = (process: Process) => process.spec.protocol === "pull"

    const register = (process: Process) =>
      registry.register({
        id: process.spec.id as Domain.WorkerId,
        type: process.spec.type,
        ...(pulls(process) ? {} : { endpoint: `memory://${process.spec.id}` }),
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

    /** Wakes a pull worker's loop when one of its jobs ends (a slot is free again). */
    const freed = new Map<Process, Deferred.Deferred<void>>()

    /** A job is over on `process` (finished or stopped): its slot is free. */
    const jobOver = (process: Process, jobId: string) =>
      Effect.suspend(() => {
        process.jobs.delete(jobId)
        const wake = freed.get(process)
        return wake === undefined ? Effect.void : Deferred.succeed(wake, undefined)
      })

    /** Stops the jobs the coordinator says are no longer this worker's. */
    const stopJobs = (process: Process, ids: ReadonlyArray<string>) =>
      Effect.forEach(ids, (jobId) => {
        const job = process.jobs.get(jobId)
        return job === undefined ? Effect.void : Effect.zipRight(jobOver(process, jobId), Fiber.interrupt(job.fiber))
      }, { discard: true })

    const beat = (process: Process) => {
      const id = process.spec.id as Domain.WorkerId
      const heard = registry.heartbeat(id)
      // A pull worker lists its jobs with each beat and stops those no longer its own.
      const sent = pulls(process)
        ? Effect.zipRight(heard, Effect.flatMap(registry.toStop(id, [...process.jobs.keys()]), (ids) => stopJobs(process, ids)))
        : heard
      return Effect.catchAll(sent, (e) =>
        e._tag === "WorkerNotFound"
          ? register(process)
          : Effect.logWarning(`heartbeat of ${process.spec.id} failed: ${e.message}`))
    }

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
          // A worker beating by pulse is sent only the one beat that brings it back.
          if (pulseOf(process) === undefined) due.set(process, time + interval)
          else due.delete(process)
          yield* beat(process)
        }
      }
    })

    /** Beats `process` from `first` (by default an interval from now). */
    const scheduleBeats = (process: Process, first?: number) =>
      Effect.gen(function*() {
        first ??= (yield* Clock.currentTimeMillis) + interval
        due.set(process, first)
        if (beater !== undefined && sleepingUntil === undefined) return // it is beating and will look again
        if (beater !== undefined && sleepingUntil! <= first) return
        if (beater !== undefined) yield* Fiber.interrupt(beater)
        beater = yield* Effect.forkIn(beatLoop, scope)
      })

    /**
     * A pull worker's loop: while it has a free slot it polls (listing its
     * jobs), starts what the answer gives it and stops what it says is no
     * longer its own; when full it waits for a job of its to end.
     */
    const pollLoop = (process: Process): Effect.Effect<void> =>
      Effect.gen(function*() {
        const id = process.spec.id as Domain.WorkerId
        for (;;) {
          if (process.jobs.size >= (process.spec.capacity ?? 1)) {
            const slot = yield* Deferred.make<void>()
            freed.set(process, slot)
            if (process.jobs.size >= (process.spec.capacity ?? 1)) yield* Deferred.await(slot)
            continue
          }
          const answer = yield* registry.poll(id, { waitSeconds: POLL_WAIT_SECONDS, running: [...process.jobs.keys()] }).pipe(
            Effect.catchTag("WorkerNotFound", () => Effect.as(register(process), { jobs: [], stop: [] })),
            Effect.catchAll((e) =>
              Effect.as(Effect.logWarning(`poll of ${process.spec.id} failed: ${e.message}`), { jobs: [], stop: [] })
            )
          )
          yield* stopJobs(process, answer.stop)
          for (const spec of answer.jobs) yield* Effect.ignore(accept(process, spec))
        }
      })

    // A push worker beating by pulse: the store applies its beats when it is read, so no
    // fiber wakes for them (a pull worker's beats say which jobs it holds: it sends them).
    const pulseOf = (process: Process) => (pulls(process) ? undefined : pulses)

    /**
     * A worker beating by pulse that a dispatch could not reach is out of the rotation
     * until heard from again, and a pulse leaves an out worker as it is: its next beat
     * is sent through the registry, which takes it back and tells the loop.
     */
    const sendNextBeat = (process: Process) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const beats = Math.floor((now - process.bootedAt) / interval) + 1
        yield* scheduleBeats(process, process.bootedAt + beats * interval)
      })

    const boot = (process: Process) =>
      Effect.gen(function*() {
        process.up = true
        process.bootedAt = yield* Clock.currentTimeMillis
        yield* register(process)
        const pulse = pulseOf(process)
        if (pulse !== undefined) {
          yield* pulse.start(process.spec.id as Domain.WorkerId, process.bootedAt, interval)
        } else {
          yield* scheduleBeats(process)
        }
        if (pulls(process)) process.poller = yield* Effect.forkIn(pollLoop(process), scope)
      })

    const stop = (process: Process) =>
      Effect.gen(function*() {
        process.up = false
        due.delete(process)
        const pulse = pulseOf(process)
        if (pulse !== undefined) yield* pulse.stop(process.spec.id as Domain.WorkerId)
        if (process.poller !== undefined) yield* Fiber.interrupt(process.poller)
        process.poller = undefined
        const fibers = Array.from(process.jobs.values(), (j) => j.fiber)
        process.jobs.clear()
        yield* Fiber.interruptAll(fibers)
      })

    const find = (worker: Domain.Worker) =>
      Option.fromNullable(processes.get(worker.id)).pipe(Option.filter((p) => p.up))

    /** A crashed process refuses connections: nothing reached it. */
    const unreachable = (worker: Domain.Worker) =>
      new Errors.DispatchError({ workerId: worker.id, reason: "connection refused", unreachable: "unsent" })

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
        yield* jobOver(process, spec.jobId)
        yield* registry.report(
          outcome._tag === "Right"
            ? { _tag: "Completed", jobId: spec.jobId, workerId, result: outcome.right }
            : { _tag: "Failed", jobId: spec.jobId, workerId, error: outcome.left }
        ).pipe(Effect.catchAll((e) => Effect.logDebug(`report on ${spec.jobId} ignored: ${e.message}`)))
      })

    /** Starts a job on a process, once per job id (a repeated one starts nothing). */
    const accept = (p: Process, spec: Domain.JobSpec) =>
      Effect.gen(function*() {
          if (p.accepted.has(spec.jobId)) return
          const handler = options.handlers[p.spec.type]
          if (handler === undefined) {
            return yield* new Errors.DispatchError({ workerId: p.spec.id, reason: `no handler for ${p.spec.type} jobs` })
          }
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
            if (pulseOf(p) !== undefined) yield* sendNextBeat(p)
            return yield* new Errors.DispatchError({
              workerId: worker.id,
              reason: "simulated network failure: no answer",
              unreachable: "unanswered"
            })
          }
          yield* accept(p, spec)
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
          const process: Process = { spec, up: false, jobs: new Map(), accepted: new Set(), poller: undefined, bootedAt: 0 }
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
