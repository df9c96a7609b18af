/**
 * Turns daily bars into a feature matrix and labels. Indicators come from the
 * `trading-signals` library; each becomes one or two scale-free features
 * (RSI/100 − 0.5, close/SMA − 1, MACD histogram/close, Bollinger %b, …) so
 * that instruments priced at 0.8 and at 2000 look alike. Every feature set
 * also starts with the last day's log return. The label of day t is 1 when
 * the close `labelHorizonDays` later is above the close of day t.
 */
import {
  ATR,
  BollingerBands,
  EMA,
  MACD,
  MOM,
  RSI,
  SMA,
  StochasticOscillator
} from "trading-signals"
import type { Bar } from "./marketData.js"
import type { Indicator } from "./strategySpec.js"

/** One indicator run over a series: feature names and a step per bar (null while warming up). */
interface FeatureExtractor {
  readonly names: ReadonlyArray<string>
  readonly step: (bar: Bar) => ReadonlyArray<number> | null
}

const ratio = (numerator: number, denominator: number): number => denominator === 0 ? 0 : numerator / denominator

const extractor = (indicator: Indicator): FeatureExtractor => {
  switch (indicator.name) {
    case "rsi": {
      const rsi = new RSI(indicator.period)
      return {
        names: [`rsi${indicator.period}`],
        step: (bar) => {
          const value = rsi.add(bar.close)
          return value === null || !rsi.isStable ? null : [value / 100 - 0.5]
        }
      }
    }
    case "sma":
    case "ema": {
      const average = indicator.name === "sma" ? new SMA(indicator.period) : new EMA(indicator.period)
      return {
        names: [`close_over_${indicator.name}${indicator.period}`],
        step: (bar) => {
          const value = average.add(bar.close)
          return value === null || !average.isStable ? null : [ratio(bar.close, value) - 1]
        }
      }
    }
    case "macd": {
      const macd = new MACD(new EMA(indicator.fast), new EMA(indicator.slow), new EMA(indicator.signal))
      const id = `macd${indicator.fast}_${indicator.slow}_${indicator.signal}`
      return {
        names: [`${id}_line`, `${id}_histogram`],
        step: (bar) => {
          const value = macd.add(bar.close)
          return value === null || !macd.isStable
            ? null
            : [ratio(value.macd, bar.close), ratio(value.histogram, bar.close)]
        }
      }
    }
    case "bollinger": {
      const bands = new BollingerBands(indicator.period, indicator.stddev)
      const id = `bollinger${indicator.period}_${indicator.stddev}`
      return {
        names: [`${id}_percent_b`, `${id}_bandwidth`],
        step: (bar) => {
          const value = bands.add(bar.close)
          if (value === null || !bands.isStable) return null
          const width = value.upper - value.lower
          return [width === 0 ? 0 : (bar.close - value.lower) / width - 0.5, ratio(width, value.middle)]
        }
      }
    }
    case "atr": {
      const atr = new ATR(indicator.period)
      return {
        names: [`atr${indicator.period}_over_close`],
        step: (bar) => {
          const value = atr.add(bar)
          return value === null || !atr.isStable ? null : [ratio(value, bar.close)]
        }
      }
    }
    case "stochastic": {
      const stochastic = new StochasticOscillator({
        kPeriod: indicator.period,
        kSlowingPeriod: indicator.smoothing,
        dPeriod: indicator.signal
      })
      const id = `stochastic${indicator.period}_${indicator.smoothing}_${indicator.signal}`
      return {
        names: [`${id}_k`, `${id}_k_minus_d`],
        step: (bar) => {
          const value = stochastic.add(bar)
          return value === null || !stochastic.isStable
            ? null
            : [value.stochK / 100 - 0.5, (value.stochK - value.stochD) / 100]
        }
      }
    }
    case "momentum": {
      const momentum = new MOM(indicator.period)
      return {
        names: [`momentum${indicator.period}_over_close`],
        step: (bar) => {
          const value = momentum.add(bar.close)
          return value === null || !momentum.isStable ? null : [ratio(value, bar.close)]
        }
      }
    }
  }
}

/** Features of every bar (null while an indicator warms up), aligned with the bars. */
export interface FeatureMatrix {
  readonly names: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<number> | null>
}

/** Runs the indicators over the bars, oldest first. */
export const compute = (bars: ReadonlyArray<Bar>, indicators: ReadonlyArray<Indicator>): FeatureMatrix => {
  const extractors = indicators.map(extractor)
  const names = ["log_return_1d", ...extractors.flatMap((e) => e.names)]
  const rows = bars.map((bar, t) => {
    // Every indicator sees every bar, even when another one is still warming up.
    const parts = extractors.map((e) => e.step(bar))
    const previous = bars[t - 1]
    if (previous === undefined || parts.some((p) => p === null)) return null
    const row = [Math.log(bar.close / previous.close), ...parts.flatMap((p) => p ?? [])]
    return row.every(Number.isFinite) ? row : null
  })
  return { names, rows }
}

/** 1 when the close `horizon` bars later is above today's close, 0 when not, null near the end. */
export const labels = (bars: ReadonlyArray<Bar>, horizon: number): ReadonlyArray<0 | 1 | null> =>
  bars.map((bar, t) => {
    const later = bars[t + horizon]
    return later === undefined ? null : later.close > bar.close ? 1 : 0
  })
