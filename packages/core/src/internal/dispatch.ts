/**
 * Dispatch: a job the tick started on a worker is delivered to it (see
 * `delivery.ts`), and what came of it is recorded. `afterFailure` decides what
 * a failed delivery means, from what the `DispatchError` says:
 *
 * - The worker refused it, full or shutting down: a scheduling fact. The job
 *   goes back to the queue uncounted; the worker gets no more until it says so.
 * - The worker could not be reached. Its process may be dead without a word
 *   (kill -9): it stays `available` until silent past the offline delay, and
 *   while it did, every tick could pick it again, and each failure cost the
 *   job an attempt, so a dead worker could use up a research's attempts before
 *   it was declared offline. So an unreachable worker is taken out of the
 *   rotation (`error`) until a healthy heartbeat or a registration says it is
 *   back (a dead one never does). Whether the attempt counts depends on whether
 *   the job may have reached it: `unsent` (no connection was ever made:
 *   refused, unknown or unreachable host) means it cannot be running the job,
 *   which goes back to its place in the queue uncounted, like a refusal;
 *   `unanswered` (a time-out, a connection dropped once open) means the worker
 *   may have taken it and be running it, so the attempt counts (the job is
 *   lost, retried after the backoff; a result the worker reports later is
 *   still used, see `JobTransitions.revivedBy`). A time-out cannot tell a
 *   connection that was never made from an answer that never came, so it
 *   counts: at most one attempt per time the worker is heard from, since it is
 *   out of the rotation meanwhile.
 * - The worker answered with an error (the job or the request was wrong): it
 *   is alive and stays in the rotation; the attempt is lost and the slot freed
 *   for a retry elsewhere.
 */
import { Cause, Effect, Schedule, Duration } from "effect"
import type { Job, Worker } from "../Domain.js"
import type { DispatchError, StorageError } from "../Errors.js"
import * as Metrics from "../Metrics.js"
import { WorkerRegistry } from "../WorkerRegistry.js"
import * as Delivery from "./delivery.js"
import * as JobWrites from "./jobWrites.js"
import * as Spans from "./spans.js"

/** A job to deliver to the worker holding its slot. */
export interface Dispatch {
  readonly worker: Worker
  readonly job: Job
}

/**
 * What a failed delivery records on the job (`lost`: the attempt counts;
 * `refused`: back to the queue uncounted), and what it does to the worker
 * (`release` its slot; mark it refusing, `full` or `draining`; or take it out
 * of the rotation, `unreachable`).
 */
export type AfterFailure =
  | { readonly outcome: "lost"; readonly worker: "release" | "unreachable" }
  | { readonly outcome: "refused"; readonly worker: "full" | "draining" | "unreachable" }

/** What a failed delivery means for the job and its worker (see the module header). */
export const afterFailure = (error: DispatchError): AfterFailure => {
  if (error.refused !== undefined) return { outcome: "refused", worker: error.refused }
  switch (error.unreachable) {
    case "unsent":
      return { outcome: "refused", worker: "unreachable" }
    case "unanswered":
      return { outcome: "lost", worker: "unreachable" }
    case undefined:
      return { outcome: "lost", worker: "release" }
  }
}

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
          : after.worker === "unreachable"
          ? registry.markUnreachable(worker.id, job.id)
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
      Spans.withSpan("Coordinator.dispatch", {
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
