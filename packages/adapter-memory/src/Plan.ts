/**
 * Capacity planning from a lab's own history. `run` replays the recorded
 * window (its arrivals, durations, failures, costs, workers and budget, as
 * `PlanInput` fits them) over many seeds and sets the replay beside what was
 * observed, so a reader sees how far to trust it; then runs each what-if
 * (other worker counts, more or fewer arrivals, another budget) over the same
 * seeds. Every figure is a spread across seeds: the 5th, 50th and 95th
 * percentiles and the mean.
 */
import type { History, Pipeline } from "@foreman/core"
import { Effect, Either } from "effect"
import { dayOffsetSeconds, historyToSimulation, type Observed, observed } from "./PlanInput.js"
import { run as simulate } from "./Simulation.js"
import { Arrivals } from "./SimulationModels.js"
import type { SimulationInput } from "./SimulationOptions.js"
import { quantile, type SimulationReport } from "./SimulationReport.js"
import { DEFAULT_SEEDS, type WhatIf } from "./PlanWhatIf.js"

export * from "./PlanInput.js"
export * from "./PlanWhatIf.js"

/** A figure across seeds. */
export interface Spread {
  readonly p5: number
  readonly p50: number
  readonly p95: number
  readonly mean: number
}

/** Waits for one worker type, each figure across seeds. */
export interface WaitSpread {
  readonly meanSeconds: Spread
  readonly p50Seconds: Spread
  readonly p95Seconds: Spread
}

/** The recorded window replayed with the recorded workers. */
export interface Replay {
  readonly researchesFinished: Spread
  readonly costUsd: Spread
  readonly waits: Readonly<Record<string, WaitSpread>>
  readonly utilisation: Readonly<Record<string, Spread>>
}

/** One what-if over the recorded window. */
export interface WhatIfResult extends Replay {
  readonly label: string
  readonly workers: Readonly<Record<string, number>>
  readonly arrivalsFactor: number
  /** 0: unlimited. */
  readonly dailyBudgetUsd: number
  readonly researchesPerDay: Spread
  readonly costPerDayUsd: Spread
  /**
   * The UTC hour of day (0 to 24) at which the budget first refused a
   * research, across the seeds where it did; null when it never ran out.
   */
  readonly budgetExhaustedHour: Spread | null
  /** In how many seeds the budget ran out. */
  readonly budgetExhaustedSeeds: number
}

export interface PlanReport {
  /** The window, as ISO 8601. */
  readonly since: string
  readonly until: string
  readonly seeds: number
  readonly observed: Observed
  readonly replay: Replay
  readonly whatIfs: ReadonlyArray<WhatIfResult>
}

