/**
 * What the coordinator answers without changing anything: capacity, the
 * status view, one research in detail, workers' activity and the strategy
 * catalogue. The views are built by pure functions over what storage answers,
 * so they can be checked from plain data.
 */
import { Clock, Effect, Option, Schema } from "effect"
import * as ActiveSet from "../ActiveSet.js"
import { Budget, type BudgetStatus } from "../Budget.js"
import type { ActiveResearch, Capacity, CoordinatorStatus } from "../CoordinatorStatus.js"
import { type Research, ResearchId, type Worker, type WorkerType } from "../Domain.js"
import { ResearchNotFound, StrategyNotFound } from "../Errors.js"
import * as History from "../History.js"
import { concurrencyLimit, ForemanConfig, type ForemanConfigShape } from "../ForemanConfig.js"
import { Pipeline, type PipelineShape, progressOf, workerTypes } from "../Pipeline.js"
import { type WorkerJobCounts, Jobs } from "../Jobs.js"
import { type ActiveEntry, Researches } from "../Researches.js"
import { Strategies } from "../Strategies.js"
import * as StrategyCatalogue from "../StrategyCatalogue.js"
import { WorkerRegistry } from "../WorkerRegistry.js"

/** The workers that count: online, and of a type the pipeline uses. */
export const liveWorkers = (types: ReadonlySet<WorkerType>, all: ReadonlyArray<Worker>): ReadonlyArray<Worker> =>
  all.filter((w) => w.status !== "offline" && types.has(w.type))

/** What the status view is built from. */
export interface StatusInput {
  readonly now: number
  readonly pipeline: PipelineShape
  readonly config: ForemanConfigShape
  readonly active: ReadonlyArray<ActiveEntry>
  /** Every registered worker. */
  readonly workers: ReadonlyArray<Worker>
  readonly budget: BudgetStatus
}

/** A research's detail lists at most this many of its children, newest first. */
const MAX_CHILDREN = 100

/** One active research as the status view shows it. */
export const activeResearch = (
  pipeline: PipelineShape,
  now: number,
  { job, research: r }: ActiveEntry
): ActiveResearch => ({
  id: r.id,
  phase: r.phase,
  status: r.status,
  strategy: r.strategy?.name ?? null,
  elapsedSeconds: Math.max(0, Math.floor((now - r.createdAt) / 1000)),
  progress: progressOf(pipeline, r),
  waitingFor: r.waitingFor === null
    ? null
    : { workerType: r.waitingFor.workerType, seconds: Math.floor((now - r.waitingFor.since) / 1000) },
  job: job === null
    ? null
    : { id: job.id, kind: job.kind, workerId: job.workerId, progress: job.progress }
})

/** The status view: every pipeline type is listed, with or without workers; offline workers are left out. */
export const statusOf = ({ active, budget, config, now, pipeline, workers: all }: StatusInput): CoordinatorStatus => {
  const types = new Set(workerTypes(pipeline))
  const live = liveWorkers(types, all)
  const workers: Record<string, { busy: number; total: number; workers: number }> = {}
  for (const type of types) workers[type] = { busy: 0, total: 0, workers: 0 }
  for (const w of live) {
    const slot = workers[w.type] ?? { busy: 0, total: 0, workers: 0 }
    workers[w.type] = {
      busy: slot.busy + Math.min(w.currentJobs.length, w.capacity),
      total: slot.total + w.capacity,
      workers: slot.workers + 1
    }
  }
  return {
    active: active.map((entry) => activeResearch(pipeline, now, entry)),
    workers,
    budget,
    capacity: { active: active.length, limit: concurrencyLimit(config, live.length) }
  }
}

/** Each worker with the jobs it completed and failed (none for a worker without counts). */
export const activityOf = (workers: ReadonlyArray<Worker>, counts: ReadonlyArray<WorkerJobCounts>) => {
  const byWorker = new Map(counts.map((c) => [c.workerId, c]))
  return workers.map((worker) => ({
    worker,
    jobsCompleted: byWorker.get(worker.id)?.completed ?? 0,
    jobsFailed: byWorker.get(worker.id)?.failed ?? 0
  }))
}

/** Ids that do not even look like research ids are not looked up (library callers skip HTTP validation). */
const isResearchId = Schema.is(ResearchId)

