/**
 * A pull worker's side of assignment (docs/worker-protocol.md): a poll marks
 * the worker as asking until its wait ends, wakes the loop (which may assign
 * it a job), and answers the moment the worker has jobs it does not yet hold,
 * or jobs it holds that are no longer its own. Delivering a job records that
 * the worker took it (pending → running); a job delivered whose answer was
 * lost is delivered again by the next poll that does not list it, so nothing
 * is stranded and nothing runs twice.
 */
import { Clock, Duration, Effect, Option, Schema } from "effect"
import { Assignments } from "../Assignments.js"
import { type Job, JobId, type JobSpec, type WorkerId } from "../Domain.js"
import { type StorageError, WorkerNotFound } from "../Errors.js"
import { ForemanConfig } from "../ForemanConfig.js"
import { Jobs } from "../Jobs.js"
import { Wakeup } from "../Wakeup.js"
import * as Delivery from "./delivery.js"
import * as JobWrites from "./jobWrites.js"

/** Records a heartbeat of the worker, setting until when it asks for work (null: it stopped); none when unknown. */
export type Beat = (id: WorkerId, pollingUntil: number | null) => Effect.Effect<Option.Option<unknown>, StorageError>

/** What a poll asks: how long it may wait, and every job the worker holds. */
export interface PollRequest {
  readonly waitSeconds: number
  readonly running: ReadonlyArray<string>
}

/** What a poll answers: jobs to start, and held jobs to stop. */
export interface PollAnswer {
  readonly jobs: ReadonlyArray<JobSpec>
  readonly stop: ReadonlyArray<string>
}

export interface Polls {
  readonly poll: (id: WorkerId, request: PollRequest) => Effect.Effect<PollAnswer, WorkerNotFound | StorageError>
  /**
   * The first half of a poll: marks the worker as asking until its wait ends,
   * without waking the loop (the caller does, once whatever it writes beside
   * is written); answers when the wait ends.
   */
  readonly ask: (id: WorkerId, request: PollRequest) => Effect.Effect<number, WorkerNotFound | StorageError>
  /** The worker no longer asks for work (its poll ended early: it hung up). */
  readonly stopAsking: (id: WorkerId) => Effect.Effect<void>
  /** The second half: waits until the worker has something to start or stop, or until `deadline`. */
  readonly answer: (id: WorkerId, request: PollRequest, deadline: number) => Effect.Effect<PollAnswer, StorageError>
  /** The jobs among `running` that are no longer the worker's to run. */
  readonly toStop: (id: WorkerId, running: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<string>, StorageError>
}

const isJobId = Schema.is(JobId)

export const make = (beat: Beat) => Effect.gen(function*() {
  const config = yield* ForemanConfig
  const jobStore = yield* Jobs
  const jobs = yield* JobWrites.make
  const assignments = yield* Assignments
  const wakeup = yield* Wakeup

  /**
   * The held jobs the worker must stop: those not assigned to it any more,
   * except those it finished itself (its final report is recorded; the answer
   * may still be on its way to it), which have nothing left to stop.
   */
  const stopping = (id: WorkerId, running: Iterable<string>, assigned: ReadonlyArray<Job>) =>
    Effect.gen(function*() {
      const mine = new Set<string>(assigned.map((job) => job.id))
      const stop: Array<string> = []
      for (const jobId of running) {
        if (mine.has(jobId)) continue
        const job = isJobId(jobId) ? yield* jobStore.getJob(jobId) : Option.none()
        const finishedHere = Option.exists(job, (j) => j.workerId === id && (j.status === "completed" || j.status === "failed"))
        if (!finishedHere) stop.push(jobId)
      }
      return stop
    })

  /** Jobs offered again that the worker lists as held: it has them (a registration crossed their delivery). */
  const acknowledge = (running: ReadonlySet<string>, assigned: ReadonlyArray<Job>, now: number) =>
    Effect.forEach(
      assigned.filter((job) => job.status === "pending" && running.has(job.id)),
      (job) => jobs.dispatched(job, now),
      { discard: true }
    )

  /** Delivers the jobs the worker does not hold: those taken (a pending one is recorded as running). */
  const deliver = (fresh: ReadonlyArray<Job>, now: number) =>
    Effect.gen(function*() {
      const start: Array<JobSpec> = []
      for (const job of fresh) {
        if (job.status === "pending" && !(yield* jobs.dispatched(job, now))) continue
        start.push(Delivery.specOf(job))
      }
      return start
    })

  /**
   * What the worker should start and stop now, delivering what it starts.
   * With jobs to start, a worker that asks stops asking beside their delivery
   * (it polls again for more), so nothing more is assigned to it meanwhile;
   * answers whether it still asks.
   */
  const look = (id: WorkerId, running: ReadonlySet<string>, now: number) =>
    Effect.gen(function*() {
      const assigned = yield* jobStore.jobsOnWorker(id)
      const fresh = assigned.filter((job) => !running.has(job.id))
      const [stop, start] = yield* Effect.all([
        Effect.zipRight(acknowledge(running, assigned, now), stopping(id, running, assigned)),
        deliver(fresh, now),
        fresh.length > 0 ? beat(id, null) : Effect.void
      ], { concurrency: fresh.length > 0 ? 3 : 1 })
      return { answer: { jobs: start, stop } satisfies PollAnswer, asking: fresh.length === 0 }
    })

  const ask = (id: WorkerId, request: PollRequest) =>
    Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      // A poll never outlasts half the time a silent worker stays online: it answers (empty)
      // and the worker's next poll is heard as a heartbeat before the worker could be taken for gone.
      const wait = Math.min(request.waitSeconds, config.workerOfflineAfterSeconds / 2)
      const deadline = start + Math.round(wait * 1000)
      const asking = yield* beat(id, deadline)
      if (Option.isNone(asking)) return yield* new WorkerNotFound({ workerId: id })
      return deadline
    })

  const stopAsking = (id: WorkerId) => Effect.ignore(beat(id, null))
  // A worker that hung up stops asking at once, so no job is assigned to it.
  const stopsAsking = (id: WorkerId) => Effect.onInterrupt(() => stopAsking(id))

  const answer = (id: WorkerId, request: PollRequest, deadline: number) =>
    Effect.gen(function*() {
      const running = new Set(request.running)
      for (;;) {
        const now = yield* Clock.currentTimeMillis
        const { answer: found, asking } = yield* look(id, running, now)
        if (found.jobs.length > 0 || found.stop.length > 0 || now >= deadline) {
          // The worker is no longer asking: it has work (it polls again for more), or its wait is over.
          if (asking && now < deadline) yield* beat(id, null)
          return found
        }
        // Every job it was to start was taken back meanwhile: it asks again.
        if (!asking) {
          yield* beat(id, deadline)
          yield* wakeup.signal
        }
        yield* Effect.raceFirst(assignments.await(id), Effect.sleep(Duration.millis(deadline - now)))
      }
    })

  const poll = (id: WorkerId, request: PollRequest) =>
    Effect.gen(function*() {
      const deadline = yield* ask(id, request)
      yield* wakeup.signal
      return yield* answer(id, request, deadline)
    }).pipe(stopsAsking(id))

  const toStop = (id: WorkerId, running: ReadonlyArray<string>) =>
    running.length === 0 ? Effect.succeed([]) : Effect.gen(function*() {
      const assigned = yield* jobStore.jobsOnWorker(id)
      yield* acknowledge(new Set(running), assigned, yield* Clock.currentTimeMillis)
      return yield* stopping(id, running, assigned)
    })

  return { poll, ask, answer, stopAsking, toStop } satisfies Polls
})
