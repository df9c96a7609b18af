/**
 * Port: how the coordinator reaches workers. Dispatch is at-least-once; workers
 * must accept a repeated job id idempotently.
 */
import type { Effect, Option } from "effect"
import { Context } from "effect"
import type { JobId, JobReport, JobSpec, Worker } from "./Domain.js"
import type { DispatchError } from "./Errors.js"

export interface WorkerTransportShape {
  readonly dispatch: (worker: Worker, spec: JobSpec) => Effect.Effect<void, DispatchError>
  readonly cancel: (worker: Worker, jobId: JobId) => Effect.Effect<void, DispatchError>
  /** The worker's latest word on a job, if it knows it. */
  readonly status: (worker: Worker, jobId: JobId) => Effect.Effect<Option.Option<JobReport>, DispatchError>
}

export class WorkerTransport extends Context.Tag("@foreman/core/WorkerTransport")<
  WorkerTransport,
  WorkerTransportShape
>() {}
