/**
 * Job handlers for in-memory workers that take simulated time and report
 * plausible metrics drawn from the seeded `Random`, so gates pass and fail in
 * realistic proportions and every run replays from its seed.
 */
import type { Domain } from "@foreman/core"
import { Duration, Effect, Random } from "effect"
import type { JobHandler } from "./MemoryWorkers.js"
import { type DurationModel, sampleDuration } from "./SimulationModels.js"

export type WorkOptions =
  & (
    | {
      /** Mean duration of one job; each job takes 80–120 % of it. */
      readonly seconds: number
    }
    | {
      /** How long one job takes, drawn per job. */
      readonly duration: DurationModel
    }
  )
  & {
    /** Probability that a job fails with an error of its own. */
    readonly failureRate?: number
  }

const between = (low: number, high: number) => Effect.map(Random.next, (x) => low + x * (high - low))
const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits

const work = (options: WorkOptions, progress: (fraction: number, message?: string) => Effect.Effect<void>, what: string) =>
  Effect.gen(function*() {
    const total = "duration" in options ? yield* sampleDuration(options.duration) : options.seconds * (yield* between(0.8, 1.2))
    yield* Effect.sleep(Duration.millis(Math.round(total * 500)))
    yield* progress(0.5, `${what} half done`)
    yield* Effect.sleep(Duration.millis(Math.round(total * 500)))
    if ((yield* Random.next) < (options.failureRate ?? 0)) {
      return yield* Effect.fail(`simulated ${what} failure: worker ran out of memory`)
    }
  })

/** Trains a pretend classifier: accuracy, test loss and per-epoch losses. */
export const training = (options: WorkOptions): JobHandler => (_spec, { progress }) =>
  Effect.gen(function*() {
    yield* work(options, progress, "training")
    const testAccuracy = round(yield* between(0.05, 0.75))
    const testLoss = round(yield* between(0.3, 0.95))
    const first = yield* between(0.6, 1.2)
    const drift = yield* between(-0.5, 0.7)
    const epochLosses = Array.from({ length: 10 }, (_, i) => round(first * (1 + (drift * i) / 9)))
    return { kind: "classification", testAccuracy, testLoss, epochLosses }
  })

/** Backtests a pretend model: Sharpe, win rate, drawdown, returns and trades. */
export const backtest = (options: WorkOptions): JobHandler => (_spec, { progress }) =>
  Effect.gen(function*() {
    yield* work(options, progress, "backtest")
    const trades = Math.round(yield* between(3, 120))
    const totalReturn = round(yield* between(-0.3, 0.5))
    return {
      kind: "classification",
      sharpeRatio: round(yield* between(-1.5, 2.5), 3),
      winRate: round(yield* between(0.05, 0.7)),
      totalReturn,
      totalTrades: trades,
      maxDrawdown: round(yield* between(0.02, 0.5)),
      netReturn: round(totalReturn - trades * 0.0005),
      tradeCount: trades
    }
  })

/** Does a job of any kind: takes its time, may fail, then reports what `result` makes of its spec. */
export const job = (options: WorkOptions, result: (spec: Domain.JobSpec) => Effect.Effect<unknown>): JobHandler =>
(spec, { progress }) => Effect.zipRight(work(options, progress, spec.kind), result(spec))
