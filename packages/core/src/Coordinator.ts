/**
 * The imperative shell around the pipeline. One loop advances every active
 * research: a tick reads the world in a constant number of queries, has
 * `TickPlan` decide what happens (the pure phase handlers, free workers handed
 * to waiting researches first come first served), then carries the plan out:
 * claims worker slots, commits each transition atomically (conditional on
 * version and epoch), forks in-process jobs and dispatches worker jobs. The
 * loop wakes on events and polls as a fallback. The same service triggers
 * (with capacity and budget checks), cancels, and reports status.
 */
import {
  Clock,
  Context,
  Duration,
  Effect,
  FiberHandle,
  FiberMap,
  FiberSet,
  Layer,
  Metric,
  Option,
  Ref,
  Schema,
  type Scope
} from "effect"
import type { Assessor, Designer } from "./Agents.js"
import { Budget, type BudgetDay } from "./Budget.js"
import { CoordinatorEvents } from "./CoordinatorEvents.js"
import type { Capacity, CoordinatorStatus } from "./CoordinatorStatus.js"
import { CoordinatorLease } from "./CoordinatorLease.js"
import {
  BudgetEntry,
  isJobSettled,
  isTerminalStatus,
  Job,
  JobId,
  type JobReport,
  loadStatus,
  Research,
  ResearchId,
  Strategy,
  Worker,
  type WorkerType
} from "./Domain.js"
import {
  AtCapacity,
  BudgetExhausted,
  describeParseError,
  InvalidInput,
  type JobNotAssigned,
  type JobNotFound,
  NotCancellable,
  ResearchNotFound,
  StorageError,
  StrategyNotFound
} from "./Errors.js"
import { ForemanConfig } from "./ForemanConfig.js"
import * as Metrics from "./Metrics.js"
import * as Ids from "./internal/ids.js"
import * as Signal from "./internal/signal.js"
import * as Admission from "./internal/admission.js"
import * as Cancel from "./internal/cancel.js"
import * as Dispatch from "./internal/dispatch.js"
import * as Runner from "./internal/runner.js"
import * as Queries from "./internal/queries.js"
import * as JobTransitions from "./JobTransitions.js"
import { type PhaseDefinition, Pipeline } from "./Pipeline.js"
import * as ResearchTransitions from "./ResearchTransitions.js"
import {
  type ActiveEntry,
  type JobWrite,
  type ResearchFilter,
  type ResearchQuery,
  ResearchStore,
  type ResearchTotals
} from "./ResearchStore.js"
import * as Storable from "./Storable.js"
import * as StrategyCatalogue from "./StrategyCatalogue.js"
import * as TickPlan from "./TickPlan.js"
import { Wakeup } from "./Wakeup.js"
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
 * idempotent: repeated with the same id, it answers the research the first
 * one started.
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
  force: Schema.optional(Schema.Boolean)
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
  progress: Schema.Number
})
export type ResearchDetail = typeof ResearchDetail.Type

/** What one tick did, for the loop and for benchmarks. */
export interface TickSummary {
  readonly researches: number
  readonly committed: number
  readonly started: number
  /** The earliest retry backoff that ends, if any. */
  readonly wakeAt: number | null
}

/** A coordinator leading by hand: its epoch, and one tick to run when the caller wants. */
export interface ManualLeadership {
  readonly epoch: number
  readonly tick: Effect.Effect<TickSummary, StorageError>
}

/** The coordinator: what operators, the API and the loop ask of it. */
export interface CoordinatorShape {
  /**
   * Starts a research. Refused with `AtCapacity` when the active researches
   * reach the limit and with `BudgetExhausted` when today's budget cannot
   * cover a cycle's estimate, unless `force` is set; `InvalidInput` for a
   * request that gives neither a brief nor a strategy, names a model the
   * agents cannot run (`Agents.Models`), or does not decode;
   * `StrategyNotFound` for a strategy name the catalogue does not hold (a
   * named strategy is the catalogue's design, and skips the design phase).
   * Repeated with a request id, answers the research it started, checking nothing.
   */
  readonly trigger: (
    request: TriggerRequest
  ) => Effect.Effect<Research, InvalidInput | StrategyNotFound | AtCapacity | BudgetExhausted | StorageError>
  /**
   * Cancels one research: stops its job wherever it runs and frees its
   * worker, answering the research as cancelled. Idempotent; `NotCancellable`
   * for a research that completed or failed.
   */
  readonly cancel: (id: ResearchId) => Effect.Effect<Research, ResearchNotFound | NotCancellable | StorageError>
  /** Every active research, workers busy and in total per type, today's budget and capacity. */
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
  readonly manual: Effect.Effect<ManualLeadership, StorageError, Scope.Scope>
}

