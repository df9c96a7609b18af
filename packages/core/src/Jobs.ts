/**
 * Port: durable storage of jobs, the child operations of researches. Jobs are
 * created and moved by a research's transitions (`Researches.commit`); here
 * they are read, and changed one at a time by workers' reports, each change
 * conditional on the job's current status.
 */
import type { Effect, Option } from "effect"
import { Context } from "effect"
import type { Job, JobId, JobStatus, ResearchId, WorkerId } from "./Domain.js"
import type { StorageError } from "./Errors.js"

/** How many jobs a worker completed and how many failed (lost ones included). */
export interface WorkerJobCounts {
  readonly workerId: WorkerId
  readonly completed: number
  readonly failed: number
}

/** The fields a worker's report changes on its job. */
export type JobPatch =
  & Pick<Job, "status" | "updatedAt">
  & Partial<Pick<Job, "progress" | "message" | "result" | "error" | "finishedAt">>

/** The jobs port. */
export interface JobsShape {
  readonly getJob: (id: JobId) => Effect.Effect<Option.Option<Job>, StorageError>
  /** Jobs of one research, oldest first. */
  readonly jobsOf: (researchId: ResearchId) => Effect.Effect<ReadonlyArray<Job>, StorageError>
  /** Pending or running jobs assigned to one worker. */
  readonly jobsOnWorker: (workerId: WorkerId) => Effect.Effect<ReadonlyArray<Job>, StorageError>
  /**
   * Applies `patch` to a job in one step, only if it is assigned to `workerId` and its
   * status is one of `expected`; answers the job as written, or none when nothing matched.
   */
  readonly patchJob: (
    id: JobId,
    workerId: WorkerId,
    patch: JobPatch,
    expected: ReadonlyArray<JobStatus>
  ) => Effect.Effect<Option.Option<Job>, StorageError>
  /** Writes `job` only if the stored job's status is one of `expected`; tells whether it did. */
  readonly updateJob: (job: Job, expected: ReadonlyArray<JobStatus>) => Effect.Effect<boolean, StorageError>
  /**
   * Every job of the researches created in `[from, to)`, by creation time
   * (ties by id): what a plan reads of the recorded history.
   */
  readonly jobsOfResearchesBetween: (from: number, to: number) => Effect.Effect<ReadonlyArray<Job>, StorageError>
  /** Jobs completed and failed on each worker that ran any. */
  readonly jobCountsByWorker: Effect.Effect<ReadonlyArray<WorkerJobCounts>, StorageError>
}

export class Jobs extends Context.Tag("@foreman/core/Jobs")<Jobs, JobsShape>() {}
