/**
 * Dispatch: a job the tick started on a worker is delivered to it (see
 * `delivery.ts`), and what came of it is recorded. `afterFailure` decides what
 * a failed delivery means: a worker that is full or shutting down refused it
 * (a scheduling fact: the job goes back to the queue uncounted and the worker
 * gets no more until it says so); any other failure loses the attempt and
 * frees the worker's slot for a retry elsewhere.
 */
import { Cause, Effect, Schedule, Duration } from "effect"
import type { Job, Worker } from "../Domain.js"
import type { DispatchError, StorageError } from "../Errors.js"
import * as Metrics from "../Metrics.js"
import { WorkerRegistry } from "../WorkerRegistry.js"
import * as Delivery from "./delivery.js"
import * as JobWrites from "./jobWrites.js"

/** A job to deliver to the worker holding its slot. */
export interface Dispatch {
  readonly worker: Worker
  readonly job: Job
}

/** What a failed delivery records on the job, and what it does to the worker. */
export type AfterFailure =
  | { readonly outcome: "lost"; readonly worker: "release" }
  | { readonly outcome: "refused"; readonly worker: "full" | "draining" }

/** A refusal sends the job back to the queue and marks the worker refusing; anything else loses it. */
export const afterFailure = (error: DispatchError): AfterFailure =>
  error.refused === undefined ? { outcome: "lost", worker: "release" } : { outcome: "refused", worker: error.refused }

/**
 * A write after a dispatch, retried while storage fails for a moment; a job
 * whose dispatch stays unrecorded is dispatched again after the grace.
 */
const bookkeeping = <A>(write: Effect.Effect<A, StorageError>) =>
  Effect.retry(write, { schedule: Schedule.exponential(Duration.millis(200)), times: 3 })

/** Delivers jobs and records the outcome; never fails (bookkeeping that fails is logged). */
export const make = Effect.gen(function*() {
  const delivery = yield* Delivery.make
  const jobs = yield* JobWrites.make
  const registry = yield* WorkerRegistry

  const undelivered = (now: number, { job, worker }: Dispatch, error: DispatchError) =>
    Effect.gen(function*() {
      const after = afterFailure(error)
      yield* Effect.logWarning(
        `${job.id}: ${error.message}; ${after.outcome === "lost" ? "will retry on another worker" : "back to the queue"}`
      )
      yield* bookkeeping(jobs.undelivered(job, after.outcome, error.message, now))
      yield* bookkeeping(
        after.worker === "release"
          ? registry.release(worker.id, job.id)
          : registry.markRefusing(worker.id, job.id, after.worker)
      )
    })

  /** Sends the job to its worker (sent, recorded as running) or offers it to its polls (recorded when taken). */
  const dispatch = (now: number, d: Dispatch) =>
    delivery.deliver(d.worker, Delivery.specOf(d.job)).pipe(
      Metrics.trackDispatch(d.worker.type),
      Effect.matchEffect({
        onSuccess: (how) => how === "sent" ? Effect.asVoid(bookkeeping(jobs.dispatched(d.job, now))) : Effect.void,
        onFailure: (error) => undelivered(now, d, error)
      }),
      Effect.catchAll((error) => Effect.logError(`dispatch bookkeeping failed: ${error.message}`, Cause.fail(error))),
      Effect.withSpan("Coordinator.dispatch", {
        attributes: {
          "foreman.research.id": d.job.researchId,
          "foreman.job.id": d.job.id,
          "foreman.job.kind": d.job.kind,
          "foreman.worker.id": d.worker.id,
          "foreman.worker.type": d.worker.type
        },
        captureStackTrace: false
      })
    )

  return { dispatch }
})