/** The coordinator service. */
export class Coordinator extends Context.Tag("@foreman/core/Coordinator")<Coordinator, CoordinatorShape>() {}

interface Incarnation {
  readonly epoch: number
  /** Since when workers could be heard: the start, or the end of the last storage outage. */
  hearingSince: number
  /** The last tick failed (storage unreachable): workers' silence is not theirs. */
  deaf: boolean
  /** In-process jobs, one per research. */
  readonly fibers: FiberMap.FiberMap<ResearchId>
  /** Dispatches to workers in flight. */
  readonly dispatching: FiberSet.FiberSet
  /** When silent workers were last expired. */
  expiredAt: number
}

/** How a job a tick starts runs once its transition is written. */
type Launch =
  | {
    readonly _tag: "Fork"
    readonly job: Job
    readonly definition: PhaseDefinition
    /** The research as the in-process job sees it: as read, with the job active. */
    readonly research: Research
  }
  | { readonly _tag: "Dispatch"; readonly worker: Worker; readonly job: Job }

/** A planned action made concrete: the transition to write, and the job it starts. */
interface Step {
  readonly before: Research
  readonly after: Research
  readonly writes: ReadonlyArray<JobWrite>
  readonly launch: Launch | null
}

/** A step with the strategy its transition designed, to catalogue with it. */
interface Change extends Step {
  readonly design: Strategy | null
}

/** How many finished researches a designer is shown. */
export const RECENT_OUTCOMES = Runner.RECENT_OUTCOMES

/** A worker slot granted to a job id drawn for it. */
interface Slot {
  readonly jobId: JobId
  readonly worker: Worker
}

