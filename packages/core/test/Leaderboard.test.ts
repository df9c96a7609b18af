/**
 * The leaderboard, decided without side effects: a strategy's best research
 * (the backtested one with the highest Sharpe, else the latest assessed),
 * the indicators and instrument its specification names, and the ranking by
 * any metric (the best first, missing metrics last), filtered and limited.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Domain } from "../src/index.js"
import { StrategyCatalogue } from "../src/index.js"

const research = (
  id: string,
  createdAt: number,
  results: Record<string, unknown>,
  costUsd = 0.1
): Domain.Research => ({
  id: id as Domain.ResearchId,
  brief: "b",
  model: null,
  bypassGates: false,
  forced: false,
  phase: "assessing",
  status: "completed",
  strategy: null,
  results,
  gates: {},
  costUsd,
  createdAt: createdAt,
  updatedAt: createdAt,
  finishedAt: createdAt,
  waitingFor: null,
  activeJobId: null,
  attempt: 1,
  failures: 0
} as unknown as Domain.Research)

const backtest = (sharpeRatio: number, maxDrawdown: number, totalReturn = 0.1) => ({
  sharpeRatio,
  totalReturn,
  maxDrawdown,
  winRate: 0.5,
  totalTrades: 10,
  netReturn: totalReturn,
  tradeCount: 10
})

const stored = (name: string, createdAt: number, spec: Record<string, unknown>): Domain.StoredStrategy => ({
  strategy: { name, spec },
  researchId: `op_${name}` as Domain.ResearchId,
  createdAt: createdAt
})

describe("the leaderboard", () => {
  it("summarises a strategy by its best research, its indicators, instrument and total cost", () => {
    const s = StrategyCatalogue.summarize(
      stored("rsi", 1, { instrument: "SPY", indicators: [{ name: "RSI", period: 14 }, "macd", { name: "rsi" }] }),
      [
        research("op_a", 1, { backtest: backtest(0.8, 0.2), assessment: { verdict: "inconclusive", summary: "" } }, 0.1),
        research("op_b", 2, { backtest: backtest(1.4, 0.1), assessment: { verdict: "promising", summary: "" } }, 0.2),
        research("op_c", 3, { assessment: { verdict: "rejected", summary: "" } }, 0.05)
      ]
    )
    assert.deepStrictEqual(s.indicators, ["rsi", "macd"])
    assert.strictEqual(s.instrument, "SPY")
    assert.strictEqual(Math.round(s.costUsd * 100), 35)
    assert.deepStrictEqual(s.top, {
      researchId: "op_b" as Domain.ResearchId,
      status: "completed",
      sharpeRatio: 1.4,
      totalReturn: 0.1,
      maxDrawdown: 0.1,
      winRate: 0.5,
      totalTrades: 10,
      testAccuracy: null,
      verdict: "promising",
      costUsd: 0.2
    })
    const unbacktested = StrategyCatalogue.summarize(stored("x", 1, {}), [
      research("op_old", 1, { assessment: { verdict: "rejected", summary: "" } }),
      research("op_new", 2, { assessment: { verdict: "inconclusive", summary: "" } }),
      research("op_running", 3, {})
    ])
    assert.strictEqual(unbacktested.top?.researchId, "op_new")
    assert.deepStrictEqual(unbacktested.indicators, [])
    assert.strictEqual(unbacktested.instrument, null)
    assert.strictEqual(StrategyCatalogue.summarize(stored("y", 1, {}), []).top, null)
  })

  it("sorts by any metric, the best first and missing ones last; filters by indicator, instrument and verdict", () => {
    const all = [
      StrategyCatalogue.summarize(stored("a", 1, { instrument: "SPY", indicators: ["rsi"] }), [
        research("op_1", 1, { backtest: backtest(1.0, 0.3, 0.2), assessment: { verdict: "promising", summary: "" } }, 0.3)
      ]),
      StrategyCatalogue.summarize(stored("b", 2, { instrument: "EURUSD", indicators: ["macd", "rsi"] }), [
        research("op_2", 2, { backtest: backtest(2.0, 0.1, 0.05), assessment: { verdict: "rejected", summary: "" } }, 0.1)
      ]),
      StrategyCatalogue.summarize(stored("c", 3, { instrument: "spy", indicators: ["sma"] }), [])
    ]
    const names = (query: StrategyCatalogue.LeaderboardQuery) =>
      StrategyCatalogue.leaderboard(all, query).strategies.map((s) => s.name)
    assert.deepStrictEqual(names({ sort: "sharpeRatio" }), ["b", "a", "c"])
    assert.deepStrictEqual(names({ sort: "totalReturn" }), ["a", "b", "c"])
    assert.deepStrictEqual(names({ sort: "maxDrawdown" }), ["b", "a", "c"])
    assert.deepStrictEqual(names({ sort: "costUsd" }), ["b", "a", "c"])
    assert.deepStrictEqual(names({ sort: "createdAt" }), ["c", "b", "a"])
    assert.deepStrictEqual(names({ sort: "name" }), ["a", "b", "c"])
    assert.deepStrictEqual(names({ sort: "sharpeRatio", indicator: "RSI" }), ["b", "a"])
    assert.deepStrictEqual(names({ sort: "sharpeRatio", instrument: "SPY" }), ["a", "c"])
    assert.deepStrictEqual(names({ sort: "sharpeRatio", verdict: "promising" }), ["a"])
    const limited = StrategyCatalogue.leaderboard(all, { sort: "sharpeRatio", limit: 1 })
    assert.strictEqual(limited.total, 3)
    assert.deepStrictEqual(limited.strategies.map((s) => s.name), ["b"])
  })
})
