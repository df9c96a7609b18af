/**
 * The strategy catalogue through the coordinator, in memory: every design is
 * stored under a unique name, a trigger naming one trains that design without
 * designing again, and an unknown name is refused with the nearest names.
 */
import { assert, describe, it } from "@effect/vitest"
import { OfflineAgents } from "@foreman/agents"
import { Agents, type Domain, Engine, ForemanConfig } from "@foreman/core"
import { Effect, Layer } from "effect"
import { Memory, MemoryWorkers } from "../src/index.js"
import { advance, fresh, goodBacktest, goodTraining, jobsOf, phaseOf, show, startLab, takes } from "../src/TestEngine.js"

/** A lab whose designer always designs `fixed`, so every design wants the same name. */
const fixed: Domain.Strategy = { name: "rsi_variant_29", spec: { indicators: [{ name: "rsi", period: 14 }] } }
const sameNameLab = Engine.layer({
  storage: Memory.storage,
  agents: Layer.mergeAll(
    Layer.succeed(Agents.Designer, Agents.Designer.of({
      design: () => Effect.succeed({ result: fixed, calls: [] })
    })),
    Layer.succeed(Agents.Assessor, OfflineAgents.assessor())
  ),
  transport: MemoryWorkers.layer({ handlers: { training: takes(100, goodTraining), backtest: takes(50, goodBacktest) } }),
  config: ForemanConfig.layerWith({})
})

describe("Strategy catalogue", () => {
  it.scoped("a design is stored; triggering its name trains the same spec with no design job", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab()
      const designer = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      yield* advance(1)
      const designed = (yield* show(designer.id)).research.strategy!
      assert.isAbove(Object.keys(designed.spec).length, 0)
      yield* advance(150)
      assert.strictEqual(yield* phaseOf(designer.id), "completed:assessing")

      const [stored] = yield* coordinator.strategies()
      assert.deepStrictEqual(stored, {
        name: designed.name,
        strategy: designed,
        researchId: designer.id,
        createdAt: stored!.createdAt,
        researches: 1,
        best: { sharpeRatio: goodBacktest.sharpeRatio, totalReturn: goodBacktest.totalReturn, testAccuracy: goodTraining.testAccuracy },
        top: stored!.top,
        indicators: stored!.indicators,
        instrument: stored!.instrument,
        costUsd: stored!.costUsd
      })
      assert.strictEqual(stored!.top!.researchId, designer.id)
      assert.strictEqual(stored!.top!.sharpeRatio, goodBacktest.sharpeRatio)
      assert.strictEqual(stored!.top!.totalTrades, goodBacktest.totalTrades)

      const reuse = yield* coordinator.trigger({ strategy: designed.name })
      assert.deepStrictEqual(reuse.strategy, designed)
      yield* advance(1)
      assert.strictEqual(yield* phaseOf(reuse.id), "running:training")
      assert.deepStrictEqual(yield* jobsOf(reuse.id), ["training:running"])
      const training = (yield* show(reuse.id)).jobs[0]!
      assert.deepStrictEqual((training.input as { strategy: unknown }).strategy, designed)
      // Reusing it does not store it again; the catalogue counts the research that used it.
      assert.strictEqual((yield* coordinator.strategies()).length, 1)
      assert.strictEqual((yield* coordinator.strategy(designed.name)).researches, 2)
    })))

  it.scoped("an unknown name is refused at trigger time with the closest names", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab()
      const error = yield* Effect.flip(coordinator.trigger({ strategy: "rsi_variant_1" }))
      assert.strictEqual(error._tag, "StrategyNotFound")
      assert.strictEqual(error.message, "Unknown strategy: rsi_variant_1")
      assert.strictEqual((yield* coordinator.status()).active.length, 0)

      yield* coordinator.trigger({ brief: "Explore RSI variations" })
      yield* coordinator.trigger({ brief: "Test MACD strategies" })
      yield* advance(1)
      const names = (yield* coordinator.strategies()).map((s) => s.name)
      assert.strictEqual(names.length, 2)
      const near = `${names[0]}x`
      const refused = yield* Effect.flip(coordinator.trigger({ strategy: near }))
      assert.strictEqual(refused._tag, "StrategyNotFound")
      assert.isTrue(refused.message.startsWith(`Unknown strategy: ${near} (closest: ${names[0]}`))
      const lookup = yield* Effect.flip(coordinator.strategy(near))
      assert.strictEqual(lookup.message, refused.message)
    })))

  it.scoped("a second design of a name is stored with a suffix, and each research carries its own", () =>
    Effect.provide(
      Effect.gen(function*() {
        const coordinator = yield* startLab({ training: 3 })
        const first = yield* coordinator.trigger({ brief: "one" })
        yield* advance(1)
        // Two designs of the same name recorded in one tick.
        const second = yield* coordinator.trigger({ brief: "two" })
        const third = yield* coordinator.trigger({ brief: "three" })
        yield* advance(1)
        const names = yield* Effect.forEach([first, second, third], (r) =>
          Effect.map(show(r.id), (d) => d.research.strategy?.name))
        assert.deepStrictEqual(names, ["rsi_variant_29", "rsi_variant_29_2", "rsi_variant_29_3"])
        const catalogue = yield* coordinator.strategies()
        assert.deepStrictEqual(
          catalogue.map((s) => [s.name, s.researchId]).sort(),
          [["rsi_variant_29", first.id], ["rsi_variant_29_2", second.id], ["rsi_variant_29_3", third.id]]
        )
        for (const s of catalogue) assert.deepStrictEqual(s.strategy.spec, fixed.spec)
        const reuse = yield* coordinator.trigger({ strategy: "rsi_variant_29_2" })
        assert.strictEqual(reuse.strategy?.name, "rsi_variant_29_2")
        // The design result keeps what the designer answered.
        assert.deepStrictEqual((yield* show(second.id)).research.results["design"], fixed)
      }),
      Layer.fresh(sameNameLab)
    ))
})
