/**
 * The bodies of the worker protocol (docs/worker-protocol.md), as the
 * coordinator's API takes and answers them: registration, poll, heartbeat and
 * report, with the header a worker's credential travels in. `Api.ts` builds
 * the endpoints from them and re-exports them.
 */
import * as Domain from "@foreman/core/Domain"
import * as Storable from "@foreman/core/Storable"
import type * as WorkerRegistry from "@foreman/core/WorkerRegistry"
import { Schema } from "effect"

/** Where the worker protocol is written down. */
export const workerProtocolDoc = "https://github.com/foreman-lab/foreman/blob/main/docs/worker-protocol.md"

export const WorkerQuery = Schema.Struct({
  type: Schema.optional(Domain.WorkerType),
  status: Schema.optional(Domain.WorkerStatus)
})

export const RegistrationAccepted = Schema.Struct({
  worker: Domain.Worker,
  /**
   * This registration's credential: send it as `X-Foreman-Worker-Secret` with
   * heartbeats, reports and the deregistration. A later registration of the
   * same id replaces it.
   */
  secret: Schema.String,
  /** The longest pause between attempts to reach the coordinator that it tolerates before declaring jobs lost. */
  retryWithinSeconds: Schema.Number,
  /** Jobs that are not the worker's to run (assigned elsewhere, or declared lost by this registration): stop or refuse them. */
  cancel: Schema.Array(Schema.String),
  /** The version of the worker protocol this coordinator speaks (docs/worker-protocol.md). */
  protocolVersion: Schema.optional(Schema.Number)
})

/** The version of the worker protocol (docs/worker-protocol.md) this API speaks. */
export const workerProtocolVersion = 1

/** Where the worker protocol is written down for people (linked from the OpenAPI document). */

/** Ids of jobs a worker says it holds (running, or with a final report not yet answered). */
const HeldJobs = Schema.Array(Storable.filter(Schema.String.pipe(Schema.maxLength(200)))).pipe(Schema.maxItems(1024))

/** A pull worker asks for work. */
export const PollBody = Schema.Struct({
  /** How long the call may wait for a job, in seconds (0–60, default 20). */
  waitSeconds: Schema.optional(Schema.Number.pipe(Schema.between(0, 60))),
  /** Every job the worker holds: running, or finished with its final report not yet answered (default none). */
  running: Schema.optional(HeldJobs)
})

/** A poll as the registry takes it, the defaults filled in. */
export const pollRequest = (body: typeof PollBody.Type): WorkerRegistry.PollRequest => ({
  waitSeconds: body.waitSeconds ?? 20,
  running: body.running ?? []
})

/** What a poll answers: jobs to start (assigned to the worker, not among those it holds), and held jobs to stop. */
export const PollAnswer = Schema.Struct({
  jobs: Schema.Array(Domain.JobSpec),
  /** Jobs the worker listed that are no longer its own (cancelled, or given to another worker): stop them. */
  stop: Schema.Array(Schema.String)
})

/** The header a worker sends its registration's credential in. */
export const workerSecretHeader = "x-foreman-worker-secret"

/** The credential a registration handed out, on the calls a worker makes about itself. */
export const WorkerCredential = Schema.Struct({ [workerSecretHeader]: Schema.optional(Schema.String) })

export const Heartbeat = Schema.Struct({
  healthy: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** The jobs the worker holds (pull workers): the answer's `stop` names those no longer its own. */
  running: Schema.optional(HeldJobs)
})

/** A heartbeat's answer: the worker as stored, and the held jobs it must stop. */
export const HeartbeatAnswer = Schema.Struct({ ...Domain.Worker.fields, stop: Schema.Array(Schema.String) })

/** `self`, refusing what storage cannot keep (`Storable`) with a message naming `field`. */
const storable = <S extends Schema.Schema.Any>(field: string, self: S) =>
  self.pipe(Schema.filter(Storable.isStorable, { message: () => `${field}: ${Storable.reason}` }))

/**
 * A worker's report on one of its jobs (the ids come from the path). Text
 * storage cannot keep is refused (400) here, not by the database (503, which
 * the worker would take for a passing trouble and send again forever).
 */
export const ReportBody = Schema.Union(
  Schema.TaggedStruct("Progress", {
    progress: Schema.Number.pipe(Schema.between(0, 1)),
    message: Schema.optional(storable("message", Schema.String.pipe(Schema.maxLength(1000))))
  }),
  Schema.TaggedStruct("Completed", { result: storable("result", Schema.Unknown), next: Schema.optional(PollBody) }),
  Schema.TaggedStruct("Failed", {
    error: storable("error", Schema.String.pipe(Schema.maxLength(10_000))),
    next: Schema.optional(PollBody)
  })
)

/** A report's answer: the job as stored, and with `next` asked for, the worker's next poll answered. */
export const ReportAnswer = Schema.Struct({ ...Domain.Job.fields, next: Schema.optional(PollAnswer) })

