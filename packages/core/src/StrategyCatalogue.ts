/**
 * The strategy catalogue, decided without side effects: the unique name a new
 * design is stored under, the names nearest to an unknown one, the designs a
 * tick's plan records (renamed to their catalogue names before they are
 * written), each strategy's best metrics from the researches that used it,
 * and the leaderboard: the strategies by their best research, sorted and
 * filtered by indicator, instrument and verdict.
 */
import { Schema } from "effect"
import {
  Assessment,
  BacktestResult,
  Millis,
  type Research,
  ResearchId,
  ResearchStatus,
  type StoredStrategy,
  Strategy,
  TrainingResult
} from "./Domain.js"
import type { TickAction } from "./TickPlan.js"

/** The best of each metric over a strategy's researches; null when none reported it. */
export const BestMetrics = Schema.Struct({
  sharpeRatio: Schema.NullOr(Schema.Number),
  totalReturn: Schema.NullOr(Schema.Number),
  testAccuracy: Schema.NullOr(Schema.Number)
})
export type BestMetrics = typeof BestMetrics.Type

/**
 * A strategy's best research and its metrics: the backtested one with the
 * highest Sharpe ratio, else the latest assessed, else the latest. A metric
 * that research did not report is null.
 */
export const TopResearch = Schema.Struct({
  researchId: ResearchId,
  status: ResearchStatus,
  sharpeRatio: Schema.NullOr(Schema.Number),
  totalReturn: Schema.NullOr(Schema.Number),
  maxDrawdown: Schema.NullOr(Schema.Number),
  winRate: Schema.NullOr(Schema.Number),
  totalTrades: Schema.NullOr(Schema.Number),
  testAccuracy: Schema.NullOr(Schema.Number),
  verdict: Schema.NullOr(Assessment.fields.verdict),
  costUsd: Schema.Number
})
export type TopResearch = typeof TopResearch.Type

/** A catalogued strategy as operators see it. */
export const StrategySummary = Schema.Struct({
  name: Schema.String,
  strategy: Strategy,
  /** The research that designed it. */
  researchId: ResearchId,
  createdAt: Millis,
  /** Researches that used it, the designing one included. */
  researches: Schema.Number,
  best: BestMetrics,
  /** Its best research (null before any research used it). */
  top: Schema.NullOr(TopResearch),
  /** The indicators its specification names (`spec.indicators`, by name), lower case. */
  indicators: Schema.Array(Schema.String),
  /** The instrument its specification names (`spec.instrument`), or null. */
  instrument: Schema.NullOr(Schema.String),
  /** What the researches that used it cost, in all. */
  costUsd: Schema.Number
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

const isFullBacktest = Schema.is(Schema.Struct({
  sharpeRatio: BacktestResult.fields.sharpeRatio,
  totalReturn: BacktestResult.fields.totalReturn,
  maxDrawdown: Schema.optional(BacktestResult.fields.maxDrawdown),
  winRate: Schema.optional(BacktestResult.fields.winRate),
  totalTrades: Schema.optional(BacktestResult.fields.totalTrades)
}))
const isAssessment = Schema.is(Schema.Struct({ verdict: Assessment.fields.verdict }))

/** The metrics of one research, as a leaderboard shows them. */
const topOf = (r: Research): TopResearch => {
  const backtest = r.results["backtest"]
  const training = r.results["training"]
  const assessment = r.results["assessment"]
  const b = isFullBacktest(backtest) ? backtest : null
  return {
    researchId: r.id,
    status: r.status,
    sharpeRatio: b?.sharpeRatio ?? null,
    totalReturn: b?.totalReturn ?? null,
    maxDrawdown: b?.maxDrawdown ?? null,
    winRate: b?.winRate ?? null,
    totalTrades: b?.totalTrades ?? null,
    testAccuracy: isTraining(training) ? training.testAccuracy : null,
    verdict: isAssessment(assessment) ? assessment.verdict : null,
    costUsd: r.costUsd
  }
}

/** The best of `researches`: the backtested one with the highest Sharpe, else the latest assessed, else the latest. */
const topResearch = (researches: ReadonlyArray<Research>): TopResearch | null => {
  const tops = researches.map((r) => ({ r, top: topOf(r) }))
  const backtested = tops.filter((t) => t.top.sharpeRatio !== null)
  const assessed = tops.filter((t) => t.top.verdict !== null)
  const pool = backtested.length > 0 ? backtested : assessed.length > 0 ? assessed : tops
  const order = (a: (typeof tops)[number], b: (typeof tops)[number]) =>
    (b.top.sharpeRatio ?? 0) - (a.top.sharpeRatio ?? 0) || b.r.createdAt - a.r.createdAt
  return [...pool].sort(order)[0]?.top ?? null
}

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The indicators a specification names: `indicators` as names or `{ name }`s, lower case, each once. */
export const indicatorsOf = (spec: Strategy["spec"]): ReadonlyArray<string> => {
  const list = spec["indicators"]
  if (!Array.isArray(list)) return []
  const names = list.map((i: unknown) => (typeof i === "string" ? i : isRecord(i) && typeof i["name"] === "string" ? i["name"] : null))
  return Array.from(new Set(names.filter((n): n is string => n !== null).map((n) => n.toLowerCase())))
}

/** The instrument a specification names (`instrument`), or null. */
export const instrumentOf = (spec: Strategy["spec"]): string | null =>
  typeof spec["instrument"] === "string" ? spec["instrument"] : null

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
    },
    top: topResearch(researches),
    indicators: indicatorsOf(stored.strategy.spec),
    instrument: instrumentOf(stored.strategy.spec),
    costUsd: researches.reduce((sum, r) => sum + r.costUsd, 0)
  }
}

