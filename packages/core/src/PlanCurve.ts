/**
 * A plan's curve: for one worker type, how the waits for it, the researches
 * finished per day and its utilisation change with the number of its workers
 * (the others as recorded), each figure a spread across seeds, beside what the
 * window observed ("you are here"). The dashboard's Plan page draws it; the
 * `Planner` port computes it (the memory adapter runs the simulations on
 * worker threads). The limits of a request and what was observed are pure
 * functions of plain data, checked here.
 */
import { Context, type Effect, Either, Schema } from "effect"
import { Millis, WorkerType } from "./Domain.js"
import type { History } from "./History.js"

/** A figure across seeds: its 5th, 50th and 95th percentiles and its mean. */
export const Spread = Schema.Struct({ p5: Schema.Number, p50: Schema.Number, p95: Schema.Number, mean: Schema.Number })
export type Spread = typeof Spread.Type

/** What a simulation with `workers` of the type gave, across seeds. */
export const PlanPoint = Schema.Struct({
  /** Job slots of the type (the other types as recorded). */
  workers: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  /** The median wait for a worker of the type, in seconds. */
  waitP50Seconds: Spread,
  /** The 95th percentile of those waits, in seconds. */
  waitP95Seconds: Spread,
  /** Researches finished (completed or failed) per day. */
  researchesPerDay: Spread,
  /** The share of the type's slot time spent running jobs (0 to 1). */
  utilisation: Spread
})
export type PlanPoint = typeof PlanPoint.Type

/** What the window recorded for the type, to mark on the curve. */
export const PlanObserved = Schema.Struct({
  workers: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  waitP50Seconds: Schema.Number,
  waitP95Seconds: Schema.Number,
  researchesPerDay: Schema.Number,
  utilisation: Schema.Number
})
export type PlanObserved = typeof PlanObserved.Type

/** The curve of one worker type over a window. */
export const PlanCurve = Schema.Struct({
  since: Millis,
  until: Millis,
  /** The worker type whose count varies. */
  type: WorkerType,
  /** Seeds each point ran. */
  seeds: Schema.Number.pipe(Schema.int(), Schema.positive()),
  /** The job slots the window recorded per worker type (the other types keep theirs). */
  workers: Schema.Record({ key: WorkerType, value: Schema.Number.pipe(Schema.int(), Schema.nonNegative()) }),
  observed: PlanObserved,
  /** One point per worker count asked for, fewest first. */
  points: Schema.Array(PlanPoint)
})
export interface PlanCurve extends Schema.Schema.Type<typeof PlanCurve> {}

/** What a curve is asked for. */
export interface PlanRequest {
  readonly type: string
  /** Worker counts, each once, ascending. */
  readonly counts: ReadonlyArray<number>
  readonly seeds: number
}

/** The window holds no research: there is nothing to plan from. */
export class NoPlanHistory extends Schema.TaggedError<NoPlanHistory>()("NoPlanHistory", {
  message: Schema.String
}) {}

/** This server cannot compute plans (no planner was provided), or the type is not one the window knows. */
export class PlanRefused extends Schema.TaggedError<PlanRefused>()("PlanRefused", {
  message: Schema.String
}) {}

/** The bounds of a request: how many counts, seeds and simulations in all, and the largest count. */
export const limits = { counts: 12, seeds: 20, runs: 60, workers: 64 } as const

/**
 * Worker counts from text: `1..6`, `1,2,4,8` or a mix (`1..3,6`), each once,
 * ascending, within `limits`. Answers the counts or why not.
 */
export const parseCounts = (text: string): Either.Either<ReadonlyArray<number>, string> => {
  const counts = new Set<number>()
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const m = /^(\d{1,3})(?:\.\.(\d{1,3}))?$/.exec(part)
    if (m === null) return Either.left(`counts: expected 1..6 or 1,2,4 (worker counts); got ${JSON.stringify(part)}`)
    const from = Number(m[1])
    const to = m[2] === undefined ? from : Number(m[2])
    if (to < from) return Either.left(`counts: ${part} runs backwards`)
    if (to > limits.workers) return Either.left(`counts: at most ${limits.workers} workers; got ${part}`)
    for (let n = from; n <= to && counts.size <= limits.counts; n++) counts.add(n)
    if (counts.size > limits.counts) return Either.left(`counts: at most ${limits.counts} worker counts; got more in ${JSON.stringify(text)}`)
  }
  if (counts.size === 0) return Either.left("counts: give at least one worker count, such as 1..6")
  return Either.right([...counts].sort((a, b) => a - b))
}

/** Why `request` is too large, if it is: counts × seeds simulations, at most `limits.runs`. */
export const tooLarge = (request: PlanRequest): string | undefined =>
  request.counts.length * request.seeds > limits.runs
    ? `${request.counts.length} worker counts × ${request.seeds} seeds is ${request.counts.length * request.seeds} simulations; ` +
      `at most ${limits.runs} (ask fewer counts or seeds)`
    : undefined

const percentile = (sorted: ReadonlyArray<number>, q: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits

/**
 * What `history` recorded for worker `type`: its slots, the median and 95th
 * percentile of the waits for it, the researches finished per day, and the
 * share of its slot time its jobs ran (jobs clipped to the window).
 */
export const observedOf = (history: History, type: string): PlanObserved => {
  const waits: Array<number> = []
  let busyMs = 0
  for (const [, workerType, queuedAt, startedAt, finishedAt] of history.jobs) {
    if (workerType !== type) continue
    waits.push(Math.max(0, startedAt - queuedAt) / 1000)
    const end = Math.min(finishedAt ?? history.until, history.until)
    busyMs += Math.max(0, end - Math.max(startedAt, history.since))
  }
  waits.sort((a, b) => a - b)
  const windowMs = Math.max(1, history.until - history.since)
  const slots = history.workers[type] ?? 0
  const finished = history.researches.filter(([, finishedAt, status]) =>
    finishedAt !== null && finishedAt < history.until && (status === "completed" || status === "failed")
  ).length
  return {
    workers: slots,
    waitP50Seconds: round(percentile(waits, 0.5), 1),
    waitP95Seconds: round(percentile(waits, 0.95), 1),
    researchesPerDay: round(finished / (windowMs / 86_400_000), 3),
    utilisation: slots === 0 ? 0 : round(Math.min(1, busyMs / (slots * windowMs)), 3)
  }
}

/** Computes curves: the simulations behind them, bounded and shared (see the memory adapter's `PlanCurves`). */
export interface PlannerShape {
  /** The curve of `request.type` over `history`; `NoPlanHistory` when it holds no research, `PlanRefused` for a type it does not know. */
  readonly curve: (history: History, request: PlanRequest) => Effect.Effect<PlanCurve, NoPlanHistory | PlanRefused>
}

export class Planner extends Context.Tag("@foreman/core/Planner")<Planner, PlannerShape>() {}
