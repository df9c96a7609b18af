/** A job of a worker's queue as `WorkerApi` shows it to the coordinator. */
import type * as Domain from "@foreman/core/Domain"
import type { JobState } from "@foreman/api/WorkerApi"
import type * as JobQueue from "../JobQueue.js"

/** A job as `WorkerApi` shows it. */
export const toJobState = (entry: JobQueue.Entry<Domain.JobSpec, unknown>): JobState => ({
  jobId: entry.input.jobId,
  status: entry.status,
  progress: entry.progress,
  attempts: entry.attempts,
  ...(entry.message === null ? {} : { message: entry.message }),
  ...(entry.status === "completed" && entry.result !== undefined ? { result: entry.result } : {}),
  ...((entry.status === "failed" || entry.status === "cancelled") && entry.error !== null ? { error: entry.error } : {})
})
