/**
 * The quality gates: every check of the training and backtest gates, in both
 * their classification and regression variants, with exact reasons, boundaries
 * and configurable thresholds.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { type BacktestResult, type GateOutcome, TrainingResult } from "../src/Domain.js"
import * as ForemanConfig from "../src/ForemanConfig.js"
import * as Gates from "../src/Gates.js"

const thresholds = ForemanConfig.make().gates

const passed: GateOutcome = { passed: true, reason: null, bypassed: false }
const failed = (reason: string): GateOutcome => ({ passed: false, reason, bypassed: false })

const goodTraining: TrainingResult = {
  kind: "classification",
  testAccuracy: 0.62,
  testLoss: 0.35,
  epochLosses: [0.9, 0.6, 0.4]
}

const goodRegressionTraining: TrainingResult = {
  kind: "regression",
  testAccuracy: 0.1,
  testLoss: 0.3,
  epochLosses: [0.5, 0.4],
  directionalAccuracy: 0.58
}

const goodBacktest: BacktestResult = {
  kind: "classification",
  sharpeRatio: 1.2,
  winRate: 0.55,
  totalReturn: 0.12,
  totalTrades: 40,
  maxDrawdown: 0.15,
  netReturn: 0.1,
  tradeCount: 40
}

const goodRegressionBacktest: BacktestResult = { ...goodBacktest, kind: "regression" }

const training = (overrides: Partial<TrainingResult>, t = thresholds) =>
  Gates.training({ ...goodTraining, ...overrides }, t)
const regressionTraining = (overrides: Partial<TrainingResult>, t = thresholds) =>
  Gates.training({ ...goodRegressionTraining, ...overrides }, t)
const backtest = (overrides: Partial<BacktestResult>, t = thresholds) =>
  Gates.backtest({ ...goodBacktest, ...overrides }, t)
const regressionBacktest = (overrides: Partial<BacktestResult>, t = thresholds) =>
  Gates.backtest({ ...goodRegressionBacktest, ...overrides }, t)

describe("Gates", () => {
  describe("defaults", () => {
    it("match the reference thresholds", () => {
      assert.deepStrictEqual(thresholds, {
        trainingMinAccuracy: 0.1,
        trainingMaxLoss: 0.8,
        trainingMaxLossIncrease: 0.5,
        regressionMinDirectionalAccuracy: 0.5,
        backtestMinWinRate: 0.1,
        backtestMaxDrawdown: 0.4,
        backtestMinSharpe: -0.5,
        regressionMinTrades: 5
      })
    })

    it("bypassed passes and says it was bypassed", () => {
      assert.deepStrictEqual(Gates.bypassed, { passed: true, reason: null, bypassed: true })
    })
  })

  describe("training (classification)", () => {
    it("passes a good model", () => {
      assert.deepStrictEqual(Gates.training(goodTraining, thresholds), passed)
    })

    it("fails accuracy below 10%", () => {
      assert.deepStrictEqual(training({ testAccuracy: 0.05 }), failed("accuracy_below_threshold (5.0% < 10%)"))
    })

    it("passes accuracy exactly at 10%", () => {
      assert.deepStrictEqual(training({ testAccuracy: 0.1 }), passed)
    })

    it("fails accuracy just under 10%", () => {
      assert.deepStrictEqual(training({ testAccuracy: 0.099 }), failed("accuracy_below_threshold (9.9% < 10%)"))
    })

    it("fails test loss above 0.8", () => {
      assert.deepStrictEqual(training({ testLoss: 0.95 }), failed("loss_above_threshold (0.950 > 0.8)"))
    })

    it("passes test loss exactly at 0.8", () => {
      assert.deepStrictEqual(training({ testLoss: 0.8, epochLosses: [0.9, 0.8] }), passed)
    })

    it("fails test loss just above 0.8", () => {
      assert.deepStrictEqual(
        training({ testLoss: 0.8001, epochLosses: [0.9, 0.8] }),
        failed("loss_above_threshold (0.800 > 0.8)")
      )
    })

    it("fails when the loss grew by more than 50% from the first to the last epoch", () => {
      assert.deepStrictEqual(
        training({ testLoss: 0.5, epochLosses: [0.5, 0.3, 0.76] }),
        failed("loss_increased_too_much (52.0% > 50%)")
      )
    })

    it("passes a loss growth of exactly 50%", () => {
      assert.deepStrictEqual(training({ testLoss: 0.5, epochLosses: [0.5, 0.9, 0.75] }), passed)
    })

    it("checks no loss trend when the worker reports no epochs, and says so", () => {
      assert.deepStrictEqual(
        Gates.training({ kind: "classification", testAccuracy: 0.55, testLoss: 0.69 }, ForemanConfig.defaultGates),
        { passed: true, reason: "loss_trend_not_checked (no epoch losses reported)", bypassed: false }
      )
      assert.deepStrictEqual(
        Gates.training({ kind: "classification", testAccuracy: 0.55, testLoss: 0.69, epochLosses: [] }, ForemanConfig.defaultGates),
        { passed: true, reason: "loss_trend_not_checked (no epoch losses reported)", bypassed: false }
      )
    })

    it("compares only the first and the last epoch", () => {
      assert.deepStrictEqual(training({ testLoss: 0.5, epochLosses: [0.5, 5, 0.5] }), passed)
    })

    it("skips the growth check without epochs, with one epoch, or with a zero first loss", () => {
      assert.deepStrictEqual(training({ epochLosses: [] }), { ...passed, reason: "loss_trend_not_checked (no epoch losses reported)" })
      assert.deepStrictEqual(training({ epochLosses: [0.4] }), passed)
      assert.deepStrictEqual(training({ epochLosses: [0, 0.7] }), passed)
    })

    it("reports the first failure: accuracy before loss before growth", () => {
      assert.deepStrictEqual(
        training({ testAccuracy: 0.02, testLoss: 2, epochLosses: [0.1, 2] }),
        failed("accuracy_below_threshold (2.0% < 10%)")
      )
      assert.deepStrictEqual(
        training({ testLoss: 2, epochLosses: [0.1, 2] }),
        failed("loss_above_threshold (2.000 > 0.8)")
      )
    })

    it("applies the classification gate to a decoded result without kind", () => {
      const decoded = Schema.decodeUnknownSync(TrainingResult)({ testAccuracy: 0.05, testLoss: 0.3, epochLosses: [] })
      assert.deepStrictEqual(Gates.training(decoded, thresholds), failed("accuracy_below_threshold (5.0% < 10%)"))
    })

    it("ignores directional accuracy", () => {
      assert.deepStrictEqual(training({ directionalAccuracy: 0.1 }), passed)
    })
  })

  describe("training (regression)", () => {
    it("passes a good model, whatever its plain accuracy", () => {
      assert.deepStrictEqual(Gates.training(goodRegressionTraining, thresholds), passed)
    })

    it("fails directional accuracy below 50%", () => {
      assert.deepStrictEqual(
        regressionTraining({ directionalAccuracy: 0.45 }),
        failed("directional_accuracy_too_low (45.0% <= 50%)")
      )
    })

    it("fails directional accuracy exactly at 50%", () => {
      assert.deepStrictEqual(
        regressionTraining({ directionalAccuracy: 0.5 }),
        failed("directional_accuracy_too_low (50.0% <= 50%)")
      )
    })

    it("passes directional accuracy just above 50%", () => {
      assert.deepStrictEqual(regressionTraining({ directionalAccuracy: 0.501 }), passed)
    })

    it("falls back to test accuracy when directional accuracy is missing", () => {
      const { directionalAccuracy: _d, ...rest } = goodRegressionTraining
      assert.deepStrictEqual(
        Gates.training({ ...rest, testAccuracy: 0.4 }, thresholds),
        failed("directional_accuracy_too_low (40.0% <= 50%)")
      )
      assert.deepStrictEqual(Gates.training({ ...rest, testAccuracy: 0.7 }, thresholds), passed)
    })

    it("fails loss above 0.8 and passes it at 0.8", () => {
      assert.deepStrictEqual(regressionTraining({ testLoss: 1.25 }), failed("loss_above_threshold (1.250 > 0.8)"))
      assert.deepStrictEqual(regressionTraining({ testLoss: 0.8 }), passed)
    })

    it("checks direction before loss", () => {
      assert.deepStrictEqual(
        regressionTraining({ directionalAccuracy: 0.3, testLoss: 3 }),
        failed("directional_accuracy_too_low (30.0% <= 50%)")
      )
    })

    it("does not check loss growth", () => {
      assert.deepStrictEqual(regressionTraining({ epochLosses: [0.1, 0.7] }), passed)
    })
  })

  describe("backtest (classification)", () => {
    it("passes a good backtest", () => {
      assert.deepStrictEqual(Gates.backtest(goodBacktest, thresholds), passed)
    })

    it("fails win rate below 10% and passes it at 10%", () => {
      assert.deepStrictEqual(backtest({ winRate: 0.05 }), failed("win_rate_below_threshold (5.0% < 10%)"))
      assert.deepStrictEqual(backtest({ winRate: 0.1 }), passed)
    })

    it("fails max drawdown above 40% and passes it at 40%", () => {
      assert.deepStrictEqual(backtest({ maxDrawdown: 0.55 }), failed("drawdown_above_threshold (55.0% > 40%)"))
      assert.deepStrictEqual(backtest({ maxDrawdown: 0.4 }), passed)
    })

    it("fails Sharpe below -0.5 and passes it at -0.5", () => {
      assert.deepStrictEqual(backtest({ sharpeRatio: -1 }), failed("sharpe_below_threshold (-1.00 < -0.5)"))
      assert.deepStrictEqual(backtest({ sharpeRatio: -0.5 }), passed)
      assert.deepStrictEqual(backtest({ sharpeRatio: -0.51 }), failed("sharpe_below_threshold (-0.51 < -0.5)"))
    })

    it("reports the first failure: win rate, then drawdown, then Sharpe", () => {
      assert.deepStrictEqual(
        backtest({ winRate: 0.02, maxDrawdown: 0.9, sharpeRatio: -3 }),
        failed("win_rate_below_threshold (2.0% < 10%)")
      )
      assert.deepStrictEqual(
        backtest({ maxDrawdown: 0.9, sharpeRatio: -3 }),
        failed("drawdown_above_threshold (90.0% > 40%)")
      )
    })

    it("ignores net return and trade count", () => {
      assert.deepStrictEqual(backtest({ netReturn: -0.3, tradeCount: 0 }), passed)
    })
  })

  describe("backtest (regression)", () => {
    it("passes a good backtest", () => {
      assert.deepStrictEqual(Gates.backtest(goodRegressionBacktest, thresholds), passed)
    })

    it("fails a negative net return and passes zero", () => {
      assert.deepStrictEqual(regressionBacktest({ netReturn: -0.02 }), failed("net_return_negative (-2.0% < 0%)"))
      assert.deepStrictEqual(regressionBacktest({ netReturn: 0 }), passed)
    })

    it("fails fewer than 5 trades and passes 5", () => {
      assert.deepStrictEqual(regressionBacktest({ tradeCount: 4 }), failed("too_few_trades (4 < 5)"))
      assert.deepStrictEqual(regressionBacktest({ tradeCount: 5 }), passed)
    })

    it("fails drawdown above 40% and passes it at 40%", () => {
      assert.deepStrictEqual(
        regressionBacktest({ maxDrawdown: 0.41 }),
        failed("drawdown_above_threshold (41.0% > 40%)")
      )
      assert.deepStrictEqual(regressionBacktest({ maxDrawdown: 0.4 }), passed)
    })

    it("reports the first failure: net return, then trades, then drawdown", () => {
      assert.deepStrictEqual(
        regressionBacktest({ netReturn: -0.1, tradeCount: 1, maxDrawdown: 0.8 }),
        failed("net_return_negative (-10.0% < 0%)")
      )
      assert.deepStrictEqual(
        regressionBacktest({ tradeCount: 1, maxDrawdown: 0.8 }),
        failed("too_few_trades (1 < 5)")
      )
    })

    it("ignores win rate and Sharpe", () => {
      assert.deepStrictEqual(regressionBacktest({ winRate: 0, sharpeRatio: -5 }), passed)
    })
  })

  describe("configurable thresholds", () => {
    it("uses a configured minimum accuracy and prints it", () => {
      const t = ForemanConfig.make({ gates: { trainingMinAccuracy: 0.555 } }).gates
      assert.deepStrictEqual(training({ testAccuracy: 0.5 }, t), failed("accuracy_below_threshold (50.0% < 55.5%)"))
      assert.deepStrictEqual(training({ testAccuracy: 0.6 }, t), passed)
    })

    it("uses a configured maximum loss", () => {
      const t = ForemanConfig.make({ gates: { trainingMaxLoss: 0.3 } }).gates
      assert.deepStrictEqual(training({ testLoss: 0.35 }, t), failed("loss_above_threshold (0.350 > 0.3)"))
      assert.deepStrictEqual(regressionTraining({ testLoss: 0.35 }, t), failed("loss_above_threshold (0.350 > 0.3)"))
      const loose = ForemanConfig.make({ gates: { trainingMaxLoss: 2 } }).gates
      assert.deepStrictEqual(training({ testLoss: 1.5, epochLosses: [0.5] }, loose), passed)
    })

    it("uses a configured maximum loss increase", () => {
      const t = ForemanConfig.make({ gates: { trainingMaxLossIncrease: 0.2 } }).gates
      assert.deepStrictEqual(
        training({ testLoss: 0.5, epochLosses: [0.5, 0.625] }, t),
        failed("loss_increased_too_much (25.0% > 20%)")
      )
      const loose = ForemanConfig.make({ gates: { trainingMaxLossIncrease: 1 } }).gates
      assert.deepStrictEqual(training({ testLoss: 0.5, epochLosses: [0.5, 0.76] }, loose), passed)
    })

    it("uses a configured directional accuracy", () => {
      const t = ForemanConfig.make({ gates: { regressionMinDirectionalAccuracy: 0.6 } }).gates
      assert.deepStrictEqual(
        regressionTraining({ directionalAccuracy: 0.58 }, t),
        failed("directional_accuracy_too_low (58.0% <= 60%)")
      )
    })

    it("uses configured backtest thresholds", () => {
      const t = ForemanConfig.make({
        gates: { backtestMinWinRate: 0.6, backtestMaxDrawdown: 0.1, backtestMinSharpe: 1.5, regressionMinTrades: 50 }
      }).gates
      assert.deepStrictEqual(backtest({}, t), failed("win_rate_below_threshold (55.0% < 60%)"))
      assert.deepStrictEqual(backtest({ winRate: 0.7 }, t), failed("drawdown_above_threshold (15.0% > 10%)"))
      assert.deepStrictEqual(
        backtest({ winRate: 0.7, maxDrawdown: 0.05 }, t),
        failed("sharpe_below_threshold (1.20 < 1.5)")
      )
      assert.deepStrictEqual(regressionBacktest({}, t), failed("too_few_trades (40 < 50)"))
      assert.deepStrictEqual(
        regressionBacktest({ tradeCount: 60 }, t),
        failed("drawdown_above_threshold (15.0% > 10%)")
      )
    })

    it("keeps the other defaults when overriding one threshold", () => {
      const t = ForemanConfig.make({ gates: { backtestMinSharpe: 0 } }).gates
      assert.strictEqual(t.backtestMaxDrawdown, 0.4)
      assert.strictEqual(t.trainingMinAccuracy, 0.1)
      assert.deepStrictEqual(backtest({ sharpeRatio: -0.2 }, t), failed("sharpe_below_threshold (-0.20 < 0)"))
    })
  })
})
