/**
 * The coordinator's status view as data: every active research, the workers'
 * slots per type, today's budget and the capacity. A module of its own so the
 * metrics can read it without importing the coordinator.
 */
import { Schema } from "effect"
import { BudgetStatus } from "./Budget.js"
import { JobId, ResearchId, ResearchStatus, WorkerId } from "./Domain.js"

/** One active research as the status view shows it. */
export const ActiveResearch = Schema.Struct({
  id: ResearchId,
  phase: Schema.String,
  status: ResearchStatus,
  strategy: Schema.NullOr(Schema.String),
  elapsedSeconds: Schema.Number,
  /** Overall progress, 0 to 1. */
  progress: Schema.Number,
  /** The worker type it waits for, and for how long. */
  waitingFor: Schema.NullOr(Schema.Struct({ workerType: Schema.String, seconds: Schema.Number })),
  /** Its active job. */
  job: Schema.NullOr(Schema.Struct({
    id: JobId,
    kind: Schema.String,
    workerId: Schema.NullOr(WorkerId),
    progress: Schema.Number
  }))
})
export type ActiveResearch = typeof ActiveResearch.Type

/** Active researches against the limit on them. */
export const Capacity = Schema.Struct({ active: Schema.Number, limit: Schema.Number })
export type Capacity = typeof Capacity.Type

/** The status view: active researches, workers, today's budget and capacity. */
/** The autopilot in the status view: whether it runs (or why it stopped), what it keeps, started and runs now. */
export const AutopilotSummary = Schema.Struct({
  status: Schema.Literal("running", "stopped"),
  keep: Schema.Number,
  max: Schema.NullOr(Schema.Number),
  /** How many researches it started. */
  started: Schema.Number,
  /** How many of them run now. */
  running: Schema.Number,
  stopMessage: Schema.NullOr(Schema.String)
})
export type AutopilotSummary = typeof AutopilotSummary.Type

export const CoordinatorStatus = Schema.Struct({
  active: Schema.Array(ActiveResearch),
  /** Job slots busy and in total, and workers, per worker type (offline workers excluded). */
  workers: Schema.Record({
    key: Schema.String,
    value: Schema.Struct({ busy: Schema.Number, total: Schema.Number, workers: Schema.Number })
  }),
  budget: BudgetStatus,
  capacity: Capacity,
  /** The autopilot, once started (absent: never, or the storage keeps none). */
  autopilot: Schema.optional(AutopilotSummary)
})
export type CoordinatorStatus = typeof CoordinatorStatus.Type
