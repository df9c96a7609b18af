/**
 * Cancelling one research by id. `decide` says what a cancel of a research
 * does as it stands (nothing for one already cancelled, `NotCancellable` for
 * one that completed or failed); the research and its live job are written
 * cancelled together by `JobWrites.cancel`, conditional on the research's
 * version, and tried again when the research changed meanwhile (`CancelConflict`
 * when it changed every time). Once written,
 * the job is stopped where it runs: its in-process fiber interrupted, or its
 * worker told and its slot freed (a worker that cannot be reached also leaves
 * the rotation until it is heard from).
 */
import { Clock, Effect, Metric, Option } from "effect"
import { type CoordinatorEvent, CoordinatorEvents } from "../CoordinatorEvents.js"
import { isJobSettled, isTerminalStatus, type Job, type JobId, type Research, type ResearchId, type WorkerId } from "../Domain.js"
import { CancelConflict, NotCancellable, type ResearchNotFound, type StorageError } from "../Errors.js"
import * as Metrics from "../Metrics.js"
import { Jobs } from "../Jobs.js"
import { Wakeup } from "../Wakeup.js"
import { WorkerRegistry } from "../WorkerRegistry.js"
import * as Delivery from "./delivery.js"
import * as JobWrites from "./jobWrites.js"

/** What a cancel does to a research as read. */
export type Decision =
  | { readonly _tag: "AlreadyCancelled" }
  | { readonly _tag: "Refuse"; readonly error: NotCancellable }
  | { readonly _tag: "Cancel" }

/** Cancelling is idempotent; a research that completed or failed cannot be cancelled. */
export const decide = (research: Research): Decision =>
  research.status === "cancelled"
    ? { _tag: "AlreadyCancelled" }
    : isTerminalStatus(research.status)
    ? { _tag: "Refuse", error: new NotCancellable({ researchId: research.id, status: research.status }) }
    : { _tag: "Cancel" }

/** The worker job a cancel stops: the research's job, while it is live and on a worker. */
export const workerJobToStop = (job: Job | undefined): { readonly workerId: WorkerId; readonly jobId: JobId } | null =>
  job === undefined || isJobSettled(job.status) || job.workerId === null ? null : { workerId: job.workerId, jobId: job.id }

/** What a cancelled research announces. */
export const cancelledEvent = (research: Research, now: number): Extract<CoordinatorEvent, { _tag: "Transition" }> => ({
  _tag: "Transition",
  at: now,
  researchId: research.id,
  phase: research.phase,
  status: research.status,
  waitingFor: null,
  error: null
})

/** How many times a cancel reads and writes again a research that keeps changing. */
const ATTEMPTS = 5

/**
 * The cancel over storage and the registry. `find` reads a research (or fails
 * `ResearchNotFound`); `stopInProcess` interrupts its in-process job, if this
 * process runs one.
 */
export const make = (
  find: (id: ResearchId) => Effect.Effect<Research, ResearchNotFound | StorageError>,
  stopInProcess: (id: ResearchId) => Effect.Effect<void>
) =>
  Effect.gen(function*() {
    const jobStore = yield* Jobs
    const jobs = yield* JobWrites.make
    const registry = yield* WorkerRegistry
    const delivery = yield* Delivery.make
    const events = yield* CoordinatorEvents
    const wakeup = yield* Wakeup

    /**
     * Tells the worker and frees the job's slot. A worker the cancel cannot reach leaves the rotation
     * (`markUnreachable`, which frees the slot too), as after a dispatch that cannot reach it: it is back
     * when it is heard from, and a result it sends for the job meanwhile changes nothing.
     */
    const stopWorkerJob = (workerId: WorkerId, jobId: JobId) =>
      Effect.gen(function*() {
        const worker = yield* registry.get(workerId).pipe(Effect.option)
        const unreachable = Option.isNone(worker) ? false : yield* delivery.withdraw(worker.value, jobId).pipe(
          Effect.as(false),
          Effect.catchAll((error) =>
            Effect.as(Effect.logWarning(`could not cancel ${jobId} on ${workerId}: ${error.reason}`), error.unreachable !== undefined)
          )
        )
        yield* unreachable ? registry.markUnreachable(workerId, jobId) : registry.release(workerId, jobId)
      })

    /**
     * What follows a cancel written: the change announced at once (events go
     * out in the order of the writes they announce: a trigger admitted into the
     * slot this cancel freed must not be announced first, while the worker is
     * still being told), then its job stopped and the loop woken.
     */
    const stopped = (research: Research, job: Job | undefined, now: number) =>
      Effect.gen(function*() {
        yield* events.publish(cancelledEvent(research, now))
        yield* stopInProcess(research.id)
        const onWorker = workerJobToStop(job)
        if (onWorker !== null) yield* stopWorkerJob(onWorker.workerId, onWorker.jobId)
        yield* Metric.increment(Metrics.labelled(Metrics.researchesFinished, { status: "cancelled" }))
        yield* Effect.logDebug(`research ${research.id} cancelled`)
        yield* wakeup.signal
      })

    return Effect.fn("Coordinator.cancel")(function*(id: ResearchId) {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const research = yield* find(id)
        const decision = decide(research)
        if (decision._tag === "AlreadyCancelled") return research
        if (decision._tag === "Refuse") return yield* decision.error
        const job = research.activeJobId === null
          ? undefined
          : Option.getOrUndefined(yield* jobStore.getJob(research.activeJobId))
        const now = yield* Clock.currentTimeMillis
        const written = yield* jobs.cancel(research, job, now)
        if (Option.isNone(written)) continue
        yield* stopped(written.value, job, now)
        return written.value
      }
      return yield* new CancelConflict({ researchId: id, attempts: ATTEMPTS })
    })
  })
