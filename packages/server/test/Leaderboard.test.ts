/**
 * The strategy leaderboard over HTTP on 127.0.0.1: `GET /leaderboard` sorts
 * the catalogue by a metric of each strategy's best research, filters it by
 * indicator, instrument and verdict, limits it, and refuses a metric it does
 * not know (400).
 */
import { assert, describe, it } from "@effect/vitest"
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import { Effect } from "effect"

describe("leaderboard API", () => {
  it.scopedLive("sorts by any metric of the best research, filters, limits; 400 for an unknown metric", () =>
    Effect.gen(function*() {
      let n = 0
      const server = yield* startServer({
        engine: {
          handlers: {
            training: () => Effect.succeed(goodTraining),
            backtest: () => Effect.sync(() => ({ ...goodBacktest, sharpeRatio: ++n, maxDrawdown: 0.5 / n }))
          }
        }
      })
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const api = yield* server.client()
      for (const brief of ["Explore RSI variations", "Test MACD strategies", "Bollinger bands"]) {
        yield* api.agent.trigger({ payload: { brief } })
        yield* eventually(api.agent.status(), (s) => s.active.length === 0)
      }
      const catalogue = yield* api.agent.strategies()
      assert.strictEqual(catalogue.length, 3)
      const first = catalogue[2]!

      const board = yield* api.agent.leaderboard({ urlParams: { sort: "sharpeRatio", limit: 2 } })
      assert.strictEqual(board.sort, "sharpeRatio")
      assert.strictEqual(board.total, 3)
      assert.deepStrictEqual(board.strategies.map((s) => s.top?.sharpeRatio), [3, 2])
      const top = board.strategies[0]!.top!
      assert.strictEqual(top.verdict, "promising")
      assert.strictEqual(top.winRate, goodBacktest.winRate)
      assert.strictEqual(top.totalTrades, goodBacktest.totalTrades)
      assert.isAbove(top.costUsd, 0)

      const shallowest = yield* api.agent.leaderboard({ urlParams: { sort: "maxDrawdown", limit: 100 } })
      assert.deepStrictEqual(shallowest.strategies.map((s) => s.top?.sharpeRatio), [3, 2, 1])
      const oldest = yield* api.agent.leaderboard({ urlParams: { sort: "createdAt", limit: 100 } })
      assert.deepStrictEqual(oldest.strategies.map((s) => s.name), catalogue.map((s) => s.name))

      const indicator = first.indicators[0]!
      const byIndicator = yield* api.agent.leaderboard({ urlParams: { sort: "sharpeRatio", limit: 100, indicator: indicator.toUpperCase() } })
      assert.isTrue(byIndicator.strategies.every((s) => s.indicators.includes(indicator)))
      assert.include(byIndicator.strategies.map((s) => s.name), first.name)
      const promising = yield* api.agent.leaderboard({ urlParams: { sort: "sharpeRatio", limit: 100, verdict: "promising" } })
      assert.strictEqual(promising.total, catalogue.filter((s) => s.top?.verdict === "promising").length)
      assert.isTrue(promising.strategies.every((s) => s.top?.verdict === "promising"))
      const nowhere = yield* api.agent.leaderboard({ urlParams: { sort: "sharpeRatio", limit: 100, instrument: "NOWHERE" } })
      assert.deepStrictEqual(nowhere, { sort: "sharpeRatio", total: 0, strategies: [] })

      const raw = yield* server.fetch("/api/v1/leaderboard?sort=luck&instrument=SPY")
      assert.strictEqual(raw.status, 400)
      const plain = yield* server.fetch("/api/v1/leaderboard")
      assert.strictEqual(plain.status, 200)
      const body = (yield* Effect.promise(() => plain.json())) as { sort: string; total: number }
      assert.deepStrictEqual([body.sort, body.total], ["sharpeRatio", 3])
    }))
})
