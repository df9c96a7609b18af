/**
 * The coordinator: the imperative shell around the pipeline, as one service.
 * One loop advances every active research: a tick reads the world in a
 * constant number of queries, has `TickPlan` decide what happens, then carries
 * the plan out (claims worker slots, commits each transition atomically,
 * forks in-process jobs and dispatches worker jobs). The same service
 * triggers (with capacity and budget checks), cancels, and reports status.
 *
 * This module holds the public face (the tag, its interface, the request and
 * answer schemas) and composes the concerns, each a module of its own under
 * `internal/` with its decisions pure and tested apart: `admission` (trigger),
 * `cancel`, `queries` (the read side), `tick` with `observe`, `tickChanges`,
 * `runner` (in-process jobs) and `dispatch` (worker jobs), and `leadership`
 * with `incarnation` (the loop under the lease).
 */
import { Context, Effect, Exit, Layer, Option, Ref, Schema, type Scope } from "effect"
import type { Assessor, Designer } from "./Agents.js"
import { Budget, type BudgetDay } from "./Budget.js"
import type { CoordinatorEvents } from "./CoordinatorEvents.js"
import type { Capacity, CoordinatorStatus } from "./CoordinatorStatus.js"
import type { CoordinatorLease } from "./CoordinatorLease.js"
import { BudgetEntry, Job, type JobReport, Research, ResearchId, Strategy, Worker } from "./Domain.js"
import {
  type AtCapacity,
  type BudgetExhausted,
  type CancelConflict,
  describeParseError,
  type IdempotencyKeyReused,
  InvalidInput,
  type JobNotAssigned,
  type JobNotFound,
  type NotCancellable,
  type ResearchNotFound,
  type StorageError,
  type StrategyNotFound
} from "./Errors.js"
import type { ForemanConfig } from "./ForemanConfig.js"
import type * as History from "./History.js"
import * as Admission from "./internal/admission.js"
import * as AutopilotInterpreter from "./internal/autopilot.js"
import * as Batcher from "./internal/batcher.js"
import type { AutopilotApi } from "./internal/autopilot.js"
import * as Cancel from "./internal/cancel.js"
import * as Incarnation from "./internal/incarnation.js"
import * as Leadership from "./internal/leadership.js"
import * as Queries from "./internal/queries.js"
import * as Runner from "./internal/runner.js"
import * as Spans from "./internal/spans.js"
import * as Tick from "./internal/tick.js"
import type { Jobs } from "./Jobs.js"
import { type ResearchFilter, type ResearchQuery, Researches, type ResearchTotals } from "./Researches.js"
import type { Strategies } from "./Strategies.js"
import * as Storable from "./Storable.js"
import type * as StrategyCatalogue from "./StrategyCatalogue.js"
import type { Wakeup } from "./Wakeup.js"
import { WorkerRegistry } from "./WorkerRegistry.js"
import type { WorkerTransport } from "./WorkerTransport.js"
import type { Assignments } from "./Assignments.js"

/**
 * A client's key for one trigger, so that it can retry safely: 1 to 200
 * letters, digits or `-_.:` (a UUID fits).
 */
export const RequestId = Schema.String.pipe(
  Schema.minLength(1),
  Schema.maxLength(200),
  Schema.pattern(/^[A-Za-z0-9_.:-]+$/, { message: () => "a request id is 1 to 200 letters, digits or -_.:" })
).annotations({ identifier: "RequestId" })

/**
 * A request to start a research: a brief to design from, or an existing
 * strategy: the name of a catalogued design (reused as stored, without a
 * design phase) or a full strategy. With a `requestId`, a trigger is
 * idempotent: repeated with the same id and the same request, it answers the
 * research the first one started; with another request, it is refused
 * (`IdempotencyKeyReused`). An id is kept `idempotencyKeyTtlSeconds` (24 h by
 * default), then may start a new research.
 */
export const TriggerRequest = Schema.Struct({
  requestId: Schema.optional(RequestId),
  // Text storage cannot keep is refused field by field, so the error names the field.
  brief: Schema.optional(Storable.filter(Schema.String.pipe(Schema.maxLength(10_000)))),
  strategy: Schema.optional(
    Storable.filter(Schema.Union(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)), Strategy))
  ),
  model: Schema.optional(Storable.filter(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)))),
  bypassGates: Schema.optional(Schema.Boolean),
  force: Schema.optional(Schema.Boolean),
  /** The research whose assessment this one follows (its next brief); it must exist. */
  parentId: Schema.optional(ResearchId)
})
export type TriggerRequest = typeof TriggerRequest.Type