/** What a leaderboard sorts by: a metric of each strategy's best research, or of the strategy. */
export const LeaderboardSort = Schema.Literal(
  "sharpeRatio",
  "totalReturn",
  "maxDrawdown",
  "winRate",
  "totalTrades",
  "testAccuracy",
  "costUsd",
  "researches",
  "createdAt",
  "name"
)
export type LeaderboardSort = typeof LeaderboardSort.Type

/** Which strategies a leaderboard shows, and in what order. */
export interface LeaderboardQuery {
  readonly sort: LeaderboardSort
  /** Only strategies whose specification names this indicator (any case). */
  readonly indicator?: string | undefined
  /** Only strategies on this instrument (any case). */
  readonly instrument?: string | undefined
  /** Only strategies whose best research got this verdict. */
  readonly verdict?: Assessment["verdict"] | undefined
  /** At most this many, from the top. */
  readonly limit?: number | undefined
}

/** The sort key of a summary (null sorts last); larger is better unless `ascending` says otherwise. */
const keyOf = (s: StrategySummary, sort: LeaderboardSort): number | string | null => {
  switch (sort) {
    case "costUsd":
      return s.top?.costUsd ?? null
    case "maxDrawdown": {
      const drawdown = s.top?.maxDrawdown ?? null
      return drawdown === null ? null : Math.abs(drawdown)
    }
    case "researches":
      return s.researches
    case "createdAt":
      return s.createdAt
    case "name":
      return s.name
    default:
      return s.top?.[sort] ?? null
  }
}

/** Sorts where smaller comes first: the shallowest drawdown, the cheapest, names alphabetically. */
export const ascending = (sort: LeaderboardSort): boolean => sort === "maxDrawdown" || sort === "costUsd" || sort === "name"

/**
 * The leaderboard: the strategies the query selects, sorted by `sort` (the
 * best first; strategies without that metric last, then newest first), at
 * most `limit` of them; `total` counts every strategy the filters select.
 */
export const leaderboard = (
  summaries: ReadonlyArray<StrategySummary>,
  query: LeaderboardQuery
): { readonly total: number; readonly strategies: ReadonlyArray<StrategySummary> } => {
  const indicator = query.indicator?.toLowerCase()
  const instrument = query.instrument?.toLowerCase()
  const selected = summaries.filter((s) =>
    (indicator === undefined || s.indicators.includes(indicator)) &&
    (instrument === undefined || s.instrument?.toLowerCase() === instrument) &&
    (query.verdict === undefined || s.top?.verdict === query.verdict)
  )
  const up = ascending(query.sort) ? 1 : -1
  const sorted = [...selected].sort((a, b) => {
    const ka = keyOf(a, query.sort), kb = keyOf(b, query.sort)
    if (ka === null || kb === null) return ka === kb ? b.createdAt - a.createdAt : ka === null ? 1 : -1
    const c = ka < kb ? -1 : ka > kb ? 1 : 0
    return c * up || b.createdAt - a.createdAt
  })
  return { total: selected.length, strategies: query.limit === undefined ? sorted : sorted.slice(0, query.limit) }
}
