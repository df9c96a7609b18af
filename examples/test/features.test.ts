import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { RSI, SMA } from "trading-signals"
import * as Dataset from "../src/dataset.js"
import * as Features from "../src/features.js"
import * as MarketData from "../src/marketData.js"
import type { Bar } from "../src/marketData.js"
import { decodeIndicators, type Indicator } from "../src/strategySpec.js"

const every: ReadonlyArray<Indicator> = Effect.runSync(decodeIndicators([
  { name: "rsi", period: 14 },
  { name: "macd" },
  { name: "sma", period: 20 },
  { name: "ema", period: 10 },
  { name: "bollinger", period: 20, stddev: 2 },
  { name: "atr", period: 14 },
  { name: "stochastic" },
  { name: "momentum", period: 10 }
]))

const column = (matrix: Features.FeatureMatrix, name: string) => {
  const k = matrix.names.indexOf(name)
  assert.isTrue(k >= 0, `no feature ${name} in ${matrix.names.join(", ")}`)
  return matrix.rows.flatMap((row) => (row === null ? [] : [row[k]!]))
}

describe("features", () => {
  it.effect("compute every indicator with sane, finite, scale-free values", () =>
    Effect.gen(function*() {
      for (const instrument of ["EURUSD", "SPX"]) {
        const bars = yield* MarketData.load(instrument)
        const matrix = Features.compute(bars, every)
        assert.strictEqual(matrix.names.length, 12)
        const ready = matrix.rows.filter((r) => r !== null)
        assert.isTrue(ready.length > bars.length - 60, `${ready.length} of ${bars.length} rows ready`)
        assert.isTrue(ready.every((r) => r.length === 12 && r.every(Number.isFinite)))
        // Once warm, rows stay defined.
        const firstReady = matrix.rows.findIndex((r) => r !== null)
        assert.isTrue(matrix.rows.slice(firstReady).every((r) => r !== null))
        const rsi = column(matrix, "rsi14").map((x) => (x + 0.5) * 100)
        assert.isTrue(rsi.every((x) => x >= 0 && x <= 100))
        assert.isTrue(Math.min(...rsi) < 35 && Math.max(...rsi) > 65, "RSI visits both sides")
        const k = column(matrix, "stochastic14_3_3_k").map((x) => (x + 0.5) * 100)
        assert.isTrue(k.every((x) => x >= 0 && x <= 100))
        assert.isTrue(column(matrix, "atr14_over_close").every((x) => x > 0 && x < 0.1))
        assert.isTrue(column(matrix, "close_over_sma20").every((x) => Math.abs(x) < 0.3))
        assert.isTrue(column(matrix, "bollinger20_2_bandwidth").every((x) => x > 0 && x < 0.5))
        const percentB = column(matrix, "bollinger20_2_percent_b")
        const inside = percentB.filter((x) => x >= -0.5 && x <= 0.5).length / percentB.length
        assert.isTrue(inside > 0.8 && inside < 1, `${inside} of closes inside the 2σ bands`)
      }
    }))

  it.effect("match the library's own values, lined up with the bars", () =>
    Effect.gen(function*() {
      const bars = yield* MarketData.load("GBPUSD")
      const matrix = Features.compute(bars, every)
      const rsi = new RSI(14)
      const sma = new SMA(20)
      bars.forEach((bar, t) => {
        const r = rsi.add(bar.close)
        const s = sma.add(bar.close)
        const row = matrix.rows[t]
        if (row === null || row === undefined) return
        assert.closeTo(row[matrix.names.indexOf("rsi14")]!, r! / 100 - 0.5, 1e-12)
        assert.closeTo(row[matrix.names.indexOf("close_over_sma20")]!, bar.close / s! - 1, 1e-12)
        assert.closeTo(row[0]!, Math.log(bar.close / bars[t - 1]!.close), 1e-12)
      })
    }))

  it("label a day 1 when the close `horizon` days later is higher", () => {
    const bars: ReadonlyArray<Bar> = [1, 2, 1.5, 3, 2.5].map((close, i) => ({
      date: `2020-01-0${i + 1}`,
      open: close,
      high: close,
      low: close,
      close,
      volume: 1
    }))
    assert.deepStrictEqual(Features.labels(bars, 1), [1, 0, 1, 0, null])
    assert.deepStrictEqual(Features.labels(bars, 2), [1, 1, 1, null, null])
  })

  it.effect("split chronologically with a gap of the label horizon between windows", () =>
    Effect.gen(function*() {
      const bars = yield* MarketData.load("USDJPY")
      const split = Dataset.split(bars, { indicators: every, labelHorizonDays: 5 })
      const last = <A>(xs: ReadonlyArray<A>) => xs[xs.length - 1]!
      assert.isTrue(last(split.train).index + 5 < split.test[0]!.index)
      assert.isTrue(last(split.test).index + 5 < split.holdout[0]!.index)
      const total = split.train.length + split.test.length + split.holdout.length
      assert.closeTo(split.train.length / total, 0.6, 0.01)
      assert.closeTo(split.test.length / total, 0.2, 0.01)
    }))
})
