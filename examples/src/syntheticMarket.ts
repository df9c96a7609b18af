/**
 * The seeded model behind the synthetic market data in `examples/data/`. The
 * prices are NOT real: they are drawn from a regime-switching process with a
 * slowly drifting hidden trend, short-term autocorrelation and GARCH(1,1)
 * volatility clustering, so that indicators carry a learnable but weak
 * signal. `examples/scripts/generate-market-data.ts` writes the files; a test
 * regenerates them and compares byte for byte.
 *
 * Per business day t (Monday–Friday, no holidays), with σ̄ the instrument's daily
 * volatility and regime s ∈ {trending, choppy}:
 *   s_t   Markov chain: stays trending with p = 0.985, choppy with p = 0.975
 *   μ_t   = 0.97·μ_{t-1} + N(0, (0.03·σ̄)²)                      hidden drift (trends)
 *   d_t   = 0.92·d_{t-1} + N(0, (0.8·σ̄)²)                       deviation from fair value (mean reversion)
 *   σ²_t  = (0.8·σ̄)²(1-α-β) + α·ε²_{t-1} + β·σ²_{t-1}           GARCH(1,1), α = 0.06, β = 0.92
 *   ε_t   = σ_t·z_t,  z_t ~ N(0, 1)
 *   r_t   = drift + k_s·μ_t + φ_s·r_{t-1} + v_s·ε_t + d_t − d_{t-1}  log return of the close
 * with k = 1.0 / 0.3, φ = +0.06 / −0.08, v = 0.85 / 1.25 for trending / choppy.
 * Opens, highs, lows and volumes are drawn around the closes (see `generate`).
 */
import * as SeededRandom from "./seededRandom.js"

/** The parameters of one synthetic instrument. */
export interface InstrumentModel {
  readonly name: string
  readonly startPrice: number
  /** Annualised volatility of daily log returns. */
  readonly annualVolatility: number
  /** Annualised drift of daily log returns. */
  readonly annualDrift: number
  /** Decimals in the CSV. */
  readonly decimals: number
  /** Typical daily volume (tick volume for currencies, shares for the index). */
  readonly baseVolume: number
  /** Standard deviation of the opening gap, as a fraction of the daily volatility. */
  readonly gap: number
}

/** The instruments shipped in `examples/data/` (the memory designer names the same ones). */
export const instruments: ReadonlyArray<InstrumentModel> = [
  { name: "EURUSD", startPrice: 1.21, annualVolatility: 0.08, annualDrift: -0.01, decimals: 5, baseVolume: 180_000, gap: 0.1 },
  { name: "GBPUSD", startPrice: 1.56, annualVolatility: 0.09, annualDrift: -0.015, decimals: 5, baseVolume: 150_000, gap: 0.1 },
  { name: "USDJPY", startPrice: 119.5, annualVolatility: 0.09, annualDrift: 0.02, decimals: 3, baseVolume: 160_000, gap: 0.1 },
  { name: "SPX", startPrice: 2058.2, annualVolatility: 0.17, annualDrift: 0.07, decimals: 2, baseVolume: 3_500_000_000, gap: 0.35 }
]

/** The seed of the shipped files. */
export const DEFAULT_SEED = 20_150_101
/** First and last calendar day of the shipped series (business days in between). */
export const FIRST_DAY = "2015-01-01"
export const LAST_DAY = "2024-12-31"

/** One daily bar. */
export interface Bar {
  readonly date: string
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  readonly volume: number
}

const TRADING_DAYS = 252
const TREND_PERSISTENCE = 0.97
const TREND_NOISE = 0.02
const DEVIATION_PERSISTENCE = 0.9
const DEVIATION_NOISE = 1.0
const SHOCK_SCALE = 0.75
const GARCH_ALPHA = 0.06
const GARCH_BETA = 0.92
const REGIMES = {
  trending: { stay: 0.985, trendWeight: 1.0, autocorrelation: 0.06, volatility: 0.85 },
  choppy: { stay: 0.975, trendWeight: 0.3, autocorrelation: -0.08, volatility: 1.25 }
} as const

