/**
 * The domain model: identifiers, researches, jobs, workers, phase results, gate
 * outcomes and budget entries. Everything here is a Schema, so the same shapes
 * validate HTTP bodies, storage rows and simulation reports.
 */
import { Schema } from "effect"
import * as WorkerTransitions from "./WorkerTransitions.js"

/** Research (parent operation) id: `op_` followed by 1–64 url-safe characters. */
export const ResearchId = Schema.String.pipe(
  Schema.pattern(/^op_[A-Za-z0-9_-]{1,64}$/, { message: () => "a research id looks like op_0123abcd" }),
  Schema.brand("@foreman/ResearchId")
)
export type ResearchId = typeof ResearchId.Type

/** Job (child operation) id: `job_` followed by 1–64 url-safe characters. */
export const JobId = Schema.String.pipe(
  Schema.pattern(/^job_[A-Za-z0-9_-]{1,64}$/, { message: () => "a job id looks like job_0123abcd" }),
  Schema.brand("@foreman/JobId")
)
export type JobId = typeof JobId.Type

/** Worker id chosen by the worker: 1–128 characters of letters, digits and `._:-`. */
export const WorkerId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, {
    message: () => "a worker id is 1-128 letters, digits or ._:- and starts with a letter or digit"
  }),
  Schema.brand("@foreman/WorkerId")
)
export type WorkerId = typeof WorkerId.Type

/** Worker type: `training`, `backtest`, or any other lowercase name a pipeline uses. */
export const WorkerType = Schema.String.pipe(
  Schema.pattern(/^[a-z][a-z0-9_-]{0,31}$/, { message: () => "a worker type is a lowercase name such as training" })
)
export type WorkerType = typeof WorkerType.Type

/** Milliseconds since the Unix epoch, read from `Clock`. */
export const Millis = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

/** Phase names of the default research pipeline; pipelines may add others. */
export const Phases = {
  designing: "designing",
  training: "training",
  backtesting: "backtesting",
  assessing: "assessing"
} as const

export const Phase = Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9_-]{0,31}$/))
export type Phase = typeof Phase.Type

export const ResearchStatus = Schema.Literal("pending", "running", "completed", "failed", "cancelled")
export type ResearchStatus = typeof ResearchStatus.Type

/** Statuses a research never leaves. */
export const isTerminalStatus = (status: ResearchStatus): boolean =>
  status === "completed" || status === "failed" || status === "cancelled"

/**
 * `lost`: the worker stopped answering or came back without the job (an attempt
 * that counts). `refused`: the job never started because the worker was full or
 * shutting down, or the dispatch crossed its registration; the research goes
 * back to the head of the queue and the attempt does not count.
 */
export const JobStatus = Schema.Literal("pending", "running", "completed", "failed", "cancelled", "lost", "refused")
export type JobStatus = typeof JobStatus.Type

export const isJobSettled = (status: JobStatus): boolean => status !== "pending" && status !== "running"

/** A strategy: a name plus the designer's specification (opaque to the engine). */
export const Strategy = Schema.Struct({
  name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)),
  spec: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})
export type Strategy = typeof Strategy.Type

/** A designed strategy in the catalogue: stored under its name (unique), with the research that designed it. */
export const StoredStrategy = Schema.Struct({
  strategy: Strategy,
  researchId: ResearchId,
  createdAt: Millis
})
export type StoredStrategy = typeof StoredStrategy.Type

/** Token usage and cost of one LLM call. */
const Tokens = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

/** Token usage and cost of a job's LLM calls, summed. */
export const Usage = Schema.Struct({
  model: Schema.String,
  inputTokens: Tokens,
  outputTokens: Tokens,
  costUsd: Schema.Number.pipe(Schema.nonNegative())
})
export type Usage = typeof Usage.Type

/**
 * One call to a model, answered or not: the tokens the provider reported
 * (`inputTokens` counts every prompt token, the `cachedInputTokens` among them
 * were read from the provider's cache), its cost, how long it took, and why it
 * failed (null when it answered with something usable). `simulated` marks a
 * call no model answered: the offline agents' (recorded under their own name,
 * `offline`), whose invented tokens are priced and charged to the budget all
 * the same so a demo exercises its rules; false when absent.
 */
export const LlmCall = Schema.Struct({
  model: Schema.String,
  inputTokens: Tokens,
  outputTokens: Tokens,
  cachedInputTokens: Tokens,
  costUsd: Schema.Number.pipe(Schema.nonNegative()),
  latencyMs: Schema.Number.pipe(Schema.nonNegative()),
  error: Schema.NullOr(Schema.String),
  simulated: Schema.optional(Schema.Boolean)
})
export type LlmCall = typeof LlmCall.Type

