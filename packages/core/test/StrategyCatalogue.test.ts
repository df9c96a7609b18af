import { assert, describe, it } from "@effect/vitest"
import { StrategyCatalogue } from "../src/index.js"

describe("StrategyCatalogue", () => {
  it("names a design after the catalogue: itself when free, else the first free suffix", () => {
    assert.strictEqual(StrategyCatalogue.uniqueName("rsi_variant_29", new Set(["rsi_variant_2"])), "rsi_variant_29")
    assert.strictEqual(
      StrategyCatalogue.uniqueName("rsi_variant_29", new Set(["rsi_variant_29", "rsi_variant_29_2"])),
      "rsi_variant_29_3"
    )
    const long = "x".repeat(200)
    const named = StrategyCatalogue.uniqueName(long, new Set([long]))
    assert.strictEqual(named, `${"x".repeat(198)}_2`)
  })

  it("suggests up to three names nearest by edit distance", () => {
    const names = ["rsi_variant_29", "macd_variant_3", "rsi_variant_2", "rsi_variant_291", "sma_variant_1"]
    assert.deepStrictEqual(StrategyCatalogue.closest("rsi_variant_9", names), [
      "rsi_variant_2",
      "rsi_variant_29",
      "rsi_variant_291"
    ])
    assert.deepStrictEqual(StrategyCatalogue.closest("anything", []), [])
  })
})
