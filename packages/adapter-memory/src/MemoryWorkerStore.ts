/**
 * In-memory storage of registered workers. Every status it writes is decided
 * by `WorkerTransitions` in core (the owner of the worker state machine).
 */
import { type Domain, WorkerStore, WorkerTransitions } from "@foreman/core"
import { Effect, Layer, Option } from "effect"

type Worker = Domain.Worker

const full = (jobs: ReadonlyArray<unknown>, worker: Worker) => WorkerTransitions.isFull(jobs.length, worker.capacity)

export const make = Effect.sync(() => {
  const workers = new Map<Domain.WorkerId, Worker>()
  const secrets = new Map<Domain.WorkerId, string | null>()
  const sequences = new Map<Domain.WorkerId, number>()
  let sorted: ReadonlyArray<Worker> | undefined

  const put = (worker: Worker) => {
    workers.set(worker.id, worker)
    sorted = undefined
  }

  return WorkerStore.WorkerStore.of({
    register: (worker, lost, secretHash, sequence) =>
      Effect.sync(() => {
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
    markRefusing: (id, jobId, status) =>
      Effect.sync(() => {
        const worker = workers.get(id)
        if (worker === undefined) return
        const currentJobs = worker.currentJobs.filter((j) => j !== jobId)
        put({ ...worker, currentJobs, status: WorkerTransitions.refused(worker.status, status) })
      }),
    markUnreachable: (id, jobId) =>
      Effect.sync(() => {
        const worker = workers.get(id)
        if (worker === undefined) return
        const currentJobs = worker.currentJobs.filter((j) => j !== jobId)
        put({ ...worker, currentJobs, status: WorkerTransitions.unreachable(worker.status) })
      }),
    get: (id) => Effect.sync(() => Option.fromNullable(workers.get(id))),
    list: Effect.sync(() => {
      sorted ??= Array.from(workers.values()).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      return sorted
    }),
    heartbeat: (id, at, healthy, pollingUntil) =>
      Effect.sync(() => {
        const worker = workers.get(id)
        if (worker === undefined) return Option.none()
        const next: Worker = {
          ...worker,
          status: WorkerTransitions.heartbeat(worker.status, full(worker.currentJobs, worker), healthy),
          lastHeartbeatAt: at,
          ...(pollingUntil === undefined ? {} : { pollingUntil })
        }
        put(next)
        return Option.some(next)
      }),
    claim: (type, jobIds, now) =>
      Effect.sync(() => {
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
      Effect.sync(() => {
        const worker = workers.get(id)
        if (worker === undefined || !worker.currentJobs.includes(jobId)) return
        const currentJobs = worker.currentJobs.filter((j) => j !== jobId)
        put({ ...worker, currentJobs, status: WorkerTransitions.released(worker.status, full(currentJobs, worker)) })
      }),
    expire: (offlineBefore, removeBefore) =>
      Effect.sync(() => {
        const offline: Array<Domain.WorkerId> = []
        const removed: Array<Domain.WorkerId> = []
        for (const w of workers.values()) {
          if (w.lastHeartbeatAt < removeBefore) {
            workers.delete(w.id)
            secrets.delete(w.id)
            sequences.delete(w.id)
            sorted = undefined
            removed.push(w.id)
          } else if (w.lastHeartbeatAt < offlineBefore && WorkerTransitions.expired(w.status) !== w.status) {
            put({ ...w, status: WorkerTransitions.expired(w.status) })
            offline.push(w.id)
          }
        }
        return { offline, removed }
      }),
    forgetPolls: Effect.sync(() => {
      for (const w of workers.values()) if (w.pollingUntil != null) put({ ...w, pollingUntil: null })
    }),
    remove: (id) =>
      Effect.sync(() => {
        sorted = undefined
        secrets.delete(id)
        sequences.delete(id)
        return workers.delete(id)
      })
  })
})

export const layer: Layer.Layer<WorkerStore.WorkerStore> = Layer.effect(WorkerStore.WorkerStore, make)
