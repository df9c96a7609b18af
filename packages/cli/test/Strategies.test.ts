/**
 * `foreman strategies` run in-process against the coordinator's API over a
 * fresh in-memory engine: the catalogue as a table and as JSON.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Memory } from "@foreman/adapter-memory"
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import { Effect } from "effect"
import { against } from "./cliHarness.js"

const instant: Memory.MemoryOptions["handlers"] = {
  training: () => Effect.succeed(goodTraining),
  backtest: () => Effect.succeed(goodBacktest)
}

describe("foreman strategies", () => {
  it.scopedLive("an empty catalogue says so", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const out = yield* against(server.baseUrl)(["strategies"])
      assert.strictEqual(out.code, 0)
      assert.strictEqual(out.stdout, "No strategies designed yet.")
      const json = yield* against(server.baseUrl)(["strategies", "--json"])
      assert.deepStrictEqual(JSON.parse(json.stdout), [])
    }))

  it.scopedLive("lists designs newest first with their best metrics; --json gives the summaries", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: instant } })
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const run = against(server.baseUrl)
      const api = yield* server.client()
      assert.strictEqual((yield* run(["agent", "trigger", "--brief", "Explore RSI variations"])).code, 0)
      yield* eventually(api.agent.status(), (s) => s.active.length === 0)
      assert.strictEqual((yield* run(["agent", "trigger", "--brief", "Test MACD strategies", "--bypass-gates"])).code, 0)
      const list = yield* eventually(api.agent.strategies(), (l) => l.length === 2 && l.every((s) => s.best.sharpeRatio !== null))
      const [newest, oldest] = list

      const out = yield* run(["strategies"])
      assert.strictEqual(out.code, 0)
      const lines = out.stdout.split("\n")
      assert.match(lines[0]!, /^NAME +DESIGNED BY +CREATED +USES +BEST SHARPE +BEST RETURN +BEST ACCURACY$/)
      assert.strictEqual(lines.length, 3)
      for (const [line, s] of [[lines[1]!, newest!], [lines[2]!, oldest!]] as const) {
        assert.deepStrictEqual(line.split(/ +/), [
          s.name,
          s.researchId,
          new Date(s.createdAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
          "1",
          "1.30",
          "12.0%",
          "62.0%"
        ])
      }

      const json = yield* run(["strategies", "--json"])
      assert.strictEqual(json.code, 0)
      const body = JSON.parse(json.stdout) as ReadonlyArray<{ name: string; best: unknown; strategy: { name: string } }>
      assert.deepStrictEqual(body.map((s) => s.name), [newest!.name, oldest!.name])
      assert.deepStrictEqual(body[0]!.best, { sharpeRatio: 1.3, totalReturn: 0.12, testAccuracy: 0.62 })
      assert.strictEqual(body[0]!.strategy.name, newest!.name)
    }))

  it.scopedLive("--help describes the command and its flags", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const out = yield* against(server.baseUrl)(["strategies", "--help"])
      assert.strictEqual(out.code, 0)
      assert.include(out.stdout, "List designed strategies")
      assert.include(out.stdout, "Print JSON instead of text")
    }))
})
