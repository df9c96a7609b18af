/**
 * A daily long/short backtest of a trained model over its held-out window.
 * At each close the model gives p = P(close in `labelHorizonDays` > today's
 * close); the position until the next close is long when p > 0.5 + margin,
 * short when p < 0.5 − margin and flat in between. Each change of position
 * pays commission and slippage per unit traded (a flip from long to short
 * trades two units), and an open position is closed at the end.
 *
 * A trade runs from entering a position to leaving it; it wins when its
 * return after costs is positive. `totalReturn` is before costs,
 * `netReturn`, the Sharpe ratio and the drawdown are after costs.
 */
import type { Bar } from "./marketData.js"
import * as Model from "./model.js"
import type { Sample } from "./dataset.js"

/** Trading costs and the no-trade band, in basis points and probability. */
export interface BacktestSettings {
  /** Commission per side, in basis points of the traded notional. */
  readonly commissionBps: number
  /** Slippage per side, in basis points. */
  readonly slippageBps: number
  /** Half-width of the flat band around p = 0.5. */
  readonly margin: number
}

export const defaultSettings: BacktestSettings = { commissionBps: 5, slippageBps: 2, margin: 0.02 }

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
  readonly window: { readonly from: string; readonly to: string; readonly days: number }
  readonly equity: {
    readonly final: number
    readonly peak: number
    readonly trough: number
    /** Net equity (start 1) every 21 trading days and at the end. */
    readonly curve: ReadonlyArray<{ readonly date: string; readonly equity: number }>
  }
}

type Position = -1 | 0 | 1

/** Runs the model over consecutive held-out samples (at least two) of `bars`. */
export const run = (
  network: Model.Mlp,
  bars: ReadonlyArray<Bar>,
  samples: ReadonlyArray<Sample>,
  settings: BacktestSettings = defaultSettings
): BacktestReport => {
  const costPerUnit = (settings.commissionBps + settings.slippageBps) / 10_000
  const days = samples.length - 1
  const netReturns: Array<number> = []
  const curve: Array<{ date: string; equity: number }> = []
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
    const target: Position = p > 0.5 + settings.margin ? 1 : p < 0.5 - settings.margin ? -1 : 0
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
    if ((d + 1) % EQUITY_SAMPLE_DAYS === 0) curve.push({ date: samples[d + 1]!.date, equity: net })
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
  if (curve[curve.length - 1]?.date !== last.date) curve.push({ date: last.date, equity: net })
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
    window: { from: first.date, to: last.date, days },
    equity: { final: net, peak, trough, curve }
  }
}
