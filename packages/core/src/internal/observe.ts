/**
 * What a tick reads: every active research with its job (what changed since
 * the term's last read, applied to the active set it keeps) and every worker,
 * with silent workers expired first (at most once a second) and the slots an
 * earlier leader leaked freed. `leakedSlots` decides which slots leaked: every
 * claim of this leader's earlier ticks is committed or released by the time it
 * reads, so a slot with no live job behind it was claimed by a coordinator
 * killed between its claim and its commit.
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

/** The workers as they stand once leaked slots are freed, and the leaks to release. */
export interface LeakedSlots {
  readonly workers: ReadonlyArray<Worker>
  readonly leaks: ReadonlyArray<Leak>
}

/** Slots held for jobs that no active research runs on a worker, and each worker as it is without them. */
export const leakedSlots = (active: ReadonlyArray<ActiveEntry>, workers: ReadonlyArray<Worker>): LeakedSlots => {
  const live = new Set<string>()
  for (const { job } of active) if (job !== null && job.workerId !== null && !isJobSettled(job.status)) live.add(job.id)
  const freed: Array<Worker> = []
  const leaks: Array<Leak> = []
  for (const w of workers) {
    const leaked = w.currentJobs.filter((id) => !live.has(id))
    if (leaked.length === 0) {
      freed.push(w)
      continue
    }
    leaks.push({ worker: w, jobIds: leaked })
    const currentJobs = w.currentJobs.filter((id) => live.has(id))
    freed.push({ ...w, currentJobs, status: WorkerTransitions.released(w.status, WorkerTransitions.isFull(currentJobs.length, w.capacity)) })
  }
  return { workers: freed, leaks }
}

/** The world as a tick sees it. */
export interface Observation {
  readonly active: ReadonlyArray<ActiveEntry>
  readonly workers: ReadonlyArray<Worker>
  /** Since when workers could be heard. */
  readonly hearingSince: number
  /** What the term knows of hearing workers after this read. */
  readonly hearing: Incarnation.Hearing
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

  /** Every active research with its job and every worker, in two concurrent reads. */
  const observe = (incarnation: Incarnation.Incarnation, now: number) =>
    Effect.gen(function*() {
      const before = yield* Ref.get(incarnation.hearing)
      if (Incarnation.expireDue(before, now)) {
        yield* Ref.set(incarnation.hearing, Incarnation.expired(before, now))
        // Silence counts from when workers could be heard: after an outage, from now (this
        // tick's reads are the first to answer), never for the coordinator's own deafness.
        yield* registry.expireHeard(Incarnation.heard(before, now).since)
      }
      const [active, listed] = yield* both(ActiveSet.refresh(incarnation.active, researches.activeChangedSince), registry.list())
      const hearing = yield* Ref.updateAndGet(incarnation.hearing, (h) => Incarnation.heard(h, now))
      const { leaks, workers } = leakedSlots(active, listed)
      yield* releaseLeaks(leaks)
      return { active, workers, hearingSince: hearing.since, hearing } satisfies Observation
    })

  return { observe }
})
