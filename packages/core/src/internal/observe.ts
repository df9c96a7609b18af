/**
 * What a tick reads: what changed among the active researches since the
 * term's last read (applied to the active set it keeps, which says what it
 * changed) and every worker,
 * with silent workers expired first (at most once a second) and leaked slots
 * freed. `leakedSlots` decides which slots leaked: a slot a worker holds for a
 * job no active research runs. Seen once, it is only suspected: the tick's two
 * reads are not one moment, and a report writes its job and frees its slot in
 * two writes, so a slot whose job just settled, or a claim committed beside the
 * reads, looks the same for a moment. A slot still held for no live job
 * `LEAK_GRACE_MILLIS` after it was first seen leaked (a coordinator killed
 * between its claim and its commit, a report whose slot release was lost) is
 * freed, with a warning.
 */
import { Effect, Fiber, FiberRef, Ref } from "effect"
import * as ActiveSet from "../ActiveSet.js"
import { isJobSettled, type JobId, type Worker } from "../Domain.js"
import * as WorkerTransitions from "../WorkerTransitions.js"
import { type ActiveEntry, Researches } from "../Researches.js"
import { WorkerRegistry } from "../WorkerRegistry.js"
import * as Incarnation from "./incarnation.js"

/** A worker's slots held for jobs no research runs. */
export interface Leak {
  readonly worker: Worker
  readonly jobIds: ReadonlyArray<JobId>
}

/** How long a slot is held for no live job before it counts as leaked (see the module header). */
export const LEAK_GRACE_MILLIS = 5_000

/** Slots held for no live job, by job, with when each was first seen so. */
export type Suspects = ReadonlyMap<JobId, number>

/** The workers as they stand once leaked slots are freed, the leaks to release, and the slots still suspected. */
export interface LeakedSlots {
  readonly workers: ReadonlyArray<Worker>
  readonly leaks: ReadonlyArray<Leak>
  readonly suspects: Suspects
  /** When the first suspect left is due to be freed, if it is still held for no live job then. */
  readonly dueAt: number | null
}

/** Whether an active research runs `id` on a worker, unsettled: `byJob` finds the research whose active job it is. */
const isLive = (byJob: (id: JobId) => ActiveEntry | undefined, id: JobId): boolean => {
  const job = byJob(id)?.job
  return job != null && job.id === id && job.workerId !== null && !isJobSettled(job.status)
}

/**
 * Slots held for jobs no active research runs on a worker, and each worker as it is without the
 * leaked ones: those first seen (`suspects`) `LEAK_GRACE_MILLIS` or more before `now`. `byJob`
 * finds the active research whose active job a job is (`ActiveSet.byJob`): the check follows the
 * workers' slots, not the active researches.
 */
export const leakedSlots = (
  byJob: (id: JobId) => ActiveEntry | undefined,
  workers: ReadonlyArray<Worker>,
  suspects: Suspects,
  now: number
): LeakedSlots => {
  const freed: Array<Worker> = []
  const leaks: Array<Leak> = []
  const suspected = new Map<JobId, number>()
  let dueAt: number | null = null
  for (const w of workers) {
    const leaked: Array<JobId> = []
    for (const id of w.currentJobs) {
      if (isLive(byJob, id)) continue
      const since = suspects.get(id) ?? now
      if (now - since >= LEAK_GRACE_MILLIS) {
        leaked.push(id)
        continue
      }
      suspected.set(id, since)
      dueAt = Math.min(dueAt ?? Infinity, since + LEAK_GRACE_MILLIS)
    }
    if (leaked.length === 0) {
      freed.push(w)
      continue
    }
    leaks.push({ worker: w, jobIds: leaked })
    const currentJobs = w.currentJobs.filter((id) => !leaked.includes(id))
    freed.push({ ...w, currentJobs, status: WorkerTransitions.released(w.status, WorkerTransitions.isFull(currentJobs.length, w.capacity)) })
  }
  return { workers: freed, leaks, suspects: suspected, dueAt }
}

/** The world as a tick sees it. */
export interface Observation {
  /** What the read of the active researches changed in the term's active set. */
  readonly delta: ActiveSet.Delta
  readonly workers: ReadonlyArray<Worker>
  /** Since when workers could be heard. */
  readonly hearingSince: number
  /** What the term knows of hearing workers after this read. */
  readonly hearing: Incarnation.Hearing
  /** When a slot suspected of leaking is due to be freed (the loop must look again then), if any is. */
  readonly leakDueAt: number | null
}

/**
 * Runs two reads at once with one fork (one round trip on PostgreSQL; `Effect.all`'s
 * concurrency costs twice as much, which in memory was half of a tick), or one after
 * the other when the caller runs with a concurrency of 1 (`Effect.withConcurrency`),
 * as a simulation does: its storage answers at once, and a fork costs more than the read.
 */
const both = <A, B, E1, E2>(first: Effect.Effect<A, E1>, second: Effect.Effect<B, E2>): Effect.Effect<[A, B], E1 | E2> =>
  Effect.flatMap(FiberRef.get(FiberRef.currentConcurrency), (concurrency) =>
    concurrency === 1
      ? Effect.zip(first, second)
      : Effect.gen(function*() {
        const forked = yield* Effect.fork(second)
        const a = yield* Effect.tapErrorCause(first, () => Fiber.interrupt(forked))
        return [a, yield* Fiber.join(forked)] as [A, B]
      }))

/** Reads the world for a tick over storage and the registry. */
export const make = Effect.gen(function*() {
  const researches = yield* Researches
  const registry = yield* WorkerRegistry

  const releaseLeaks = (leaks: ReadonlyArray<Leak>) =>
    Effect.forEach(leaks, ({ jobIds, worker }) =>
      Effect.gen(function*() {
        yield* Effect.logWarning(`worker ${worker.id} held slots for ${jobIds.join(", ")}, which no research runs: freed`)
        for (const id of jobIds) yield* registry.release(worker.id, id)
      }), { discard: true })

  /** What changed among the active researches, and every worker, in two concurrent reads. */
  const observe = (incarnation: Incarnation.Incarnation, now: number) =>
    Effect.gen(function*() {
      const before = yield* Ref.get(incarnation.hearing)
      if (Incarnation.expireDue(before, now)) {
        yield* Ref.set(incarnation.hearing, Incarnation.expired(before, now))
        // Silence counts from when workers could be heard: after an outage, from now (this
        // tick's reads are the first to answer), never for the coordinator's own deafness.
        yield* registry.expireHeard(Incarnation.heard(before, now).since)
      }
      const [delta, listed] = yield* both(
        ActiveSet.refreshDelta(incarnation.active, researches.activeChangedSince),
        registry.list()
      )
      const hearing = yield* Ref.updateAndGet(incarnation.hearing, (h) => Incarnation.heard(h, now))
      const { dueAt, leaks, suspects, workers } = leakedSlots(incarnation.active.byJob, listed, yield* Ref.get(incarnation.suspects), now)
      yield* Ref.set(incarnation.suspects, suspects)
      yield* releaseLeaks(leaks)
      return { delta, workers, hearingSince: hearing.since, hearing, leakDueAt: dueAt } satisfies Observation
    })

  return { observe }
})