/** What a training worker reports. `kind` selects the classification or regression gate. */
export const TrainingResult = Schema.Struct({
  kind: Schema.optionalWith(Schema.Literal("classification", "regression"), { default: () => "classification" }),
  testAccuracy: Schema.Finite,
  testLoss: Schema.Finite,
  /** The loss after each epoch, for models trained in epochs; the gate's loss-trend check needs them. */
  epochLosses: Schema.optional(Schema.Array(Schema.Finite)),
  directionalAccuracy: Schema.optional(Schema.Finite),
  modelRef: Schema.optional(Schema.String)
})
export type TrainingResult = typeof TrainingResult.Type

/** One day of a backtest's equity curves: the strategy's and buy-and-hold's, both starting at 1. */
export const EquityPoint = Schema.Struct({
  /** The day, `YYYY-MM-DD` (or an ISO date-time). */
  t: Schema.String.pipe(Schema.maxLength(40)),
  strategy: Schema.Finite,
  buyAndHold: Schema.Finite
})
export type EquityPoint = typeof EquityPoint.Type

/** What a backtest worker reports. */
export const BacktestResult = Schema.Struct({
  kind: Schema.optionalWith(Schema.Literal("classification", "regression"), { default: () => "classification" }),
  sharpeRatio: Schema.Finite,
  winRate: Schema.Finite,
  totalReturn: Schema.Finite,
  totalTrades: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  maxDrawdown: Schema.Finite,
  netReturn: Schema.Finite,
  tradeCount: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  /** The instrument's own return over the same days. */
  buyAndHoldReturn: Schema.optional(Schema.Finite),
  /** The equity curves over the backtest's days, both starting at 1. */
  equityCurve: Schema.optional(Schema.Array(EquityPoint))
})
export type BacktestResult = typeof BacktestResult.Type

/** What the assessor concludes. */
export const Assessment = Schema.Struct({
  verdict: Schema.Literal("promising", "inconclusive", "rejected"),
  summary: Schema.String,
  /** The brief the assessor suggests researching next. */
  nextBrief: Schema.optional(Schema.String)
})
export type Assessment = typeof Assessment.Type

/** A gate's outcome; `reason` reads like `accuracy_below_threshold (5.0% < 10%)`. */
export const GateOutcome = Schema.Struct({
  passed: Schema.Boolean,
  reason: Schema.NullOr(Schema.String),
  bypassed: Schema.Boolean
})
export type GateOutcome = typeof GateOutcome.Type

/** A research waiting for a free worker of one type since a moment. */
export const WaitingFor = Schema.Struct({ workerType: WorkerType, since: Millis })
export type WaitingFor = typeof WaitingFor.Type

/** The parent operation: one research cycle. */
export const Research = Schema.Struct({
  id: ResearchId,
  /** The research whose assessment this one follows (its next brief); null for a manual trigger. */
  parentId: Schema.optionalWith(Schema.NullOr(ResearchId), { default: () => null }),
  brief: Schema.String,
  model: Schema.NullOr(Schema.String),
  bypassGates: Schema.Boolean,
  forced: Schema.Boolean,
  phase: Phase,
  status: ResearchStatus,
  strategy: Schema.NullOr(Strategy),
  /** Results by job kind (`design`, `training`, `backtest`, `assessment`, …). */
  results: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  /** Gate outcomes by gate name (`training`, `backtest`). */
  gates: Schema.Record({ key: Schema.String, value: GateOutcome }),
  costUsd: Schema.Number,
  createdAt: Millis,
  updatedAt: Millis,
  finishedAt: Schema.NullOr(Millis),
  waitingFor: Schema.NullOr(WaitingFor),
  activeJobId: Schema.NullOr(JobId),
  /** Jobs started in the current phase (1 for the first). */
  attempt: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  /** Infrastructure failures (lost worker, failed dispatch) in the current phase. */
  failures: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  /** No new job before this moment (retry backoff). */
  retryAt: Schema.NullOr(Millis),
  error: Schema.NullOr(Schema.String),
  version: Schema.Number.pipe(Schema.int(), Schema.nonNegative())
})
export interface Research extends Schema.Schema.Type<typeof Research> {}

/** A child operation: one attempt at one phase, in process or on a worker. */
export const Job = Schema.Struct({
  id: JobId,
  researchId: ResearchId,
  kind: Schema.String,
  phase: Phase,
  workerType: Schema.NullOr(WorkerType),
  workerId: Schema.NullOr(WorkerId),
  status: JobStatus,
  attempt: Schema.Number.pipe(Schema.int(), Schema.positive()),
  progress: Schema.Number.pipe(Schema.between(0, 1)),
  message: Schema.NullOr(Schema.String),
  input: Schema.Unknown,
  result: Schema.Unknown,
  usage: Schema.NullOr(Usage),
  error: Schema.NullOr(Schema.String),
  /** The coordinator incarnation that created (and, in process, runs) the job. */
  epoch: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  /** When the research started waiting for this job's worker type (its place in the queue). */
  queuedSince: Schema.optional(Millis),
  createdAt: Millis,
  updatedAt: Millis,
  finishedAt: Schema.NullOr(Millis)
})
export interface Job extends Schema.Schema.Type<typeof Job> {}

