/**
 * `foreman agent compare ID ID…` in-process against the API on 127.0.0.1 over
 * a fresh in-memory engine: a column per research with its figures, JSON
 * details with --json, exit 1 naming an unknown research, exit 2 for fewer
 * than two.
 */
import { assert, describe, it } from "@effect/vitest"
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import { Effect } from "effect"
import { against } from "./cliHarness.js"

const idOf = (stdout: string) => /^Research triggered: (op_\w+)$/.exec(stdout)![1]!

describe("foreman agent compare", () => {
  it.scopedLive("shows researches side by side; --json gives their details; unknown ids fail", () =>
    Effect.gen(function*() {
      let n = 0
      const server = yield* startServer({
        engine: {
          handlers: {
            training: () => Effect.succeed(goodTraining),
            backtest: () => Effect.sync(() => ({ ...goodBacktest, sharpeRatio: ++n, buyAndHoldReturn: 0.05 }))
          }
        }
      })
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const run = against(server.baseUrl)
      const api = yield* server.client()
      const ids: Array<string> = []
      for (const brief of ["Explore RSI variations", "Test MACD strategies"]) {
        ids.push(idOf((yield* run(["agent", "trigger", "--brief", brief, "--bypass-gates"])).stdout))
        yield* eventually(api.agent.status(), (s) => s.active.length === 0)
      }
      const [a, b] = yield* Effect.forEach(ids, (id) => api.agent.show({ path: { id: id as never } }))

      const out = yield* run(["agent", "compare", ids[0]!, ids[1]!])
      assert.strictEqual(out.code, 0, out.stderr)
      const rows = out.stdout.split("\n").map((line) => line.trim().split(/ {2,}/))
      assert.deepStrictEqual(rows[0], ids)
      const row = (label: string) => rows.find((r) => r[0] === label)!.slice(1)
      assert.deepStrictEqual(row("status"), ["completed", "completed"])
      assert.deepStrictEqual(row("strategy"), [a!.research.strategy!.name, b!.research.strategy!.name])
      assert.deepStrictEqual(row("sharpe"), ["1.00", "2.00"])
      assert.deepStrictEqual(row("return"), ["12.0%", "12.0%"])
      assert.deepStrictEqual(row("buy-and-hold"), ["5.0%", "5.0%"])
      assert.deepStrictEqual(row("drawdown"), ["10.0%", "10.0%"])
      assert.deepStrictEqual(row("win rate"), ["55.0%", "55.0%"])
      assert.deepStrictEqual(row("trades"), ["40", "40"])
      assert.deepStrictEqual(row("accuracy"), ["62.0%", "62.0%"])
      assert.deepStrictEqual(row("cost"), [a, b].map((d) => `$${d!.research.costUsd.toFixed(2)}`))

      const json = yield* run(["agent", "compare", ids[1]!, ids[0]!, "--json"])
      assert.strictEqual(json.code, 0)
      const details = JSON.parse(json.stdout) as ReadonlyArray<{ research: { id: string } }>
      assert.deepStrictEqual(details.map((d) => d.research.id), [ids[1], ids[0]])

      const missing = yield* run(["agent", "compare", ids[0]!, "op_doesnotexist"])
      assert.strictEqual(missing.code, 1)
      assert.include(missing.stderr, "op_doesnotexist")
      const malformed = yield* run(["agent", "compare", ids[0]!, "nonsense"])
      assert.strictEqual(malformed.code, 1)
      assert.strictEqual((yield* run(["agent", "compare", ids[0]!])).code, 2)
      const help = yield* run(["agent", "compare", "--help"])
      assert.include(help.stdout, "Researches side by side")
      assert.include((yield* run(["agent", "--help"])).stdout, "compare")
    }))
})
