/**
 * In-memory storage of registered workers. Every status it writes is decided
 * by `WorkerTransitions` in core (the owner of the worker state machine).
 *
 * In-process workers may beat by pulse (`Pulses`) instead of sending each
 * heartbeat: the store then applies a worker's latest beat whenever it is read
 * or written, so the workers stand exactly as if every beat had been written
 * on time, and a simulation spends nothing on the beats nobody looked at.
 */
import { type Domain, WorkerStore, WorkerTransitions } from "@foreman/core"
import { Context, Effect, Layer, Option } from "effect"

type Worker = Domain.Worker

const full = (jobs: ReadonlyArray<unknown>, worker: Worker) => WorkerTransitions.isFull(jobs.length, worker.capacity)

/** The worker as a heartbeat at `at` leaves it (`pollingUntil` unchanged when undefined). */
const beaten = (worker: Worker, at: number, healthy: boolean, pollingUntil?: number | null): Worker => ({
  ...worker,
  status: WorkerTransitions.heartbeat(worker.status, full(worker.currentJobs, worker), healthy),
  lastHeartbeatAt: at,
  ...(pollingUntil === undefined ? {} : { pollingUntil })
})

/**
 * Heartbeats kept as pulses: a worker started at `from` beats (healthy) every
 * `everyMillis` after it until stopped, and the store applies those beats when
 * it is next read or written instead of being sent each one. For in-process
 * workers that beat on a fixed period (`MemoryWorkers`). A worker out of the
 * rotation (in error, offline) is left as it is: what brings it back is a beat
 * sent through the registry, which also tells the loop.
 */
export interface PulsesShape {
  readonly start: (id: Domain.WorkerId, from: number, everyMillis: number) => Effect.Effect<void>
  /** Applies the beats due by now, then stops the pulse (the worker went silent). */
  readonly stop: (id: Domain.WorkerId) => Effect.Effect<void>
}

export class Pulses extends Context.Tag("@foreman/adapter-memory/MemoryWorkerStore/Pulses")<Pulses, PulsesShape>() {}