/** Monday–Friday dates from `first` to `last` inclusive, as `YYYY-MM-DD`. */
export const businessDays = (first: string, last: string): ReadonlyArray<string> => {
  const days: Array<string> = []
  const end = Date.parse(`${last}T00:00:00Z`)
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= end; t += 86_400_000) {
    const day = new Date(t)
    const weekday = day.getUTCDay()
    if (weekday !== 0 && weekday !== 6) days.push(day.toISOString().slice(0, 10))
  }
  return days
}

/** Draws the daily bars of one instrument; the same seed gives the same bars. */
export const generate = (model: InstrumentModel, seed: number, dates: ReadonlyArray<string>): ReadonlyArray<Bar> => {
  const random = SeededRandom.make(SeededRandom.hashSeed(`${seed}:${model.name}`))
  const dailyVol = model.annualVolatility / Math.sqrt(TRADING_DAYS)
  const drift = model.annualDrift / TRADING_DAYS
  const round = (x: number) => Number(x.toFixed(model.decimals))
  let regime: keyof typeof REGIMES = "trending"
  let trend = 0
  let deviation = 0
  const shockVol = SHOCK_SCALE * dailyVol
  let variance = shockVol * shockVol
  let shock = 0
  let previousReturn = 0
  let close = model.startPrice
  const bars: Array<Bar> = []
  for (const date of dates) {
    if (random.next() > REGIMES[regime].stay) regime = regime === "trending" ? "choppy" : "trending"
    const r = REGIMES[regime]
    trend = TREND_PERSISTENCE * trend + TREND_NOISE * dailyVol * random.normal()
    variance = shockVol * shockVol * (1 - GARCH_ALPHA - GARCH_BETA) + GARCH_ALPHA * shock * shock +
      GARCH_BETA * variance
    shock = Math.sqrt(variance) * random.normal()
    const previousDeviation = deviation
    deviation = DEVIATION_PERSISTENCE * deviation + DEVIATION_NOISE * dailyVol * random.normal()
    const logReturn = drift + r.trendWeight * trend + r.autocorrelation * previousReturn + r.volatility * shock +
      deviation - previousDeviation
    const open = close * Math.exp(model.gap * dailyVol * random.normal())
    close = close * Math.exp(logReturn)
    const sigma = Math.sqrt(variance) * r.volatility
    const high = Math.max(open, close) * Math.exp(Math.abs(random.normal()) * 0.5 * sigma)
    const low = Math.min(open, close) * Math.exp(-Math.abs(random.normal()) * 0.5 * sigma)
    const activity = 1 + 0.6 * Math.abs(logReturn) / dailyVol
    const volume = Math.round(model.baseVolume * activity * Math.exp(0.25 * random.normal()))
    bars.push({ date, open: round(open), high: round(high), low: round(low), close: round(close), volume })
    previousReturn = logReturn
  }
  return bars
}

/** The CSV text of one instrument, with a header saying the data is synthetic. */
export const toCsv = (model: InstrumentModel, seed: number, bars: ReadonlyArray<Bar>): string => {
  const header = [
    `# SYNTHETIC DATA - not real market prices. ${model.name} daily bars (business days, no holidays).`,
    `# Generated by examples/scripts/generate-market-data.ts with seed ${seed}: regime-switching log returns with a`,
    `# hidden AR(1) trend, autocorrelation and GARCH(1,1) volatility (see examples/src/syntheticMarket.ts).`,
    "date,open,high,low,close,volume"
  ]
  const f = (x: number) => x.toFixed(model.decimals)
  const rows = bars.map((b) => `${b.date},${f(b.open)},${f(b.high)},${f(b.low)},${f(b.close)},${b.volume}`)
  return [...header, ...rows].join("\n") + "\n"
}

/** The CSV text of every shipped instrument, by file name (`EURUSD.csv`, …). */
export const generateAll = (seed: number = DEFAULT_SEED): ReadonlyArray<{ readonly file: string; readonly csv: string }> => {
  const dates = businessDays(FIRST_DAY, LAST_DAY)
  return instruments.map((model) => ({ file: `${model.name}.csv`, csv: toCsv(model, seed, generate(model, seed, dates)) }))
}
