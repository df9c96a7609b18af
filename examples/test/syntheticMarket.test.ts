import { assert, describe, it } from "@effect/vitest"
import { OfflineAgents } from "@foreman/agents"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import * as MarketData from "../src/marketData.js"
import * as SyntheticMarket from "../src/syntheticMarket.js"

const committed = (file: string) => readFileSync(new URL(`../data/${file}`, import.meta.url), "utf8")
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")

describe("synthetic market data", () => {
  it("regenerating with the default seed reproduces the committed files byte for byte", () => {
    for (const { csv, file } of SyntheticMarket.generateAll()) {
      assert.strictEqual(sha256(csv), sha256(committed(file)), `${file} differs: run examples/scripts/generate-market-data.ts`)
    }
  })

  it("another seed gives other prices", () => {
    const [a] = SyntheticMarket.generateAll(1)
    const [b] = SyntheticMarket.generateAll(2)
    assert.notStrictEqual(a?.csv, b?.csv)
  })

  it("says it is synthetic", () => {
    for (const instrument of MarketData.instrumentNames) {
      assert.match(committed(`${instrument}.csv`).split("\n")[0]!, /^# SYNTHETIC DATA - not real market prices/)
    }
  })

  it("ships data for every instrument the memory designer picks", () => {
    assert.deepStrictEqual([...OfflineAgents.INSTRUMENTS].sort(), [...MarketData.instrumentNames].sort())
  })

  it.effect("loads about ten years of consistent business-day bars per instrument", () =>
    Effect.gen(function*() {
      for (const instrument of MarketData.instrumentNames) {
        const bars = yield* MarketData.load(instrument)
        assert.isTrue(bars.length > 2500, `${instrument}: ${bars.length} bars`)
        bars.forEach((bar, i) => {
          const weekday = new Date(`${bar.date}T00:00:00Z`).getUTCDay()
          assert.isTrue(weekday >= 1 && weekday <= 5, `${instrument} ${bar.date} is a weekend`)
          if (i > 0) assert.isTrue(bar.date > bars[i - 1]!.date)
          assert.isTrue(bar.low > 0 && bar.volume > 0)
          assert.isTrue(bar.low <= Math.min(bar.open, bar.close) && bar.high >= Math.max(bar.open, bar.close))
        })
        const returns = bars.slice(1).map((b, i) => Math.log(b.close / bars[i]!.close))
        const mean = returns.reduce((s, r) => s + r, 0) / returns.length
        const vol = Math.sqrt(returns.reduce((s, r) => s + (r - mean) ** 2, 0) / returns.length * 252)
        assert.isTrue(vol > 0.05 && vol < 0.4, `${instrument}: annualised volatility ${vol}`)
      }
    }))

  it.effect("refuses an unknown instrument and a malformed file with messages", () =>
    Effect.gen(function*() {
      const unknown = yield* Effect.flip(MarketData.load("BTCUSD"))
      assert.include(unknown, "unknown instrument \"BTCUSD\"")
      assert.include(unknown, "EURUSD")
      const malformed = yield* Effect.flip(MarketData.parseCsv("date,open,high,low,close,volume\n2020-01-01,1,2,x,1,5\n", "t.csv"))
      assert.strictEqual(malformed, "t.csv: line 2 is not \"date,open,high,low,close,volume\"")
    }))
})
