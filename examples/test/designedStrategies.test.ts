import { assert, describe, it } from "@effect/vitest"
import { OfflineAgents } from "@foreman/agents"
import { Domain, ForemanConfig, Gates } from "@foreman/core"
import { Effect, Random, Schema } from "effect"
import { backtest } from "../src/backtestWorker.js"
import { decodeStrategy } from "../src/strategySpec.js"
import { train } from "../src/trainingWorker.js"
import { noProgress, quick } from "./helpers.js"

const designer = OfflineAgents.designer()
const design = (brief: string, seed: number) =>
  designer.design({ researchId: Domain.ResearchId.make("op_design"), brief, model: null, workers: [], recent: [] }).pipe(
    Effect.map((out) => out.result),
    Effect.withRandom(Random.make(seed))
  )

describe("strategies from the memory designer", () => {
  it.effect("are all understood by the example workers", () =>
    Effect.gen(function*() {
      const briefs = [
        "Explore RSI variations",
        "Test MACD strategies",
        "Bollinger band breakouts",
        "Stochastic momentum",
        "anything",
        "EMA on SPX"
      ]
      for (let seed = 0; seed < 40; seed++) {
        const strategy = yield* design(briefs[seed % briefs.length]!, seed)
        const decoded = yield* decodeStrategy({ strategy })
        assert.strictEqual(decoded.spec.timeframe, "1d")
      }
    }))

  it.effect("train and backtest end to end", () =>
    Effect.gen(function*() {
      const strategy = yield* design("Stochastic momentum on GBP/USD", 7)
      assert.strictEqual(strategy.spec["instrument"], "GBPUSD")
      const training = yield* train({ brief: "x", strategy }, noProgress, quick)
      const trainingGate = Gates.training(yield* Schema.decodeUnknown(Domain.TrainingResult)(training), ForemanConfig.defaultGates)
      assert.isTrue(trainingGate.passed, trainingGate.reason ?? "")
      const result = yield* backtest({ strategy, training })
      assert.isTrue(result.tradeCount > 0)
    }))
})