export interface PlanOptions {
  /** How many seeds each scenario runs (the replay and each what-if); `DEFAULT_SEEDS` (10) by default. */
  readonly seeds?: number
  readonly whatIfs?: ReadonlyArray<WhatIf>
  /**
   * The pipeline the lab runs, when not the research pipeline (`Pipeline.research`):
   * the history's job kinds are fitted whatever they are, and replayed on it.
   */
  readonly pipeline?: Pipeline.PipelineShape
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits

/** The spread of values across seeds. */
export const spread = (values: ReadonlyArray<number>): Spread => {
  const sorted = [...values].sort((a, b) => a - b)
  return {
    p5: round(quantile(sorted, 0.05)),
    p50: round(quantile(sorted, 0.5)),
    p95: round(quantile(sorted, 0.95)),
    mean: round(sorted.length === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / sorted.length)
  }
}

const finished = (r: SimulationReport) => r.finishedPerDay.reduce((a, b) => a + b, 0)

/** The replay's figures over its seeds' reports. */
const replayOf = (reports: ReadonlyArray<SimulationReport>, types: ReadonlyArray<string>): Replay => ({
  researchesFinished: spread(reports.map(finished)),
  costUsd: spread(reports.map((r) => r.spentUsd)),
  waits: Object.fromEntries(types.map((t) => {
    const of = (pick: (w: NonNullable<SimulationReport["waits"][string]>) => number) =>
      spread(reports.map((r) => pick(r.waits[t] ?? { meanSeconds: 0, p50Seconds: 0, p95Seconds: 0, count: 0 })))
    return [t, { meanSeconds: of((w) => w.meanSeconds), p50Seconds: of((w) => w.p50Seconds), p95Seconds: of((w) => w.p95Seconds) }]
  })),
  utilisation: Object.fromEntries(types.map((t) => [t, spread(reports.map((r) => r.utilisation[t] ?? 0))]))
})

/** A small deterministic generator (mulberry32) for thinning and thickening recorded arrivals by seed. */
const generator = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * The recorded arrivals scaled by `factor`, deterministically from `seed`:
 * each is kept `floor(factor)` times and once more with probability
 * `factor - floor(factor)`; the first copy at its recorded moment, each other
 * one moved uniformly within the mean gap between arrivals after it (kept
 * inside the window). A factor of 1 is the recorded arrivals.
 */
export const scaleArrivals = (
  atSeconds: ReadonlyArray<number>,
  factor: number,
  seed: number,
  windowSeconds: readonly [number, number]
): Array<number> => {
  if (factor === 1) return [...atSeconds]
  const draw = generator(seed)
  const [start, end] = windowSeconds
  const gap = (end - start) / Math.max(1, atSeconds.length)
  const out: Array<number> = []
  for (const at of atSeconds) {
    const copies = Math.floor(factor) + (draw() < factor - Math.floor(factor) ? 1 : 0)
    for (let c = 0; c < copies; c++) out.push(c === 0 ? at : Math.min(end, at + draw() * gap))
  }
  return out.sort((a, b) => a - b)
}

/** The settings of one what-if run from the replay's (`base`), for one seed. */
const whatIfInput = (base: SimulationInput, w: WhatIf, seed: number, window: readonly [number, number]): SimulationInput => {
  const recorded = base.arrivals?._tag === "Recorded" ? base.arrivals.atSeconds : []
  const atSeconds = scaleArrivals(recorded, w.arrivalsFactor, seed, window)
  return {
    ...base,
    seed,
    workers: w.workers,
    dailyBudgetUsd: w.dailyBudgetUsd,
    researches: atSeconds.length,
    ...(atSeconds.length === 0 ? {} : { arrivals: Arrivals.recorded(atSeconds) })
  }
}

/**
 * Plans from `history`: the replay of the recorded window over `seeds` seeds
 * (1 to `seeds`), beside what was observed, then each what-if over the same
 * seeds. Fails with a message when the history holds no research. A run of one
 * seed costs about as much as simulating the window once (see docs/simulation.md).
 */
export const run = (history: History.History, options: PlanOptions = {}): Effect.Effect<PlanReport, string> =>
  Effect.gen(function*() {
    const fitted = yield* Either.match(historyToSimulation(history), { onLeft: Effect.fail, onRight: Effect.succeed })
    const base: SimulationInput = options.pipeline === undefined ? fitted : { ...fitted, pipeline: options.pipeline }
    const seeds = Math.max(1, options.seeds ?? DEFAULT_SEEDS)
    const startOfDay = dayOffsetSeconds(history)
    const window = [0, base.horizonSeconds ?? 0] as const
    const periodDays = (history.until - history.since) / 86_400_000
    const types = Object.keys(history.workers)
    const runSeeds = (input: (seed: number) => SimulationInput) =>
      Effect.forEach(Array.from({ length: seeds }, (_, i) => i + 1), (seed) => simulate(input(seed)))
    const replayReports = yield* runSeeds((seed) => ({ ...base, seed }))
    const whatIfs: Array<WhatIfResult> = []
    for (const w of options.whatIfs ?? []) {
      const reports = yield* runSeeds((seed) => whatIfInput(base, w, seed, window))
      const exhausted = reports.flatMap((r) =>
        r.budgetExhaustedAtSeconds === null ? [] : [((startOfDay + r.budgetExhaustedAtSeconds) % 86_400) / 3600]
      )
      const wTypes = [...new Set([...types, ...Object.keys(w.workers)])]
      whatIfs.push({
        label: w.label,
        workers: w.workers,
        arrivalsFactor: w.arrivalsFactor,
        dailyBudgetUsd: w.dailyBudgetUsd,
        researchesPerDay: spread(reports.map((r) => finished(r) / periodDays)),
        costPerDayUsd: spread(reports.map((r) => r.spentUsd / periodDays)),
        ...replayOf(reports, wTypes),
        budgetExhaustedHour: exhausted.length === 0 ? null : spread(exhausted),
        budgetExhaustedSeeds: exhausted.length
      })
    }
    return {
      since: new Date(history.since).toISOString(),
      until: new Date(history.until).toISOString(),
      seeds,
      observed: observed(history),
      replay: replayOf(replayReports, types),
      whatIfs
    }
  })