/** What a worker receives: enough to run the job and report on it. */
export const JobSpec = Schema.Struct({
  jobId: JobId,
  researchId: ResearchId,
  kind: Schema.String,
  attempt: Schema.Number,
  input: Schema.Unknown
})
export type JobSpec = typeof JobSpec.Type

/**
 * `available` has a free slot, `busy` has none (or said it is full), `draining`
 * is shutting down and takes no new jobs, `error` reported itself unhealthy,
 * `offline` missed its heartbeats. Its changes are decided by `WorkerTransitions`.
 */
export const WorkerStatus = WorkerTransitions.Status
export type WorkerStatus = WorkerTransitions.Status

/**
 * How a worker gets its jobs: `pull` workers connect out and poll for them
 * (docs/worker-protocol.md); `push` workers (the legacy protocol) serve an
 * endpoint the coordinator posts each job to.
 */
export const WorkerProtocol = Schema.Literal("push", "pull")
export type WorkerProtocol = typeof WorkerProtocol.Type

/** A registered external worker process. */
export const Worker = Schema.Struct({
  id: WorkerId,
  type: WorkerType,
  /** Where a push worker takes jobs; empty for a pull worker. */
  endpoint: Schema.String,
  /** Absent: `push` (workers stored before the pull protocol). */
  protocol: Schema.optional(WorkerProtocol),
  /** What the worker runs on, as it says (`python 3.11`, `node 20`); absent when it did not say. */
  runtime: Schema.optional(Schema.String),
  /**
   * Until when a pull worker waits in a poll: only then is a job assigned to
   * it (a job goes only to a worker that asked for one). Absent or null: not polling.
   */
  pollingUntil: Schema.optional(Schema.NullOr(Millis)),
  status: WorkerStatus,
  capacity: Schema.Number.pipe(Schema.int(), Schema.positive()),
  currentJobs: Schema.Array(JobId),
  capabilities: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  registeredAt: Millis,
  lastHeartbeatAt: Millis
})
export interface Worker extends Schema.Schema.Type<typeof Worker> {}

/** Whether a worker pulls its jobs (see `WorkerProtocol`). */
export const pulls = (worker: Worker): boolean => worker.protocol === "pull"

/** Whether a worker is asking for a job at `now`: always for push workers, while a poll waits for pull workers. */
export const isAsking: (worker: Worker, now: number) => boolean = WorkerTransitions.isAsking

/** Whether a worker can be given one more job at `now` (`WorkerTransitions.canTake`). */
export const hasFreeSlot: (worker: Worker, now: number) => boolean = WorkerTransitions.canTake

/**
 * Whether a worker in this status takes jobs when it has a free slot (not draining, in error or offline).
 * @deprecated Use `WorkerTransitions.takesJobs`.
 */
export const takesJobs: (status: WorkerStatus) => boolean = WorkerTransitions.takesJobs

/**
 * The status a worker taking jobs has with `jobs` running: available or busy; others keep theirs.
 * @deprecated Use `WorkerTransitions` (`released`, `claimed`, `registered`), which own the worker's status.
 */
export const loadStatus = (worker: Worker, jobs: number): WorkerStatus =>
  WorkerTransitions.released(worker.status, WorkerTransitions.isFull(jobs, worker.capacity))

/** One charged LLM call. */
export const BudgetEntry = Schema.Struct({
  researchId: ResearchId,
  jobId: JobId,
  /** The call's place among its job's calls, from 0. */
  call: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  ...LlmCall.fields,
  at: Millis
})
export type BudgetEntry = typeof BudgetEntry.Type

/** A report from a worker (or an in-process job) about one job. */
export const JobReport = Schema.Union(
  Schema.TaggedStruct("Progress", {
    jobId: JobId,
    workerId: WorkerId,
    progress: Schema.Number.pipe(Schema.between(0, 1)),
    message: Schema.optional(Schema.String.pipe(Schema.maxLength(1000)))
  }),
  Schema.TaggedStruct("Completed", { jobId: JobId, workerId: WorkerId, result: Schema.Unknown }),
  Schema.TaggedStruct("Failed", { jobId: JobId, workerId: WorkerId, error: Schema.String.pipe(Schema.maxLength(10_000)) })
)
export type JobReport = typeof JobReport.Type