export { ActiveResearch, Capacity, CoordinatorStatus } from "./CoordinatorStatus.js"

/** A registered worker and what it has done. */
export const WorkerActivity = Schema.Struct({
  worker: Worker,
  jobsCompleted: Schema.Number,
  jobsFailed: Schema.Number
})
export type WorkerActivity = typeof WorkerActivity.Type

/** One research with all its jobs, oldest first. */
export const ResearchDetail = Schema.Struct({
  research: Research,
  jobs: Schema.Array(Job),
  /** The LLM calls charged to it, in order, failed attempts included. */
  llmCalls: Schema.Array(BudgetEntry),
  /** Overall progress, 0 to 1. */
  progress: Schema.Number,
  /** The researches that follow its assessment (`parentId`), newest first, at most 100. */
  children: Schema.optionalWith(Schema.Array(Research), { default: () => [] })
})
export type ResearchDetail = typeof ResearchDetail.Type

export type { TickSummary } from "./internal/tick.js"
export type { ManualLeadership } from "./internal/leadership.js"

/** The coordinator: what operators, the API and the loop ask of it. */
export interface CoordinatorShape {
  /**
   * Starts a research. Refused with `AtCapacity` when the active researches
   * reach the limit and with `BudgetExhausted` when today's budget cannot
   * cover a cycle's estimate, unless `force` is set; `InvalidInput` for a
   * request that gives neither a brief nor a strategy, names a model the
   * agents cannot run (`Agents.Models`), does not decode, or names a `parentId` no research has;
   * `StrategyNotFound` for a strategy name the catalogue does not hold (a
   * named strategy is the catalogue's design, and skips the design phase).
   * Repeated with a live request id and the same request, answers the research
   * it started, checking nothing; with another request, `IdempotencyKeyReused`.
   */
  readonly trigger: (
    request: TriggerRequest
  ) => Effect.Effect<
    Research,
    InvalidInput | StrategyNotFound | AtCapacity | BudgetExhausted | IdempotencyKeyReused | StorageError
  >
  /**
   * Cancels one research: stops its job wherever it runs and frees its
   * worker, answering the research as cancelled. Idempotent; `NotCancellable`
   * for a research that completed or failed; `CancelConflict` when it kept
   * changing meanwhile (nothing cancelled: cancel it again).
   */
  readonly cancel: (
    id: ResearchId
  ) => Effect.Effect<Research, ResearchNotFound | NotCancellable | CancelConflict | StorageError>
  /**
   * Every active research, workers busy and in total per type, today's budget
   * and capacity. Concurrent calls share one view: each waits for reads begun
   * after it was made (so it shows every write committed before), and the
   * calls made while one view is read get the next one, the same for all.
   */
  readonly status: () => Effect.Effect<CoordinatorStatus, StorageError>
  /** One research with all its jobs. */
  readonly show: (id: ResearchId) => Effect.Effect<ResearchDetail, ResearchNotFound | StorageError>
  /** Researches, newest first. */
  readonly list: (query: ResearchQuery) => Effect.Effect<ReadonlyArray<Research>, StorageError>
  /** How many researches a filter selects, and their cost. */
  readonly totals: (filter: ResearchFilter) => Effect.Effect<ResearchTotals, StorageError>
  /** Today's spending minute by minute. */
  readonly budgetToday: () => Effect.Effect<BudgetDay, StorageError>
  /** Every registered worker with the jobs it completed and failed. */
  readonly workerActivity: () => Effect.Effect<ReadonlyArray<WorkerActivity>, StorageError>
  /** Every designed strategy in the catalogue, newest first, with its best metrics. */
  readonly strategies: () => Effect.Effect<ReadonlyArray<StrategyCatalogue.StrategySummary>, StorageError>
  /** One catalogued strategy with its best metrics. */
  readonly strategy: (
    name: string
  ) => Effect.Effect<StrategyCatalogue.StrategySummary, StrategyNotFound | StorageError>
  /**
   * What was recorded in `[since, until)`: the researches created then, their
   * jobs, the LLM calls charged, the worker slots seen and the daily budget
   * (see `History`), for a plan to fit its models to.
   */
  readonly history: (since: number, until: number) => Effect.Effect<History.History, StorageError>
  /** A report on a job from a worker or an in-process runner (see `WorkerRegistryShape.report`). */
  readonly report: (report: JobReport) => Effect.Effect<Job, JobNotFound | JobNotAssigned | StorageError>
  /** Active researches and their limit now. */
  readonly capacity: Effect.Effect<Capacity, StorageError>
  /** Whether this process runs the loop now (holds the lease). */
  readonly leading: Effect.Effect<boolean>
  /** Runs the coordinator loop forever, re-acquiring the lease whenever it is lost. */
  readonly run: Effect.Effect<never>
  /**
   * Leads by hand in the caller's scope and answers the tick, for tests and
   * benchmarks that step the coordinator themselves instead of running the loop.
   */
  readonly manual: Effect.Effect<Leadership.ManualLeadership, StorageError, Scope.Scope>
  /**
   * The autopilot (see `Autopilot`): its state and running researches,
   * starting it (`InvalidInput` when it already runs) and stopping it. The
   * leader runs it after each tick. `InvalidInput` when the storage keeps no
   * autopilot state (`AutopilotStore`).
   */
  readonly autopilot: AutopilotApi
}

