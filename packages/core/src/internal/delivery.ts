/**
 * How a job reaches its worker, by the worker's protocol. A push worker is
 * sent the job (and its cancel) through the `WorkerTransport`; a pull worker
 * is only told to look: its waiting poll wakes, reads its jobs and takes the
 * new one, or learns that a job it holds is no longer its own.
 */
import { Effect } from "effect"
import { Assignments } from "../Assignments.js"
import { type Job, type JobId, type JobSpec, pulls, type Worker } from "../Domain.js"
import type { DispatchError } from "../Errors.js"
import { WorkerTransport } from "../WorkerTransport.js"

/** What a worker is given of a job: its id, research, kind, attempt and input. */
export const specOf = (job: Job): JobSpec => ({
  jobId: job.id,
  researchId: job.researchId,
  kind: job.kind,
  attempt: job.attempt,
  input: job.input
})

export interface Delivery {
  /** Sends a job to a push worker (`sent`: it took it), or offers it to a pull worker's polls (`offered`). */
  readonly deliver: (worker: Worker, spec: JobSpec) => Effect.Effect<"sent" | "offered", DispatchError>
  /** Stops a job on its worker: a cancel sent to a push worker, a word to a pull worker's polls. */
  readonly withdraw: (worker: Worker, jobId: JobId) => Effect.Effect<void, DispatchError>
}

export const make = Effect.gen(function*() {
  const transport = yield* WorkerTransport
  const assignments = yield* Assignments
  return {
    deliver: (worker, spec) =>
      pulls(worker)
        ? Effect.as(assignments.announce(worker.id), "offered" as const)
        : Effect.as(transport.dispatch(worker, spec), "sent" as const),
    withdraw: (worker, jobId) => pulls(worker) ? assignments.announce(worker.id) : transport.cancel(worker, jobId)
  } satisfies Delivery
})
