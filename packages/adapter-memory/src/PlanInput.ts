/**
 * From a lab's recorded history (core's `History`, as `GET /api/v1/history`
 * answers it) to the settings of a `Simulation` that replays it: the recorded
 * arrivals, a duration model per job kind fitted to the recorded durations,
 * failure and crash rates per kind from the jobs' outcomes, the share of
 * trainings that pass their gate, the recorded LLM costs, the recorded worker
 * slots and the budget; and what a plan observed in that history, to set the
 * replay against.
 */
import type { History } from "@foreman/core"
import { Effect, Either, Random } from "effect"
import { Arrivals, Durations, type DurationModel, fitLogNormal, type JobModel, LlmCosts } from "./SimulationModels.js"
import type { JobResult, SimulationInput } from "./SimulationOptions.js"
import { type WaitFigures, waitFigures } from "./SimulationReport.js"

const DAY = 86_400_000

/**
 * How often a replay's workers heartbeat: every 5 minutes rather than the
 * engine's 10 s, which makes a week's replay about 30 times cheaper; only
 * how soon a crashed worker is noticed changes.
 */
export const REPLAY_HEARTBEAT_SECONDS = 300

/** From this many recorded durations on, a kind's jobs take one of them (empirical); below, a fitted lognormal. */
export const EMPIRICAL_FROM = 20

/** What a history says happened in its window. */
export interface Observed {
  /** Researches created in the window. */
  readonly arrivals: number
  /** Of them, those that completed or failed before the window ended. */
  readonly researchesFinished: number
  /** USD charged for LLM calls in the window. */
  readonly costUsd: number
  /** Job slots per worker type. */
  readonly workers: Readonly<Record<string, number>>
  /** How long researches waited for a worker of each type, from each worker job's queue and start. */
  readonly waits: Readonly<Record<string, WaitFigures>>
}

/** What the history recorded, summed up. */
export const observed = (history: History.History): Observed => {
  const samples: Record<string, Array<number>> = Object.fromEntries(Object.keys(history.workers).map((t) => [t, []]))
  for (const [, workerType, queuedAt, startedAt] of history.jobs) {
    if (workerType !== null) (samples[workerType] ??= []).push(Math.max(0, startedAt - queuedAt) / 1000)
  }
  return {
    arrivals: history.researches.length,
    researchesFinished: history.researches.filter(([, finishedAt, status]) =>
      finishedAt !== null && finishedAt < history.until && (status === "completed" || status === "failed")
    ).length,
    costUsd: Math.round(history.llmCalls.reduce((sum, [, usd]) => sum + usd, 0) * 1e4) / 1e4,
    workers: history.workers,
    waits: Object.fromEntries(Object.entries(samples).map(([t, s]) => [t, waitFigures(s)]))
  }
}

/** The duration model of recorded durations: empirical with enough of them, else a fitted lognormal (a constant for one). */
export const durationModel = (seconds: ReadonlyArray<number>): DurationModel | undefined => {
  if (seconds.length === 0) return undefined
  if (seconds.length === 1) return Durations.constant(seconds[0]!)
  if (seconds.length >= EMPIRICAL_FROM) return Durations.empirical(seconds)
  const fitted = fitLogNormal(seconds)
  return fitted._tag === "Constant" ? Durations.empirical(seconds) : fitted
}

/** Each job kind's model: durations of the jobs that ended, failures among worker jobs (lost ones as crashes). */
export const jobModels = (history: History.History): Record<string, JobModel> => {
  const byKind = new Map<string, { seconds: Array<number>; completed: number; failed: number; lost: number; worker: boolean }>()
  for (const [kind, workerType, , startedAt, finishedAt, status] of history.jobs) {
    const k = byKind.get(kind) ?? { seconds: [], completed: 0, failed: 0, lost: 0, worker: workerType !== null }
    byKind.set(kind, k)
    if (finishedAt !== null && (status === "completed" || status === "failed")) {
      k.seconds.push(Math.max(0, finishedAt - startedAt) / 1000)
    }
    if (status === "completed") k.completed++
    else if (status === "failed") k.failed++
    else if (status === "lost") k.lost++
  }
  const models: Record<string, JobModel> = {}
  for (const [kind, k] of byKind) {
    const duration = durationModel(k.seconds)
    const settled = k.completed + k.failed + k.lost
    models[kind] = {
      ...(duration === undefined ? {} : { duration }),
      ...(k.worker && settled > 0
        ? { failureRate: k.failed / Math.max(1, k.completed + k.failed), crashRate: k.lost / settled }
        : {})
    }
  }
  return models
}

/**
 * The share of completed trainings whose research went on to a backtest: the
 * training gate's pass rate, as near as jobs without their research tell it
 * (a retried backtest counts twice). Undefined without a completed training.
 */
export const trainingPassRate = (history: History.History): number | undefined => {
  let trainings = 0
  let backtests = 0
  for (const [kind, , , , , status] of history.jobs) {
    if (kind === "training" && status === "completed") trainings++
    if (kind === "backtest" && status !== "cancelled" && status !== "refused") backtests++
  }
  return trainings === 0 ? undefined : Math.min(1, backtests / trainings)
}

const PASSING = { kind: "classification", testAccuracy: 0.5, testLoss: 0.5, epochLosses: [1, 0.9] }
const FAILING = { ...PASSING, testAccuracy: 0.01 }

/** Training results that pass the default gates with probability `passRate`, else fail them (drawn from the run's `Random`). */
export const trainingResults = (passRate: number): JobResult => () =>
  Effect.map(Random.next, (u) => (u < passRate ? PASSING : FAILING))

/** How far into its UTC day a window starts, in seconds. */
export const dayOffsetSeconds = (history: History.History): number => (history.since % DAY) / 1000

/**
 * The settings of a simulation that replays `history`: arrivals at their
 * recorded moments, from the window's start (at the same time of its UTC
 * day, so the simulation's budget days are the lab's) to its end.
 */
export const historyToSimulation = (history: History.History): Either.Either<SimulationInput, string> => {
  if (history.researches.length === 0) {
    return Either.left("no research was created in the window: there is no history to plan from (widen --since)")
  }
  const atSeconds = history.researches.map(([createdAt]) => Math.max(0, createdAt - history.since) / 1000)
    .sort((a, b) => a - b)
  const costs = history.llmCalls.map(([, usd]) => usd)
  const passRate = trainingPassRate(history)
  return Either.right({
    researches: atSeconds.length,
    arrivals: Arrivals.recorded(atSeconds),
    workers: { ...history.workers },
    jobs: jobModels(history),
    ...(costs.length === 0 ? {} : { llmCost: LlmCosts.recorded(costs) }),
    ...(passRate === undefined ? {} : { results: { training: trainingResults(passRate) } }),
    dailyBudgetUsd: history.dailyBudgetUsd,
    maxConcurrentResearches: history.maxConcurrentResearches,
    horizonSeconds: (history.until - history.since) / 1000,
    heartbeatIntervalSeconds: REPLAY_HEARTBEAT_SECONDS,
    startOfDaySeconds: dayOffsetSeconds(history)
  })
}