/** The coordinator service. */
export class Coordinator extends Context.Tag("@foreman/core/Coordinator")<Coordinator, CoordinatorShape>() {}


/** How many finished researches a designer is shown. */
export const RECENT_OUTCOMES = Runner.RECENT_OUTCOMES

/**
 * Builds the coordinator over the engine's ports and services: each concern
 * is a module of its own (admission, cancel, the read side, the tick with its
 * runner and dispatch, leadership), composed here.
 */
export const make = Effect.gen(function*() {
  const researches = yield* Researches
  const registry = yield* WorkerRegistry
  const budget = yield* Budget
  const current: Incarnation.Current = yield* Ref.make(Option.none<Incarnation.Incarnation>())
  const queries = yield* Queries.make
  const admission = yield* Admission.make
  const cancel = yield* Cancel.make(queries.findResearch, (id) => Incarnation.stopInProcess(current, id))
  const { tick } = yield* Tick.make
  const autopilot = yield* AutopilotInterpreter.make(admission.trigger, queries.capacity)
  // The autopilot steps on the leader only, after each tick: its triggers wake the next.
  const leadership = yield* Leadership.make(current, (incarnation) => Effect.tap(tick(incarnation), () => autopilot.step))

  // A refused trigger is routine: its span records no call site (a stack trace per refusal).
  const trigger = (input: TriggerRequest) =>
    Effect.suspend(() => Schema.decodeUnknown(TriggerRequest)(input)).pipe(
      Effect.mapError((error) => new InvalidInput({ reason: describeParseError(error) })),
      Effect.flatMap(admission.trigger),
      Spans.withSpan("Coordinator.trigger", { captureStackTrace: false })
    )

  const view = Effect.zipWith(queries.status(), autopilot.summary, (status, summary) =>
    summary === undefined ? status : { ...status, autopilot: summary })
  // One view for the calls made while the last one was read; its span says how many.
  const shared = yield* Batcher.make(
    (calls: ReadonlyArray<void>) =>
      Effect.map(view, (status) => calls.map(() => Exit.succeed(status))).pipe(
        Effect.withSpan("Coordinator.statusView", { attributes: { "foreman.calls": calls.length }, captureStackTrace: false })
      ),
    Number.MAX_SAFE_INTEGER
  )
  // The caller's span, inside its request's.
  const status = Effect.fn("Coordinator.status", { captureStackTrace: false })(function*() {
    return yield* shared(undefined)
  })

  return Coordinator.of({
    trigger,
    cancel,
    status,
    show: queries.show,
    list: researches.list,
    totals: researches.totals,
    budgetToday: budget.today,
    workerActivity: queries.workerActivity,
    strategies: queries.strategies,
    strategy: queries.strategy,
    history: queries.history,
    report: registry.report,
    capacity: queries.capacity,
    leading: leadership.leading,
    run: leadership.run,
    manual: leadership.manual,
    autopilot: { status: autopilot.status, start: autopilot.start, stop: autopilot.stop }
  })
})

/** The coordinator, over the engine's ports and services, the configuration and the agents. */
export const layer: Layer.Layer<
  Coordinator,
  never,
  | Researches
  | Jobs
  | Strategies
  | WorkerRegistry
  | Budget
  | WorkerTransport
  | Assignments
  | CoordinatorLease
  | Wakeup
  | CoordinatorEvents
  | ForemanConfig
  | Designer
  | Assessor
> = Layer.scoped(Coordinator, make)
