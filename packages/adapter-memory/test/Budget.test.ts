import { assert, describe, it } from "@effect/vitest"
import { OfflineAgents } from "@foreman/agents"
import { Budget, BudgetLedger, Coordinator, CoordinatorEvents, type Domain, Engine, ForemanConfig, Researches } from "@foreman/core"
import { Chunk, Effect, Layer, Queue, TestClock } from "effect"
import { Memory, MemoryWorkers } from "../src/index.js"
import { fresh, research } from "../src/TestEngine.js"

const charge = (jobId: string, amountUsd: number, researchId = "op_1", simulated = false) =>
  Effect.gen(function*() {
    const ledger = yield* BudgetLedger.BudgetLedger
    yield* ledger.record({
      researchId: researchId as Domain.ResearchId,
      jobId: jobId as Domain.JobId,
      call: 0,
      model: "m",
      inputTokens: 1000,
      outputTokens: 100,
      cachedInputTokens: 0,
      costUsd: amountUsd,
      latencyMs: 0,
      error: null,
      ...(simulated ? { simulated: true, model: "offline" } : {}),
      at: yield* TestClock.currentTimeMillis
    })
  })

describe("Budget", () => {
  it.scoped("says how much of what it charged was simulated (the offline agents': no model called)", () =>
    fresh(Effect.gen(function*() {
      const budget = yield* Budget.Budget
      yield* TestClock.setTime(Date.UTC(2026, 10, 22, 12, 0))
      yield* charge("job_a", 0.5)
      yield* charge("job_b", 0.02, "op_2", true)
      yield* charge("job_c", 0.03, "op_2", true)
      const status = yield* budget.status()
      assert.deepInclude(status, { spentUsd: 0.55, simulatedUsd: 0.05 }, "simulated calls count against the budget")
      assert.deepInclude(yield* budget.today(), { spentUsd: 0.55, simulatedUsd: 0.05 })
      const calls = yield* budget.charges("op_2" as Domain.ResearchId)
      assert.deepStrictEqual(calls.map((c) => [c.model, c.simulated]), [["offline", true], ["offline", true]])
    })))

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
        simulatedUsd: 0,
        remainingUsd: 3.42,
        estimateUsd: 0.15,
        cyclesAffordable: 22,
        canAfford: true
      })
      assert.strictEqual(yield* budget.remaining(), 3.42, "what status says is left")
      yield* TestClock.setTime(Date.UTC(2026, 10, 23, 0, 0))
      const tomorrow = yield* budget.status()
      assert.strictEqual(tomorrow.day, "2026-11-23")
      assert.strictEqual(tomorrow.spentUsd, 0)
      assert.strictEqual(tomorrow.remainingUsd, 5)
      assert.strictEqual(yield* budget.remaining(), 5)
    })))

  it.scoped("what is left of an unlimited budget is null", () =>
    fresh(
      Effect.gen(function*() {
        yield* charge("job_a", 0.08)
        assert.isNull(yield* (yield* Budget.Budget).remaining())
      }),
      { config: { dailyBudgetUsd: 0 } }
    ))

  it.scoped("a forced trigger reads what is left of the budget, not the cycle's estimate; an unforced one reads both", () =>
    Effect.gen(function*() {
      const estimates = { read: 0 }
      const counting = Layer.effect(
        BudgetLedger.BudgetLedger,
        Effect.map(BudgetLedger.BudgetLedger, (ledger) => ({
          ...ledger,
          recentCycleCosts: (limit: number) =>
            Effect.zipRight(Effect.sync(() => estimates.read++), ledger.recentCycleCosts(limit))
        }))
      ).pipe(Layer.provideMerge(Memory.storage))
      const lab = Engine.layer({
        storage: counting,
        agents: OfflineAgents.layer(),
        transport: MemoryWorkers.layer({ handlers: Memory.defaultHandlers }),
        config: ForemanConfig.layerWith({ maxConcurrentResearches: 10 })
      })
      yield* Effect.gen(function*() {
        const coordinator = yield* Coordinator.Coordinator
        const subscription = yield* (yield* CoordinatorEvents.CoordinatorEvents).subscribe
        yield* charge("job_a", 0.5)
        yield* coordinator.trigger({ brief: "forced", force: true })
        assert.strictEqual(estimates.read, 0)
        yield* coordinator.trigger({ brief: "not forced" })
        assert.isAbove(estimates.read, 0)
        const remaining = Chunk.toReadonlyArray(yield* Queue.takeAll(subscription))
          .flatMap((e) => e._tag === "Triggered" ? [e.remainingUsd] : [])
        assert.deepStrictEqual(remaining, [4.5, 4.5], "each announced with what was left")
      }).pipe(Effect.provide(Layer.fresh(lab)))
    }))

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

  it.scoped("learns the estimate from finished cycles, and refuses what the configured one allows", () =>
    fresh(
      Effect.gen(function*() {
        for (const id of ["op_1", "op_2", "op_3"]) {
          yield* charge(`${id}_design`, 0.1, id)
          yield* charge(`${id}_assess`, 0.2, id)
        }
        const status = yield* (yield* Budget.Budget).status()
        assert.strictEqual(status.remainingUsd, 0.25)
        assert.strictEqual(status.estimateUsd, 0.3)
        assert.strictEqual(status.cyclesAffordable, 0)
        assert.isFalse(status.canAfford)
        const refused = yield* Effect.flip((yield* Coordinator.Coordinator).trigger({ brief: "Explore RSI variations" }))
        assert.strictEqual(refused._tag, "BudgetExhausted")
      }),
      { config: { dailyBudgetUsd: 1.15, cycleCostEstimateUsd: 0.15 } }
    ))

  it.scoped("uses the configured estimate with fewer than 3 finished cycles; running researches do not count", () =>
    fresh(
      Effect.gen(function*() {
        yield* (yield* Researches.Researches).insert(research("op_3"))
        for (const id of ["op_1", "op_2", "op_3"]) yield* charge(`${id}_design`, 0.3, id)
        const status = yield* (yield* Budget.Budget).status()
        assert.strictEqual(status.remainingUsd, 0.25)
        assert.strictEqual(status.estimateUsd, 0.15)
        assert.strictEqual(status.cyclesAffordable, 1)
        assert.isTrue(status.canAfford)
      }),
      { config: { dailyBudgetUsd: 1.15, cycleCostEstimateUsd: 0.15 } }
    ))

  it.scoped("averages the 20 most recently charged finished cycles", () =>
    fresh(
      Effect.gen(function*() {
        yield* charge("job_old", 10, "op_old")
        for (let i = 0; i < 20; i++) {
          yield* TestClock.adjust(1000)
          yield* charge(`job_${i}`, 0.2, `op_${i}`)
        }
        const status = yield* (yield* Budget.Budget).status()
        assert.strictEqual(status.estimateUsd, 0.2)
        assert.strictEqual(status.cyclesAffordable, 15)
      }),
      { config: { dailyBudgetUsd: 17 } }
    ))
})
