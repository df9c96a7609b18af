import { assert, describe, it } from "@effect/vitest"
import { Domain } from "@foreman/core"
import { Effect, Random } from "effect"
import { OfflineAgents } from "../src/index.js"

const designer = OfflineAgents.designer()
const design = (brief: string, seed: number) =>
  designer.design({ researchId: Domain.ResearchId.make("op_design"), brief, model: "test-model", workers: [], recent: [] }).pipe(
    Effect.withRandom(Random.make(seed))
  )

describe("OfflineAgents.designer", () => {
  it.effect("is deterministic for a seed and reports its usage", () =>
    Effect.gen(function*() {
      const first = yield* design("Explore RSI variations", 3)
      assert.deepStrictEqual(yield* design("Explore RSI variations", 3), first)
      assert.strictEqual(first.calls.length, 1)
      assert.isTrue(first.calls[0]!.costUsd > 0 && first.calls[0]!.inputTokens >= 1500)
    }))

  it.effect("records its calls under its own name, simulated, not under the model a trigger asks for", () =>
    Effect.gen(function*() {
      const designed = yield* design("Explore RSI variations", 3)
      assert.deepInclude(designed.calls[0], { model: OfflineAgents.name, simulated: true })
      assert.strictEqual(OfflineAgents.name, "offline")
      const assessed = yield* OfflineAgents.assessor().assess({
        researchId: Domain.ResearchId.make("op_design"),
        brief: "Explore RSI variations",
        model: "claude-opus-4-5",
        strategy: designed.result,
        results: {},
        gates: {}
      })
      assert.deepInclude(assessed.calls[0], { model: "offline", simulated: true })
    }))

  it.effect("uses the indicators and instrument the brief names, with their parameters", () =>
    Effect.gen(function*() {
      const { result } = yield* design("MACD and Bollinger band breakouts on the S&P 500", 11)
      const spec = result.spec as {
        indicators: ReadonlyArray<Record<string, unknown>>
        instrument: string
        timeframe: string
        labelHorizonDays: number
      }
      assert.isTrue(result.name.startsWith("macd_"))
      assert.deepStrictEqual(spec.indicators.map((i) => i["name"]), ["macd", "bollinger"])
      const [macd, bollinger] = spec.indicators
      assert.isTrue((macd?.["fast"] as number) < (macd?.["slow"] as number))
      assert.isNumber(macd?.["signal"])
      assert.include([1.5, 2, 2.5], bollinger?.["stddev"])
      assert.strictEqual(spec.instrument, "SPX")
      assert.strictEqual(spec.timeframe, "1d")
      assert.isTrue(spec.labelHorizonDays >= 1 && spec.labelHorizonDays <= 5)
    }))

  it.effect("picks indicators and instruments from its lists when the brief names none", () =>
    Effect.gen(function*() {
      const instruments = new Set<string>()
      for (let seed = 0; seed < 30; seed++) {
        const { result } = yield* design("find something that works", seed)
        const spec = result.spec as { indicators: ReadonlyArray<{ name: string }>; instrument: string }
        assert.isTrue(spec.indicators.length >= 1 && spec.indicators.length <= 3)
        assert.isTrue(spec.indicators.every((i) => (OfflineAgents.INDICATORS as ReadonlyArray<string>).includes(i.name)))
        assert.strictEqual(new Set(spec.indicators.map((i) => i.name)).size, spec.indicators.length)
        instruments.add(spec.instrument)
      }
      assert.deepStrictEqual([...instruments].sort(), [...OfflineAgents.INSTRUMENTS].sort())
    }))
})
