/**
 * A daily long/short backtest of a trained model over its held-out window.
 * At each close the model gives p = P(close in `labelHorizonDays` > today's
 * close); the position until the next close is long when p is above the
 * signal band, short when below it and flat inside it. The band is the middle
 * `flatShare` of the model's own predictions on its test window (which comes
 * before the held-out window), so a model whose outputs stay close to its
 * base rate still ranks days instead of never trading. Each change of position
 * pays commission and slippage per unit traded (a flip from long to short
 * trades two units), and an open position is closed at the end.
 *
 * A trade runs from entering a position to leaving it; it wins when its
 * return after costs is positive. `totalReturn` is before costs,
 * `netReturn`, the Sharpe ratio and the drawdown are after costs.
 */
import type { Domain } from "@foreman/core"
import type { Bar } from "./marketData.js"
import * as Model from "./model.js"
import type { Sample } from "./dataset.js"

/** Trading costs in basis points, and the width of the no-trade band. */
export interface BacktestSettings {
  /** Commission per side, in basis points of the traded notional. */
  readonly commissionBps: number
  /** Slippage per side, in basis points. */
  readonly slippageBps: number
  /** Share (0–1) of the test window's predictions inside the no-trade band. */
  readonly flatShare: number
}

export const defaultSettings: BacktestSettings = { commissionBps: 5, slippageBps: 2, flatShare: 0.3 }

/** Predictions above `long` go long, below `short` go short. */
export interface SignalBand {
  readonly short: number
  readonly long: number
}

/** The value below which a share `q` of the sorted values lies (linear interpolation). */
const quantile = (sorted: ReadonlyArray<number>, q: number): number => {
  const at = q * (sorted.length - 1)
  const below = Math.floor(at)
  const above = Math.min(sorted.length - 1, below + 1)
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (at - below)
}

/** The no-trade band: the middle `flatShare` of the model's predictions on the calibration samples (at least one). */
export const signalBand = (
  network: Model.Mlp,
  calibration: ReadonlyArray<Sample>,
  flatShare: number
): SignalBand => {
  const sorted = calibration.map((s) => Model.predict(network, s.features)).sort((a, b) => a - b)
  return { short: quantile(sorted, (1 - flatShare) / 2), long: quantile(sorted, (1 + flatShare) / 2) }
}

const TRADING_DAYS = 252
const EQUITY_SAMPLE_DAYS = 21

/** The metrics of one backtest. */
export interface BacktestReport {
  readonly kind: "classification"
  readonly sharpeRatio: number
  readonly winRate: number
  readonly totalReturn: number
  readonly netReturn: number
  readonly maxDrawdown: number
  readonly totalTrades: number
  readonly tradeCount: number
  readonly costsPaid: number
  readonly buyAndHoldReturn: number
  readonly exposure: { readonly longDays: number; readonly shortDays: number; readonly flatDays: number }
  readonly settings: BacktestSettings
  readonly band: SignalBand
  readonly window: { readonly from: string; readonly to: string; readonly days: number }
  readonly equity: { readonly final: number; readonly peak: number; readonly trough: number }
  /** Net equity and buy-and-hold (both start at 1) on the first day, every 21 trading days and at the end. */
  readonly equityCurve: ReadonlyArray<Domain.EquityPoint>
}

type Position = -1 | 0 | 1

/** Runs the model over consecutive held-out samples (at least two) of `bars`, trading outside `band`. */
export const run = (
  network: Model.Mlp,
  bars: ReadonlyArray<Bar>,
  samples: ReadonlyArray<Sample>,
  band: SignalBand,
  settings: BacktestSettings = defaultSettings
): BacktestReport => {
  const costPerUnit = (settings.commissionBps + settings.slippageBps) / 10_000
  const days = samples.length - 1
  const netReturns: Array<number> = []
  const start = bars[samples[0]!.index]!.close
  const point = (sample: Sample, strategy: number): Domain.EquityPoint => ({
    t: sample.date,
    strategy,
    buyAndHold: bars[sample.index]!.close / start
  })
  const curve: Array<Domain.EquityPoint> = [point(samples[0]!, 1)]
  let gross = 1
  let net = 1
  let peak = 1
  let trough = 1
  let maxDrawdown = 0
  let costsPaid = 0
  let position: Position = 0
  let trade = 1
  let trades = 0
  let wins = 0
  let longDays = 0
  let shortDays = 0
  const closeTrade = () => {
    trades++
    if (trade > 1) wins++
    trade = 1
  }
  for (let d = 0; d < days; d++) {
    const sample = samples[d]!
    const p = Model.predict(network, sample.features)
    const target: Position = p > band.long ? 1 : p < band.short ? -1 : 0
    // Exit at the last close: the position after it must be flat.
    const cost = Math.abs(target - position) * costPerUnit
    if (position !== 0 && target !== position) {
      trade *= 1 - costPerUnit
      closeTrade()
    }
    if (target !== 0 && target !== position) trade *= 1 - costPerUnit
    position = target
    const today = bars[sample.index]!.close
    const tomorrow = bars[samples[d + 1]!.index]!.close
    const move = position * (tomorrow / today - 1)
    const dailyNet = move - cost
    gross *= 1 + move
    net *= 1 + dailyNet
    trade *= 1 + move
    costsPaid += cost
    netReturns.push(dailyNet)
    if (position === 1) longDays++
    if (position === -1) shortDays++
    peak = Math.max(peak, net)
    trough = Math.min(trough, net)
    maxDrawdown = Math.max(maxDrawdown, 1 - net / peak)
    if ((d + 1) % EQUITY_SAMPLE_DAYS === 0) curve.push(point(samples[d + 1]!, net))
  }
  if (position !== 0) {
    const cost = costPerUnit
    net *= 1 - cost
    costsPaid += cost
    const last = netReturns.length - 1
    netReturns[last] = (1 + netReturns[last]!) * (1 - cost) - 1
    trade *= 1 - cost
    closeTrade()
    trough = Math.min(trough, net)
    maxDrawdown = Math.max(maxDrawdown, 1 - net / peak)
  }
  const last = samples[days]!
  if (curve[curve.length - 1]?.t === last.date) curve.pop()
  curve.push(point(last, net))
  const mean = netReturns.reduce((s, r) => s + r, 0) / netReturns.length
  const variance = netReturns.reduce((s, r) => s + (r - mean) ** 2, 0) / Math.max(1, netReturns.length - 1)
  const sd = Math.sqrt(variance)
  const first = samples[0]!
  return {
    kind: "classification",
    sharpeRatio: sd > 0 ? (mean / sd) * Math.sqrt(TRADING_DAYS) : 0,
    winRate: trades > 0 ? wins / trades : 0,
    totalReturn: gross - 1,
    netReturn: net - 1,
    maxDrawdown,
    totalTrades: trades,
    tradeCount: trades,
    costsPaid,
    buyAndHoldReturn: bars[last.index]!.close / bars[first.index]!.close - 1,
    exposure: { longDays, shortDays, flatDays: days - longDays - shortDays },
    settings,
    band,
    window: { from: first.date, to: last.date, days },
    equity: { final: net, peak, trough },
    equityCurve: curve
  }
}
