import { assert, describe, it } from "@effect/vitest"
import { Domain, ForemanConfig, Gates } from "@foreman/core"
import { Effect, Schema } from "effect"
import * as Backtest from "../src/backtest.js"
import { backtest } from "../src/backtestWorker.js"
import * as Dataset from "../src/dataset.js"
import * as MarketData from "../src/marketData.js"
import * as Model from "../src/model.js"
import { train } from "../src/trainingWorker.js"
import { exampleWorkers } from "../src/workers.js"
import { job, mixOnSpx, noProgress, quick, recordingContext, rsiOnEurusd } from "./helpers.js"

/** One quick training of each strategy, shared by the tests. */
const trainedRsi = Effect.runSync(Effect.cached(train({ strategy: rsiOnEurusd }, noProgress, quick)))
const trainedMix = Effect.runSync(Effect.cached(train({ strategy: mixOnSpx }, noProgress, quick)))

const noCosts = { ...Backtest.defaultSettings, commissionBps: 0, slippageBps: 0 }

describe("backtest worker", () => {
  it.effect("trades the held-out window with consistent metrics the core backtest gate evaluates", () =>
    Effect.gen(function*() {
      for (const [strategy, trained] of [[rsiOnEurusd, trainedRsi], [mixOnSpx, trainedMix]] as const) {
        const training = yield* trained
        const { ctx, reports } = yield* recordingContext
        const raw = yield* exampleWorkers.backtest(job("backtest", { strategy, training }), ctx)
        const result = yield* Schema.decodeUnknown(Domain.BacktestResult)(raw)
        const report = yield* backtest({ strategy, training })
        assert.deepStrictEqual(raw, report)
        assert.isTrue([result.sharpeRatio, result.totalReturn, result.netReturn].every(Number.isFinite))
        assert.isTrue(result.tradeCount > 0)
        assert.strictEqual(result.totalTrades, result.tradeCount)
        assert.isTrue(result.winRate >= 0 && result.winRate <= 1)
        assert.isTrue(result.maxDrawdown >= 0 && result.maxDrawdown <= 1)
        assert.isTrue(result.netReturn < result.totalReturn, "costs are paid")
        assert.closeTo(report.equity.final - 1, report.netReturn, 1e-12)
        assert.isTrue(report.equity.trough <= report.equity.final && report.equity.final <= report.equity.peak)
        // The drawdown at the end, and from the start to the trough, are drawdowns too.
        assert.isTrue(report.maxDrawdown >= 1 - report.equity.final / report.equity.peak - 1e-12)
        assert.isTrue(report.maxDrawdown >= 1 - report.equity.trough - 1e-12)
        const { longDays, shortDays, flatDays } = report.exposure
        assert.strictEqual(longDays + shortDays + flatDays, report.window.days)
        assert.isTrue(report.window.days > 450 && report.window.from > training.windows.test.to!)
        assert.strictEqual(report.window.from, training.model.holdoutFrom)
        // Every trade pays one unit of cost to enter and one to exit (7 bp each by default).
        assert.isTrue(report.costsPaid >= report.tradeCount * 2 * 0.0007 - 1e-12)
        const gate = Gates.backtest(result, ForemanConfig.defaultGates)
        assert.isTrue(gate.passed || gate.reason !== null)
        assert.deepStrictEqual((yield* reports).map((r) => r.fraction), [0, 1])
      }
    }))

  it.effect("costs reduce the net return, and without costs it equals the gross return", () =>
    Effect.gen(function*() {
      const input = { strategy: mixOnSpx, training: yield* trainedMix }
      const free = yield* backtest(input, noCosts)
      const usual = yield* backtest(input)
      const expensive = yield* backtest(input, { ...Backtest.defaultSettings, commissionBps: 20, slippageBps: 10 })
      assert.strictEqual(free.costsPaid, 0)
      assert.closeTo(free.netReturn, free.totalReturn, 1e-12)
      assert.strictEqual(usual.totalReturn, free.totalReturn)
      assert.strictEqual(usual.tradeCount, free.tradeCount)
      assert.isTrue(usual.netReturn < free.netReturn)
      assert.isTrue(expensive.netReturn < usual.netReturn)
      assert.isTrue(expensive.sharpeRatio < usual.sharpeRatio)
    }))

  it.effect("a wider no-trade band trades less; the band comes from the test window's predictions", () =>
    Effect.gen(function*() {
      const input = { strategy: rsiOnEurusd, training: yield* trainedRsi }
      const narrow = yield* backtest(input, { ...noCosts, flatShare: 0 })
      const usual = yield* backtest(input, noCosts)
      const wide = yield* backtest(input, { ...noCosts, flatShare: 0.8 })
      assert.strictEqual(narrow.exposure.flatDays, 0)
      assert.strictEqual(narrow.band.short, narrow.band.long)
      assert.isTrue(wide.band.short < usual.band.short && usual.band.long < wide.band.long)
      const traded = (r: Backtest.BacktestReport) => r.exposure.longDays + r.exposure.shortDays
      assert.isTrue(traded(wide) < traded(usual) && traded(usual) < traded(narrow))
      // Calibrated on the test window, the usual band leaves roughly its share of held-out days flat.
      const bars = yield* MarketData.load("EURUSD")
      const { test } = Dataset.split(bars, input.training.model)
      const network = input.training.model.network
      assert.deepStrictEqual(usual.band, Backtest.signalBand(network, test, 0.3))
      const flatInTest = test.map((s) => Model.predict(network, s.features))
        .filter((p) => p >= usual.band.short && p <= usual.band.long).length / test.length
      assert.closeTo(flatInTest, 0.3, 0.01)
    }))

  it.effect("a model with little conviction still trades: its band follows its own predictions, not p = 0.5", () =>
    Effect.gen(function*() {
      // A 1-day horizon on EURUSD: the trained model's outputs all stay within 0.02 of 0.5,
      // so a fixed band of 0.48–0.52 would never trade.
      const strategy = { ...rsiOnEurusd, spec: { ...rsiOnEurusd.spec, labelHorizonDays: 1 } }
      const training = yield* train({ strategy }, noProgress)
      const bars = yield* MarketData.load("EURUSD")
      const { holdout } = Dataset.split(bars, training.model)
      const predictions = holdout.map((s) => Model.predict(training.model.network, s.features))
      assert.isTrue(predictions.every((p) => Math.abs(p - 0.5) < 0.02), "the model is undecided")
      const report = yield* backtest({ strategy, training })
      assert.isAbove(report.tradeCount, 10)
      assert.isAbove(report.exposure.flatDays, 0)
    }))

  it.effect("a model that never trades: zero-variance returns give finite zeros, not NaN", () =>
    Effect.gen(function*() {
      const training = yield* trainedRsi
      const network = training.model.network
      // Every prediction is exactly 0.5, inside the no-trade band.
      const undecided = {
        ...network,
        outputWeights: network.outputWeights.map(() => 0),
        outputBias: 0
      }
      const bars = yield* MarketData.load("EURUSD")
      const holdout = Dataset.samples(bars, training.model).samples.filter((x) => x.date >= training.model.holdoutFrom)
      const band = Backtest.signalBand(undecided, holdout, Backtest.defaultSettings.flatShare)
      assert.deepStrictEqual(band, { short: 0.5, long: 0.5 })
      const report = Backtest.run(undecided, bars, holdout, band)
      assert.deepStrictEqual(
        [report.sharpeRatio, report.winRate, report.totalReturn, report.netReturn, report.maxDrawdown, report.totalTrades],
        [0, 0, 0, 0, 0, 0]
      )
      assert.strictEqual(report.exposure.flatDays, report.window.days)
      const two = Backtest.run(undecided, bars, holdout.slice(0, 2), band)
      assert.isTrue([two.sharpeRatio, two.winRate, two.maxDrawdown].every(Number.isFinite))
      assert.strictEqual(two.window.days, 1)
    }))

  it.effect("is deterministic", () =>
    Effect.gen(function*() {
      const input = { strategy: rsiOnEurusd, training: yield* trainedRsi }
      assert.deepStrictEqual(yield* backtest(input), yield* backtest(input))
    }))

  it.effect("fails without a usable model, with clear messages", () =>
    Effect.gen(function*() {
      const training = yield* trainedRsi
      const failure = (input: unknown) => Effect.flip(backtest(input))
      assert.strictEqual(
        yield* failure({ strategy: rsiOnEurusd, training: null }),
        "the backtest needs a trained model, but the job input has no training result"
      )
      assert.strictEqual(
        yield* failure({ strategy: rsiOnEurusd, training: { testAccuracy: 0.6, testLoss: 0.4, epochLosses: [] } }),
        "the training result has no usable model: it carries no \"model\" field"
      )
      const broken = { ...training.model, network: { ...training.model.network, outputWeights: [1, 2] } }
      assert.strictEqual(
        yield* failure({ strategy: rsiOnEurusd, training: { ...training, model: broken } }),
        "the training result has no usable model: model.network: the model's weight shapes do not match its features"
      )
      const nan = { ...training.model, network: { ...training.model.network, outputBias: "x" } }
      assert.match(
        yield* failure({ strategy: rsiOnEurusd, training: { ...training, model: nan } }),
        /^the training result has no usable model: model\.network\.outputBias: /
      )
      assert.strictEqual(
        yield* failure({ strategy: { ...rsiOnEurusd, spec: { ...rsiOnEurusd.spec, instrument: "SPX" } }, training }),
        "the trained model is for EURUSD but the strategy trades SPX"
      )
      const mismatched = { ...training.model, indicators: [{ name: "sma", period: 20 }] }
      assert.include(
        yield* failure({ strategy: rsiOnEurusd, training: { ...training, model: mismatched } }),
        "the trained model expects features [log_return_1d, rsi14] but its indicators give [log_return_1d, close_over_sma20]"
      )
      assert.strictEqual(
        yield* failure({ training }),
        "the job input has no strategy (expected { strategy: { name, spec } })"
      )
    }))
})
