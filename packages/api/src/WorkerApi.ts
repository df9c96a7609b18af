/**
 * The HTTP contract of a worker, as the coordinator reaches it: submit a job
 * (idempotent by job id), look at one, cancel one, and a health check. The
 * worker runtime (`WorkerHost`) serves it; `HttpWorkerTransport` derives its
 * client from it.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as Domain from "@foreman/core/Domain"
import { Schema } from "effect"
import { Authorization, Unauthorized } from "./Wire.js"

/** The worker will not take the job now (draining, or full); the coordinator tries another. */
export class WorkerUnavailable extends Schema.TaggedError<WorkerUnavailable>()(
  "WorkerUnavailable",
  {
    message: Schema.String,
    /** Why: `full`, `draining` (shutting down), or `disowned` (the coordinator said the job runs elsewhere). */
    reason: Schema.optional(Schema.Literal("full", "draining", "disowned"))
  },
  HttpApiSchema.annotations({ status: 503 })
) {}

export class UnknownJob extends Schema.TaggedError<UnknownJob>()(
  "UnknownJob",
  { jobId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** A job as its worker sees it. */
export const JobState = Schema.Struct({
  jobId: Domain.JobId,
  status: Schema.Literal("pending", "running", "completed", "failed", "cancelled"),
  progress: Schema.Number,
  /** The job's last progress message. */
  message: Schema.optional(Schema.String),
  attempts: Schema.Number,
  result: Schema.optional(Schema.Unknown),
  error: Schema.optional(Schema.String)
})
export type JobState = typeof JobState.Type

const jobId = HttpApiSchema.param("jobId", Domain.JobId)

export class JobsGroup extends HttpApiGroup.make("jobs")
  .add(
    HttpApiEndpoint.post("submit", "/jobs")
      .setPayload(Domain.JobSpec)
      .addSuccess(JobState, { status: 202 })
      .addError(WorkerUnavailable)
  )
  .add(HttpApiEndpoint.get("get")`/jobs/${jobId}`.addSuccess(JobState).addError(UnknownJob))
  .add(HttpApiEndpoint.del("cancel")`/jobs/${jobId}`.addSuccess(JobState).addError(UnknownJob))
  .addError(Unauthorized)
  .middleware(Authorization)
{}

export class WorkerHealthGroup extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("health", "/health").addSuccess(Schema.Struct({
      status: Schema.Literal("ok", "draining"),
      workerId: Schema.String,
      type: Schema.String,
      running: Schema.Number,
      capacity: Schema.Number
    }))
  )
{}

/** A worker's API. */
export class WorkerApi extends HttpApi.make("foreman-worker").add(JobsGroup).add(WorkerHealthGroup) {}
