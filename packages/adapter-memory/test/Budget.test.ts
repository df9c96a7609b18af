import { assert, describe, it } from "@effect/vitest"
import { Budget, BudgetLedger, type Domain } from "@foreman/core"
import { Effect, TestClock } from "effect"
import { fresh } from "../src/TestEngine.js"

const charge = (jobId: string, amountUsd: number) =>
  Effect.gen(function*() {
    const ledger = yield* BudgetLedger.BudgetLedger
    yield* ledger.record({
      researchId: "op_1" as Domain.ResearchId,
      jobId: jobId as Domain.JobId,
      model: "m",
      inputTokens: 1000,
      outputTokens: 100,
      amountUsd,
      at: yield* TestClock.currentTimeMillis
    })
  })

describe("Budget", () => {
  it.scoped("charges today's window, once per job, and renews at UTC midnight", () =>
    fresh(Effect.gen(function*() {
      const budget = yield* Budget.Budget
      yield* TestClock.setTime(Date.UTC(2026, 10, 22, 23, 0))
      yield* charge("job_a", 1.5)
      yield* charge("job_a", 1.5)
      yield* charge("job_b", 0.08)
      const today = yield* budget.status()
      assert.deepStrictEqual(today, {
        day: "2026-11-22",
        unlimited: false,
        limitUsd: 5,
        spentUsd: 1.58,
        remainingUsd: 3.42,
        estimateUsd: 0.15,
        cyclesAffordable: 22,
        canAfford: true
      })
      yield* TestClock.setTime(Date.UTC(2026, 10, 23, 0, 0))
      const tomorrow = yield* budget.status()
      assert.strictEqual(tomorrow.day, "2026-11-23")
      assert.strictEqual(tomorrow.spentUsd, 0)
      assert.strictEqual(tomorrow.remainingUsd, 5)
    })))

  it.scoped("cannot afford a cycle when less than the estimate remains", () =>
    fresh(
      Effect.gen(function*() {
        yield* charge("job_a", 0.08)
        const status = yield* (yield* Budget.Budget).status()
        assert.strictEqual(status.remainingUsd, 0.12)
        assert.strictEqual(status.cyclesAffordable, 0)
        assert.isFalse(status.canAfford)
      }),
      { config: { dailyBudgetUsd: 0.2 } }
    ))
})
