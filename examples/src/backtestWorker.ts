/**
 * The example backtest worker: takes the model the training worker reported,
 * recomputes the same features on the strategy's instrument and trades the
 * model's signals over the held-out window (the last 20% of the data, which
 * training never saw), with the no-trade band set from the model's
 * predictions on the test window. See `backtest.ts` for the trading rules and costs.
 */
import type { WorkerHost } from "@foreman/worker"
import { Effect, ParseResult, Schema } from "effect"
import * as Backtest from "./backtest.js"
import * as Dataset from "./dataset.js"
import * as MarketData from "./marketData.js"
import { decodeStrategy, isRecord } from "./strategySpec.js"
import { TrainedModel } from "./trainedModel.js"

/** Reads the trained model out of the training result in the job input. */
export const decodeModel = (input: unknown): Effect.Effect<TrainedModel, string> => {
  const training = isRecord(input) ? input["training"] : undefined
  if (!isRecord(training)) {
    return Effect.fail("the backtest needs a trained model, but the job input has no training result")
  }
  if (training["model"] === undefined) {
    return Effect.fail("the training result has no usable model: it carries no \"model\" field")
  }
  return Schema.decodeUnknown(TrainedModel)(training["model"]).pipe(
    Effect.mapError((e) =>
      `the training result has no usable model: ${
        ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => `${["model", ...i.path].join(".")}: ${i.message}`)
          .join("; ")
      }`
    )
  )
}

/** Backtests the model in a job input `{ strategy, training }`. */
export const backtest = (input: unknown, settings: Backtest.BacktestSettings = Backtest.defaultSettings) =>
  Effect.gen(function*() {
    const strategy = yield* decodeStrategy(input)
    const model = yield* decodeModel(input)
    if (model.instrument !== strategy.spec.instrument) {
      return yield* Effect.fail(
        `the trained model is for ${model.instrument} but the strategy trades ${strategy.spec.instrument}`
      )
    }
    const bars = yield* MarketData.load(model.instrument)
    const { featureNames, holdout: heldOut, test } = Dataset.split(bars, model)
    if (featureNames.join(",") !== model.network.featureNames.join(",")) {
      return yield* Effect.fail(
        `the trained model expects features [${model.network.featureNames.join(", ")}] but its indicators give ` +
          `[${featureNames.join(", ")}]`
      )
    }
    const holdout = heldOut.filter((s) => s.date >= model.holdoutFrom)
    if (holdout.length < 2 || test.length === 0) {
      return yield* Effect.fail(`no held-out data from ${model.holdoutFrom} on ${model.instrument} to backtest on`)
    }
    const band = Backtest.signalBand(model.network, test, settings.flatShare)
    return Backtest.run(model.network, bars, holdout, band, settings)
  })

/** The backtest worker function, for `WorkerHost.runNode`. */
export const backtestWorker =
  (settings: Backtest.BacktestSettings = Backtest.defaultSettings): WorkerHost.WorkerFunction => (job, ctx) =>
    Effect.gen(function*() {
      yield* ctx.progress(0, "backtesting on the held-out window")
      const report = yield* backtest(job.input, settings)
      yield* ctx.progress(1, `net return ${(report.netReturn * 100).toFixed(1)}% over ${report.totalTrades} trades`)
      return report
    })
