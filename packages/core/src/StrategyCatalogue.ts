/**
 * The strategy catalogue, decided without side effects: the unique name a new
 * design is stored under, the names nearest to an unknown one, the designs a
 * tick's plan records (renamed to their catalogue names before they are
 * written), and each strategy's best metrics from the researches that used it.
 */
import { Schema } from "effect"
import { BacktestResult, Millis, type Research, ResearchId, type StoredStrategy, Strategy, TrainingResult } from "./Domain.js"
import type { TickAction } from "./TickPlan.js"

/** The best of each metric over a strategy's researches; null when none reported it. */
export const BestMetrics = Schema.Struct({
  sharpeRatio: Schema.NullOr(Schema.Number),
  totalReturn: Schema.NullOr(Schema.Number),
  testAccuracy: Schema.NullOr(Schema.Number)
})
export type BestMetrics = typeof BestMetrics.Type

/** A catalogued strategy as operators see it. */
export const StrategySummary = Schema.Struct({
  name: Schema.String,
  strategy: Strategy,
  /** The research that designed it. */
  researchId: ResearchId,
  createdAt: Millis,
  /** Researches that used it, the designing one included. */
  researches: Schema.Number,
  best: BestMetrics
})
export type StrategySummary = typeof StrategySummary.Type

const longest = 200

/** `name`, or the first of `name_2`, `name_3`, … not in `taken`, kept within the longest name a strategy may have. */
export const uniqueName = (name: string, taken: ReadonlySet<string>): string => {
  if (!taken.has(name)) return name
  for (let n = 2;; n++) {
    const suffix = `_${n}`
    const candidate = name.slice(0, longest - suffix.length) + suffix
    if (!taken.has(candidate)) return candidate
  }
}

/** Levenshtein distance between two strings. */
const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)))
    }
    previous = row
  }
  return previous[b.length]!
}

/** Up to `count` of `names` nearest to `name` by edit distance, nearest first (ties by name). */
export const closest = (name: string, names: ReadonlyArray<string>, count = 3): ReadonlyArray<string> =>
  names
    .map((candidate) => ({ candidate, d: distance(name, candidate) }))
    .sort((a, b) => a.d - b.d || (a.candidate < b.candidate ? -1 : a.candidate > b.candidate ? 1 : 0))
    .slice(0, count)
    .map(({ candidate }) => candidate)

/** The research a planned action writes. */
const written = (action: TickAction): Research =>
  action._tag === "Commit" || action._tag === "Redispatch" ? action.after : action.research

/** The strategy a planned action gives its research (a design recorded), or null. */
export const designOf = (action: TickAction): Strategy | null => {
  const strategy = written(action).strategy
  return action.before.strategy === null && strategy !== null ? strategy : null
}

/** `action` with the strategy it records named `name`. */
export const named = (action: TickAction, name: string): TickAction => {
  const rename = (r: Research): Research => (r.strategy === null ? r : { ...r, strategy: { ...r.strategy, name } })
  switch (action._tag) {
    case "Commit":
    case "Redispatch":
      return { ...action, after: rename(action.after) }
    case "RunInProcess":
      return { ...action, research: rename(action.research) }
    case "ClaimWorker":
      return { ...action, research: rename(action.research), waiting: rename(action.waiting) }
  }
}

const isTraining = Schema.is(Schema.Struct({ testAccuracy: TrainingResult.fields.testAccuracy }))
const isBacktest = Schema.is(Schema.Struct({
  sharpeRatio: BacktestResult.fields.sharpeRatio,
  totalReturn: BacktestResult.fields.totalReturn
}))

const best = (values: ReadonlyArray<number>): number | null => (values.length === 0 ? null : Math.max(...values))

/** A catalogued strategy with its best metrics over `researches`, those that used it. */
export const summarize = (stored: StoredStrategy, researches: ReadonlyArray<Research>): StrategySummary => {
  const training = researches.map((r) => r.results["training"]).filter(isTraining)
  const backtest = researches.map((r) => r.results["backtest"]).filter(isBacktest)
  return {
    name: stored.strategy.name,
    strategy: stored.strategy,
    researchId: stored.researchId,
    createdAt: stored.createdAt,
    researches: researches.length,
    best: {
      sharpeRatio: best(backtest.map((b) => b.sharpeRatio)),
      totalReturn: best(backtest.map((b) => b.totalReturn)),
      testAccuracy: best(training.map((t) => t.testAccuracy))
    }
  }
}