/** The coordinator's read side over storage, the registry and the budget. */
export const make = Effect.gen(function*() {
  const researchStore = yield* Researches
  const jobStore = yield* Jobs
  const catalogue = yield* Strategies
  const registry = yield* WorkerRegistry
  const budget = yield* Budget
  const config = yield* ForemanConfig
  const pipeline = yield* Pipeline
  const types = new Set(workerTypes(pipeline))

  const capacity = Effect.gen(function*() {
    const [active, all] = yield* Effect.all([researchStore.countActive, registry.list()])
    return { active, limit: concurrencyLimit(config, liveWorkers(types, all).length) } satisfies Capacity
  })

  const findResearch = (id: ResearchId) =>
    !isResearchId(id) ? Effect.fail(new ResearchNotFound({ researchId: String(id) })) : Effect.flatMap(
      researchStore.get(id),
      Option.match({
        onNone: () => Effect.fail(new ResearchNotFound({ researchId: id })),
        onSome: Effect.succeed
      })
    )

  /** The catalogued strategy named `name`, or `StrategyNotFound` with the nearest names. */
  const catalogued = (name: string) =>
    Effect.flatMap(
      catalogue.getStrategy(name),
      Option.match({
        onSome: Effect.succeed,
        onNone: () =>
          Effect.flatMap(catalogue.strategyNames(""), (names) =>
            Effect.fail(new StrategyNotFound({ name, closest: StrategyCatalogue.closest(name, names) })))
      })
    )

  /**
   * The active researches as the status view last read them, kept between its
   * reads (see `ActiveSet`): each read asks only for what changed since the
   * previous one, on any process, leader or not.
   */
  const statusActive = ActiveSet.make()

  const status = Effect.fnUntraced(function*() {
    const now = yield* Clock.currentTimeMillis
    const [active, workers, money] = yield* Effect.all([
      ActiveSet.refresh(statusActive, researchStore.activeChangedSince),
      registry.list(),
      budget.status()
    ], { concurrency: "unbounded" })
    return statusOf({ now, pipeline, config, active, workers, budget: money })
  })

  const show = Effect.fn("Coordinator.show")(function*(id: ResearchId) {
    const research: Research = yield* findResearch(id)
    const [jobs, llmCalls, children] = yield* Effect.all([
      jobStore.jobsOf(id),
      budget.charges(id),
      researchStore.list({ parentId: id, limit: MAX_CHILDREN, offset: 0 })
    ], { concurrency: 3 })
    return { research, jobs, llmCalls, progress: progressOf(pipeline, research), children }
  })

  const workerActivity = Effect.fn("Coordinator.workerActivity")(function*() {
    const [all, counts] = yield* Effect.all([registry.list(), jobStore.jobCountsByWorker], { concurrency: 2 })
    return activityOf(all, counts)
  })

  const strategies = Effect.fn("Coordinator.strategies")(function*() {
    const stored = yield* catalogue.listStrategies
    const researches = yield* researchStore.researchesUsing(stored.map((s) => s.strategy.name))
    return stored.map((s) =>
      StrategyCatalogue.summarize(s, researches.filter((r) => r.strategy?.name === s.strategy.name))
    )
  })

  const strategy = Effect.fn("Coordinator.strategy")(function*(name: string) {
    const stored = yield* catalogued(name)
    return StrategyCatalogue.summarize(stored, yield* researchStore.researchesUsing([name]))
  })

  const history = Effect.fn("Coordinator.history")(function*(since: number, until: number) {
    const [researches, jobs, charges, workers] = yield* Effect.all([
      researchStore.list({ since, until, limit: Number.MAX_SAFE_INTEGER, offset: 0 }),
      jobStore.jobsOfResearchesBetween(since, until),
      budget.chargesBetween(since, until),
      registry.list()
    ], { concurrency: 4 })
    return History.historyOf({
      since,
      until,
      dailyBudgetUsd: config.dailyBudgetUsd,
      maxConcurrentResearches: config.maxConcurrentResearches,
      workerTypes: workerTypes(pipeline),
      researches,
      jobs,
      charges,
      workers
    })
  })

  return { capacity, findResearch, catalogued, status, show, workerActivity, strategies, strategy, history }
})
