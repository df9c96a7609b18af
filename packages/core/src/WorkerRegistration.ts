/**
 * What a worker sends when it registers, and what the registration answers it
 * (`WorkerRegistry.register`; the HTTP API carries both unchanged).
 */
import { Schema } from "effect"
import { JobReport, type Worker, WorkerId, WorkerType } from "./Domain.js"
import { filter as filterStorable } from "./Storable.js"

/** What a worker says when it registers. */
export const Registration = Schema.Struct({
  id: WorkerId,
  type: WorkerType,
  /** Where a push worker takes jobs (the legacy protocol); a worker without one pulls its jobs. */
  endpoint: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(2048), filterStorable)),
  /** What the worker runs on, shown to operators (`python 3.11`). */
  runtime: Schema.optional(Schema.String.pipe(Schema.maxLength(200), filterStorable)),
  capacity: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.between(1, 1024)), { default: () => 1 }),
  capabilities: Schema.optionalWith(filterStorable(Schema.Record({ key: Schema.String, value: Schema.Unknown })), {
    default: () => ({})
  }),
  /** Jobs the worker is running now. */
  runningJobs: Schema.optionalWith(Schema.Array(Schema.String.pipe(Schema.maxLength(200), filterStorable)), {
    default: () => []
  }),
  /**
   * Orders this worker's registrations (its clock in ms, growing with each one,
   * across restarts): a registration delivered after a later one changes nothing.
   */
  sequence: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  /** Jobs that finished while the coordinator could not be told (one storage cannot keep fails its job, see `register`). */
  finishedJobs: Schema.optionalWith(Schema.Array(JobReport), { default: () => [] })
})
export type Registration = typeof Registration.Type
export type RegistrationInput = typeof Registration.Encoded

/** What a registration answers the worker. */
export interface RegistrationResult {
  readonly worker: Worker
  /**
   * The longest pause between the worker's attempts to reach the coordinator
   * that the coordinator tolerates: a worker silent for longer than its grace
   * has its jobs declared lost, so its re-registration backoff must stay below.
   */
  readonly retryWithinSeconds: number
  /**
   * Jobs the worker must not run: those it runs that the coordinator does not
   * assign to it, and those this registration declared lost (a dispatch that
   * crossed the registration; they run elsewhere). Stop them, and refuse them
   * if they arrive later.
   */
  readonly cancel: ReadonlyArray<string>
}