const makeBoth = Effect.sync(() => {
  const workers = new Map<Domain.WorkerId, Worker>()
  const secrets = new Map<Domain.WorkerId, string | null>()
  const sequences = new Map<Domain.WorkerId, number>()
  const pulses = new Map<Domain.WorkerId, { readonly from: number; readonly every: number }>()
  let sorted: ReadonlyArray<Worker> | undefined

  const put = (worker: Worker) => {
    workers.set(worker.id, worker)
    sorted = undefined
  }

  /** Applies every pulse's latest beat at or before `now` that is not applied yet. */
  const pulse = (now: number) => {
    for (const [id, { every, from }] of pulses) {
      const worker = workers.get(id)
      if (worker === undefined) {
        pulses.delete(id)
        continue
      }
      const last = from + Math.floor((now - from) / every) * every
      // A worker out of the rotation (in error, offline) is left as it is: it comes back by
      // a beat sent through the registry, which tells the loop (`MemoryWorkers` sends one).
      if (last > from && last > worker.lastHeartbeatAt && !WorkerTransitions.isOut(worker.status)) {
        put(beaten(worker, last, true))
      }
    }
  }

  /** `f` over the workers as they stand now, pulses applied. */
  const current = <A>(f: () => A): Effect.Effect<A> =>
    Effect.clockWith((clock) =>
      Effect.sync(() => {
        if (pulses.size > 0) pulse(clock.unsafeCurrentTimeMillis())
        return f()
      })
    )

  /** Frees the job's slot on the worker, whose status `next` decides from its current one. */
  const dropJob = (id: Domain.WorkerId, jobId: Domain.JobId, next: (status: WorkerTransitions.Status) => WorkerTransitions.Status) =>
    current(() => {
      const worker = workers.get(id)
      if (worker === undefined) return
      put({ ...worker, currentJobs: worker.currentJobs.filter((j) => j !== jobId), status: next(worker.status) })
    })

  const store = WorkerStore.WorkerStore.of({
    register: (worker, lost, secretHash, sequence) =>
      current(() => {
        const last = sequences.get(worker.id)
        if (sequence !== null && last !== undefined && sequence <= last) return Option.none()
        if (sequence !== null) sequences.set(worker.id, sequence)
        const before = workers.get(worker.id)?.currentJobs ?? []
        const currentJobs = Array.from(new Set([...before, ...worker.currentJobs])).filter((j) => !lost.includes(j))
        const next: Worker = {
          ...worker,
          protocol: worker.protocol ?? "push",
          // A registration is not a poll: the worker asks for work again when it polls.
          pollingUntil: null,
          currentJobs,
          status: WorkerTransitions.registered(worker.status, full(currentJobs, worker))
        }
        put(next)
        secrets.set(worker.id, secretHash)
        return Option.some(next)
      }),
    secretHash: (id) => Effect.sync(() => (workers.has(id) ? Option.some(secrets.get(id) ?? null) : Option.none())),
    markRefusing: (id, jobId, status) => dropJob(id, jobId, (current) => WorkerTransitions.refused(current, status)),
    markUnreachable: (id, jobId) => dropJob(id, jobId, WorkerTransitions.unreachable),
    get: (id) => current(() => Option.fromNullable(workers.get(id))),
    list: current(() => {
      sorted ??= Array.from(workers.values()).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      return sorted
    }),
    heartbeat: (id, at, healthy, pollingUntil) =>
      current(() => {
        const worker = workers.get(id)
        if (worker === undefined) return Option.none()
        const next = beaten(worker, at, healthy, pollingUntil)
        put(next)
        return Option.some({ worker: next, before: worker.status })
      }),
    claim: (type, jobIds, now) =>
      current(() => {
        const claimed: Array<Worker> = []
        for (const jobId of jobIds) {
          let best: Worker | undefined
          for (const w of workers.values()) {
            if (w.type !== type || !WorkerTransitions.canTake(w, now)) continue
            if (
              best === undefined || w.currentJobs.length < best.currentJobs.length ||
              (w.currentJobs.length === best.currentJobs.length && w.id < best.id)
            ) best = w
          }
          if (best === undefined) break
          const currentJobs = [...best.currentJobs, jobId]
          const next: Worker = { ...best, currentJobs, status: WorkerTransitions.claimed(best.status, full(currentJobs, best)) }
          put(next)
          claimed.push(next)
        }
        return claimed
      }),
    release: (id, jobId) =>
      current(() => {
        const worker = workers.get(id)
        if (worker === undefined || !worker.currentJobs.includes(jobId)) return
        const currentJobs = worker.currentJobs.filter((j) => j !== jobId)
        put({ ...worker, currentJobs, status: WorkerTransitions.released(worker.status, full(currentJobs, worker)) })
      }),
    expire: (offlineBefore, removeBefore) =>
      current(() => {
        const offline: Array<Domain.WorkerId> = []
        const removed: Array<Domain.WorkerId> = []
        for (const w of workers.values()) {
          if (w.lastHeartbeatAt < removeBefore) {
            workers.delete(w.id)
            secrets.delete(w.id)
            sequences.delete(w.id)
            pulses.delete(w.id)
            sorted = undefined
            removed.push(w.id)
          } else if (w.lastHeartbeatAt < offlineBefore && WorkerTransitions.expired(w.status) !== w.status) {
            put({ ...w, status: WorkerTransitions.expired(w.status) })
            offline.push(w.id)
          }
        }
        return { offline, removed }
      }),
    forgetPolls: current(() => {
      for (const w of workers.values()) if (w.pollingUntil != null) put({ ...w, pollingUntil: null })
    }),
    remove: (id) =>
      Effect.sync(() => {
        sorted = undefined
        secrets.delete(id)
        sequences.delete(id)
        pulses.delete(id)
        return workers.delete(id)
      })
  })
  const beats = Pulses.of({
    start: (id, from, everyMillis) => Effect.sync(() => void pulses.set(id, { from, every: everyMillis })),
    stop: (id) => current(() => void pulses.delete(id))
  })
  return { store, beats }
})

export const make = Effect.map(makeBoth, ({ store }) => store)

/** The store, and the pulses its in-process workers beat by. */
export const layer: Layer.Layer<WorkerStore.WorkerStore | Pulses> = Layer.effectContext(
  Effect.map(makeBoth, ({ beats, store }) => Context.make(WorkerStore.WorkerStore, store).pipe(Context.add(Pulses, beats)))
)
