/**
 * What the operator's views read beside the research endpoints: today's
 * spending minute by minute (`/agent/budget/today`), each worker with the
 * jobs it completed and failed (`/agent/workers`), and research lists with
 * their filters and totals — over real HTTP.
 */
import { assert, describe, it } from "@effect/vitest"
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import { Effect } from "effect"

describe("operator views", () => {
  it.scopedLive("budget today, worker activity, and research lists filtered with totals", () =>
    Effect.gen(function*() {
      const server = yield* startServer({
        engine: {
          handlers: { training: () => Effect.succeed(goodTraining), backtest: () => Effect.succeed(goodBacktest) },
          config: { maxConcurrentResearches: 5 }
        }
      })
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const api = yield* server.client()
      const first = yield* server.coordinator.trigger({ brief: "Explore RSI variations" })
      const second = yield* server.coordinator.trigger({ brief: "Test MACD strategies" })
      yield* eventually(
        api.agent.list({ urlParams: { status: "completed", limit: 50, offset: 0 } }),
        (page) => page.total === 2,
        20
      )

      const today = yield* api.agent.budgetToday()
      const detail = [yield* api.agent.show({ path: { id: first.id } }), yield* api.agent.show({ path: { id: second.id } })]
      const charged = detail.flatMap((d) => d.llmCalls).reduce((sum, c) => sum + c.costUsd, 0)
      assert.strictEqual(today.limitUsd, 5)
      assert.closeTo(today.spentUsd, charged, 1e-9)
      assert.closeTo(today.points[today.points.length - 1]!.spentUsd, charged, 1e-9)
      for (const p of today.points) assert.strictEqual(p.at % 60_000, 0, "minute marks")
      assert.strictEqual(today.day, new Date(today.points[0]!.at - 1).toISOString().slice(0, 10))

      const workers = yield* api.agent.workers()
      assert.deepStrictEqual(
        workers.map((w) => [w.worker.id, w.jobsCompleted, w.jobsFailed]).sort(),
        [["backtest-1", 2, 0], ["training-1", 2, 0]]
      )

      const page = yield* api.agent.list({ urlParams: { limit: 1, offset: 0 } })
      assert.strictEqual(page.total, 2)
      assert.strictEqual(page.researches.length, 1)
      assert.closeTo(page.costUsd, detail.reduce((sum, d) => sum + d.research.costUsd, 0), 1e-9)
      const name = detail[0]!.research.strategy!.name
      const byStrategy = yield* api.agent.list({ urlParams: { strategy: name, limit: 50, offset: 0 } })
      assert.deepStrictEqual(byStrategy.researches.map((r) => r.id), [first.id])
      const future = yield* api.agent.list({ urlParams: { since: new Date(Date.now() + 3_600_000), limit: 50, offset: 0 } })
      assert.deepStrictEqual([future.total, future.costUsd, future.researches.length], [0, 0, 0])
      const bad = yield* server.fetch("/api/v1/agent/researches?since=yesterday")
      assert.strictEqual(bad.status, 400)
    }))
})