/** Builds the coordinator over the engine's ports and services. */
export const make = Effect.gen(function*() {
  const store = yield* ResearchStore
  const registry = yield* WorkerRegistry
  const budget = yield* Budget
  const lease = yield* CoordinatorLease
  const wakeup = yield* Wakeup
  const events = yield* CoordinatorEvents
  const config = yield* ForemanConfig
  const pipeline = yield* Pipeline
  const current = yield* Ref.make(Option.none<Incarnation>())

  const queries = yield* Queries.make
  const admission = yield* Admission.make

  const trigger = Effect.fn("Coordinator.trigger")(function*(input: TriggerRequest) {
    const request = yield* Schema.decodeUnknown(TriggerRequest)(input).pipe(
      Effect.mapError((error) => new InvalidInput({ reason: describeParseError(error) }))
    )
    return yield* admission.trigger(request)
  })

  const cancel = yield* Cancel.make(queries.findResearch, (id) =>
    Effect.flatMap(
      Ref.get(current),
      Option.match({ onNone: () => Effect.void, onSome: (incarnation) => FiberMap.remove(incarnation.fibers, id) })
    ))

  // --- the loop ------------------------------------------------------------

  const runner = yield* Runner.make
  const dispatcher = yield* Dispatch.make

  /** Publishes what a written transition changed. */
  const announce = (now: number, before: Research, research: Research) =>
    Effect.gen(function*() {
      if (
        before.phase === research.phase && before.status === research.status &&
        before.waitingFor?.workerType === research.waitingFor?.workerType
      ) return
      yield* events.publish({
        _tag: "Transition",
        at: now,
        researchId: research.id,
        phase: research.phase,
        status: research.status,
        waitingFor: research.waitingFor,
        error: research.error
      })
      if (research.status === "failed") yield* Effect.logWarning(`research ${research.id} failed: ${research.error}`)
      if (before.status !== research.status && isTerminalStatus(research.status)) {
        yield* Metric.increment(Metric.tagged(Metrics.researchesFinished, "status", research.status))
      }
    })

  /**
   * Reads the world for a tick: every active research with its job and every
   * worker, in two concurrent reads, with the slots an earlier leader leaked
   * freed. Silent workers are expired first, at most once a second
   * (heartbeats are seconds apart).
   */
  const observe = (incarnation: Incarnation, now: number) =>
    Effect.gen(function*() {
      if (now - incarnation.expiredAt >= 1000) {
        incarnation.expiredAt = now
        yield* registry.expire
      }
      const [active, listed] = yield* Effect.all([store.listActive, registry.list()], { concurrency: 2 })
      // Storage answers again after an outage: workers could not be heard meanwhile,
      // so their grace starts over now.
      if (incarnation.deaf) {
        incarnation.deaf = false
        incarnation.hearingSince = now
      }
      return { active, workers: yield* releaseLeakedSlots(active, listed) }
    })

  /** Claims the plan's batches in order, a job id drawn for each slot: the slots granted, per type in slot order. */
  const claimSlots = (claims: ReadonlyArray<TickPlan.ClaimBatch>) =>
    Effect.gen(function*() {
      const granted = new Map<WorkerType, ReadonlyArray<Slot>>()
      for (const { count, workerType } of claims) {
        const jobIds: Array<JobId> = []
        for (let i = 0; i < count; i++) jobIds.push(yield* Ids.jobId)
        const workers = yield* registry.claim(workerType, jobIds)
        granted.set(workerType, workers.map((worker, i) => ({ jobId: jobIds[i]!, worker })))
      }
      return granted
    })

  /**
   * Names every design the plan records after the catalogue, a suffix added
   * when the name is taken (or taken by another design of this tick). The
   * catalogue's unique name fences a write that raced this read: its
   * transition is stale and named again on the next tick.
   */
  const nameDesigns = (actions: ReadonlyArray<TickPlan.TickAction>) =>
    Effect.gen(function*() {
      const picked = new Set<string>()
      const named: Array<TickPlan.TickAction> = []
      for (const action of actions) {
        const design = StrategyCatalogue.designOf(action)
        if (design === null) {
          named.push(action)
          continue
        }
        const taken = new Set([...picked, ...(yield* store.strategyNames(design.name))])
        const name = StrategyCatalogue.uniqueName(design.name, taken)
        picked.add(name)
        named.push(name === design.name ? action : StrategyCatalogue.named(action, name))
      }
      return named
    })

  /** A research starting `job`: written with the job, then launched. */
  const starting = (
    action: { readonly before: Research; readonly research: Research; readonly writes: ReadonlyArray<JobWrite> },
    job: Job,
    launch: Launch
  ): Step => ({
    before: action.before,
    after: ResearchTransitions.started(action.research, job),
    writes: [...action.writes, { job, expected: null }],
    launch
  })

  /** Makes one planned action concrete, drawing the id of an in-process job it starts. */
  const toChange = (
    incarnation: Incarnation,
    now: number,
    granted: ReadonlyMap<WorkerType, ReadonlyArray<Slot>>,
    action: TickPlan.TickAction
  ) =>
    Effect.gen(function*() {
      switch (action._tag) {
        case "Commit":
        case "Redispatch":
          return { before: action.before, after: action.after, writes: action.writes, launch: null } satisfies Step
        case "RunInProcess": {
          const { definition, research } = action
          const job = JobTransitions.create({
            id: yield* Ids.jobId,
            research,
            definition,
            worker: null,
            epoch: incarnation.epoch,
            now
          })
          return starting(action, job, { _tag: "Fork", job, definition, research: { ...research, activeJobId: job.id } })
        }
        case "ClaimWorker": {
          const slot = granted.get(action.workerType)?.[action.slot]
          if (slot === undefined) {
            return { before: action.before, after: action.waiting, writes: action.writes, launch: null } satisfies Step
          }
          const job = JobTransitions.create({
            id: slot.jobId,
            research: action.research,
            definition: action.definition,
            worker: slot.worker,
            epoch: incarnation.epoch,
            now,
            queuedSince: action.since
          })
          return starting(action, job, { _tag: "Dispatch", worker: slot.worker, job })
        }
      }
    })

  /**
   * Claims the plan's slots, then writes every transition of the tick in one
   * batch and hands back the slots of those found stale. Runs without
   * interruption: a coordinator deposed mid-tick must not leak a worker slot.
   * Answers the changes written, and the jobs to send again (whatever was written).
   */
  const commitPlan = (incarnation: Incarnation, plan: TickPlan.TickPlan, now: number) =>
    Effect.uninterruptible(Effect.gen(function*() {
      const actions = yield* nameDesigns(plan.actions)
      const granted = yield* claimSlots(plan.claims)
      for (const note of plan.notes) yield* Effect.logWarning(note)
      const redispatches: Array<Dispatch.Dispatch> = []
      const changes: Array<Change> = []
      for (const action of actions) {
        if (action._tag === "Redispatch") redispatches.push({ worker: action.worker, job: action.job })
        changes.push({ ...yield* toChange(incarnation, now, granted, action), design: StrategyCatalogue.designOf(action) })
      }
      const changed = changes.filter((c) => c.after !== c.before || c.writes.length > 0)
      const results = changed.length === 0 ? [] : yield* store.commitAll(changed.map((c) => ({
        research: ResearchTransitions.nextVersion(c.before, c.after, now),
        expectedVersion: c.before.version,
        epoch: incarnation.epoch,
        jobs: c.writes,
        design: c.design ?? undefined
      }))).pipe(
        Effect.catchTag("StorageError", (e) => Effect.as(Effect.logError(e.message), changed.map(() => false)))
      )
      for (const [i, { launch }] of changed.entries()) {
        if (results[i] !== true && launch?._tag === "Dispatch") yield* registry.release(launch.worker.id, launch.job.id)
      }
      for (const { jobId, workerId } of plan.unpicked) yield* registry.markRefusing(workerId, jobId, "full")
      return { written: changed.filter((_, i) => results[i] === true), redispatches }
    }))

  /** One pass over every active research: read the world, plan, carry the plan out. */
  const tick = (incarnation: Incarnation) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const { active, workers } = yield* observe(incarnation, now)
      const plan = TickPlan.make({
        pipeline,
        config,
        now,
        epoch: incarnation.epoch,
        hearingSince: incarnation.hearingSince,
        active,
        workers
      })
      const { redispatches, written } = yield* commitPlan(incarnation, plan, now)
      const dispatches = [...redispatches]
      let started = 0
      for (const { after, before, launch } of written) {
        yield* announce(now, before, after)
        if (launch === null) continue
        const { job } = launch
        yield* events.publish({
          _tag: "JobStarted",
          at: now,
          researchId: job.researchId,
          jobId: job.id,
          kind: job.kind,
          workerType: job.workerType,
          workerId: job.workerId,
          attempt: job.attempt,
          queuedSince: job.queuedSince ?? now
        })
        yield* Metrics.recordJobStarted(job, now)
        started++
        if (launch._tag === "Fork") {
          yield* FiberMap.run(incarnation.fibers, launch.research.id, runner.run(launch.definition, launch.research, job))
        } else {
          dispatches.push(launch)
        }
      }
      // Dispatches run beside the loop: a slow worker does not hold up the next tick,
      // and a failed one frees its worker, which wakes the loop again.
      for (const d of dispatches) yield* FiberSet.run(incarnation.dispatching, dispatcher.dispatch(now, d))
      yield* reap(incarnation, active)
      yield* Effect.annotateCurrentSpan({
        "foreman.tick.researches": active.length,
        "foreman.tick.committed": written.length,
        "foreman.tick.started": started
      })
      return {
        researches: active.length,
        committed: written.length,
        started,
        wakeAt: plan.wakeAt
      } satisfies TickSummary
    }).pipe(
      Metric.trackDurationWith(Metrics.tickDuration, Duration.toSeconds),
      Effect.withSpan("Coordinator.tick", { attributes: { "foreman.epoch": incarnation.epoch } })
    )

  /**
   * Frees slots held for jobs that no active research runs: a claim whose
   * transition was never committed (a coordinator killed in between). Every
   * claim of this leader's earlier ticks is committed or released by now, so
   * a slot without a live job behind it is a leak. Answers the workers as freed.
   */
  const releaseLeakedSlots = (active: ReadonlyArray<ActiveEntry>, workers: ReadonlyArray<Worker>) =>
    Effect.gen(function*() {
      const live = new Set<string>()
      for (const { job } of active) if (job !== null && job.workerId !== null && !isJobSettled(job.status)) live.add(job.id)
      const freed: Array<Worker> = []
      for (const w of workers) {
        const leaked = w.currentJobs.filter((id) => !live.has(id))
        if (leaked.length === 0) {
          freed.push(w)
          continue
        }
        yield* Effect.logWarning(`worker ${w.id} held slots for ${leaked.join(", ")}, which no research runs: freed`)
        for (const id of leaked) yield* registry.release(w.id, id)
        const currentJobs = w.currentJobs.filter((id) => live.has(id))
        freed.push({ ...w, currentJobs, status: loadStatus(w, currentJobs.length) })
      }
      return freed
    })

  /** Interrupts in-process jobs of researches that stopped being active elsewhere. */
  const reap = (incarnation: Incarnation, active: ReadonlyArray<ActiveEntry>) =>
    Effect.gen(function*() {
      const size = yield* FiberMap.size(incarnation.fibers)
      if (size === 0) return
      const live = new Set(active.map(({ research }) => research.id))
      const stale = Array.from(incarnation.fibers, ([key]) => key).filter((key) => !live.has(key))
      for (const key of stale) yield* FiberMap.remove(incarnation.fibers, key)
    })

  /**
   * Starts an incarnation for `epoch` in the current scope. The polls waiting
   * before it are forgotten: those the previous leader's process served died
   * with it, and no job must go to one (the others ask again with their next poll).
   */
  const incarnate = (epoch: number) =>
    Effect.gen(function*() {
      yield* registry.forgetPolls
      const now = yield* Clock.currentTimeMillis
      const incarnation: Incarnation = {
        epoch,
        hearingSince: now,
        deaf: false,
        fibers: yield* FiberMap.make<ResearchId>(),
        dispatching: yield* FiberSet.make(),
        expiredAt: Number.NEGATIVE_INFINITY
      }
      yield* Ref.set(current, Option.some(incarnation))
      yield* Effect.addFinalizer(() => Ref.set(current, Option.none()))
      return { incarnation }
    })

  /** Leads while the lease is held: ticks on every wakeup, and at least every poll interval. */
  const lead: Effect.Effect<void, StorageError> = Effect.scoped(Effect.gen(function*() {
    const leadership = yield* lease.acquire
    const { incarnation } = yield* incarnate(leadership.epoch)
    yield* Effect.logInfo(`coordinator leading (epoch ${incarnation.epoch})`)
    // The loop waits on one local queue, fed by wakeups, by the poll fallback and
    // by a timer for the earliest retry backoff, so a wait forks nothing.
    const kick = yield* Signal.make
    const poke = kick.raise
    const retryTimer = yield* FiberHandle.make()
    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(wakeup.await, poke)))
    yield* Effect.forkScoped(
      Effect.forever(Effect.zipRight(Effect.sleep(Duration.seconds(config.pollIntervalSeconds)), poke))
    )
    const loop = Effect.gen(function*() {
      const summary = yield* tick(incarnation).pipe(
        Effect.catchAllCause((cause) => {
          incarnation.deaf = true
          return Effect.as(Effect.logError("tick failed", cause), { wakeAt: null } as const)
        })
      )
      if (summary.wakeAt !== null) {
        const now = yield* Clock.currentTimeMillis
        yield* FiberHandle.run(retryTimer, Effect.zipRight(Effect.sleep(Duration.millis(summary.wakeAt - now)), poke))
      }
      yield* kick.await
    })
    yield* Effect.race(Effect.forever(loop), leadership.lost)
    yield* Effect.logWarning(`coordinator lost the lease (epoch ${incarnation.epoch})`)
  }))

  const run: Effect.Effect<never> = Effect.forever(
    lead.pipe(
      Effect.catchAll((error) =>
        Effect.zipRight(Effect.logError(`lease: ${error.message}`), Effect.sleep(Duration.seconds(1)))
      )
    )
  )

  const manual = Effect.gen(function*() {
    const leadership = yield* lease.acquire
    const { incarnation } = yield* incarnate(leadership.epoch)
    return { epoch: incarnation.epoch, tick: tick(incarnation) }
  })

  return Coordinator.of({
    trigger,
    cancel,
    status: queries.status,
    show: queries.show,
    list: store.list,
    totals: store.totals,
    budgetToday: budget.today,
    workerActivity: queries.workerActivity,
    strategies: queries.strategies,
    strategy: queries.strategy,
    report: registry.report,
    capacity: queries.capacity,
    leading: Effect.map(Ref.get(current), Option.isSome),
    run,
    manual
  })
})

/** The coordinator, over the engine's ports and services, the configuration and the agents. */
export const layer: Layer.Layer<
  Coordinator,
  never,
  | ResearchStore
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
