import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { advance, fresh, phaseOf, startLab } from "./lab.js"

describe("Coordinator", () => {
  it.scoped("runs a research through every phase", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab()
      const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      yield* advance(1)
      assert.strictEqual(yield* phaseOf(research.id), "running:training")
      yield* advance(100)
      assert.strictEqual(yield* phaseOf(research.id), "running:backtesting")
      yield* advance(50)
      assert.strictEqual(yield* phaseOf(research.id), "completed:assessing")
      const shown = yield* coordinator.show(research.id)
      assert.deepStrictEqual(shown.jobs.map((j) => j.kind), ["design", "training", "backtest", "assessment"])
      assert.isTrue(shown.research.gates["training"]?.passed)
      assert.isTrue(shown.research.costUsd > 0)
    })))
})
