/**
 * The quality gates between phases: pure checks of training and backtest
 * results against configurable thresholds. The first failing check wins and
 * names itself, e.g. `accuracy_below_threshold (5.0% < 10%)`.
 */
import type { BacktestResult, GateOutcome, TrainingResult } from "./Domain.js"
import type { GateThresholds } from "./ForemanConfig.js"

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`
const pctShort = (x: number): string => `${Number((x * 100).toFixed(1))}%`

const pass: GateOutcome = { passed: true, reason: null, bypassed: false }
const fail = (reason: string): GateOutcome => ({ passed: false, reason, bypassed: false })

/** The outcome recorded when a trigger asked to bypass gates. */
export const bypassed: GateOutcome = { passed: true, reason: null, bypassed: true }

/** Training gate: accuracy, loss, and loss growth over epochs (classification); direction and loss (regression). */
export const training = (result: TrainingResult, t: GateThresholds): GateOutcome => {
  if (result.kind === "regression") {
    const direction = result.directionalAccuracy ?? result.testAccuracy
    if (direction <= t.regressionMinDirectionalAccuracy) {
      return fail(`directional_accuracy_too_low (${pct(direction)} <= ${pctShort(t.regressionMinDirectionalAccuracy)})`)
    }
    if (result.testLoss > t.trainingMaxLoss) {
      return fail(`loss_above_threshold (${result.testLoss.toFixed(3)} > ${t.trainingMaxLoss})`)
    }
    return pass
  }
  if (result.testAccuracy < t.trainingMinAccuracy) {
    return fail(`accuracy_below_threshold (${pct(result.testAccuracy)} < ${pctShort(t.trainingMinAccuracy)})`)
  }
  if (result.testLoss > t.trainingMaxLoss) {
    return fail(`loss_above_threshold (${result.testLoss.toFixed(3)} > ${t.trainingMaxLoss})`)
  }
  const losses = result.epochLosses ?? []
  const first = losses[0]
  const last = losses[losses.length - 1]
  // A model trained without epochs (a random forest) has no loss trend to check: the reason says so.
  if (first === undefined || last === undefined) return { ...pass, reason: "loss_trend_not_checked (no epoch losses reported)" }
  if (first > 0) {
    const growth = (last - first) / first
    if (growth > t.trainingMaxLossIncrease) {
      return fail(`loss_increased_too_much (${pct(growth)} > ${pctShort(t.trainingMaxLossIncrease)})`)
    }
  }
  return pass
}

/** Backtest gate: win rate, drawdown, Sharpe (classification); net return, trades, drawdown (regression). */
export const backtest = (result: BacktestResult, t: GateThresholds): GateOutcome => {
  if (result.kind === "regression") {
    if (result.netReturn < 0) return fail(`net_return_negative (${pct(result.netReturn)} < 0%)`)
    if (result.tradeCount < t.regressionMinTrades) {
      return fail(`too_few_trades (${result.tradeCount} < ${t.regressionMinTrades})`)
    }
    if (result.maxDrawdown > t.backtestMaxDrawdown) {
      return fail(`drawdown_above_threshold (${pct(result.maxDrawdown)} > ${pctShort(t.backtestMaxDrawdown)})`)
    }
    return pass
  }
  if (result.winRate < t.backtestMinWinRate) {
    return fail(`win_rate_below_threshold (${pct(result.winRate)} < ${pctShort(t.backtestMinWinRate)})`)
  }
  if (result.maxDrawdown > t.backtestMaxDrawdown) {
    return fail(`drawdown_above_threshold (${pct(result.maxDrawdown)} > ${pctShort(t.backtestMaxDrawdown)})`)
  }
  if (result.sharpeRatio < t.backtestMinSharpe) {
    return fail(`sharpe_below_threshold (${result.sharpeRatio.toFixed(2)} < ${t.backtestMinSharpe})`)
  }
  return pass
}
