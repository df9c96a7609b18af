/**
 * `foreman strategies` run in-process against the coordinator's API over a
 * fresh in-memory engine: the catalogue as a table and as JSON.
 */
import { assert, describe, it } from "@effect/vitest"
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import { eventually, startLabServer, startServer } from "@foreman/testing/ApiHarness"
import { Effect } from "effect"
import { against } from "./cliHarness.js"

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
      const server = yield* startLabServer
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
      assert.match(
        lines[0]!,
        /^NAME +INSTRUMENT +INDICATORS +USES +SHARPE +RETURN +DRAWDOWN +WIN RATE +TRADES +VERDICT +COST +BEST RESEARCH$/
      )
      assert.strictEqual(lines.length, 3)
      for (const [line, s] of [[lines[1]!, newest!], [lines[2]!, oldest!]] as const) {
        assert.deepStrictEqual(line.split(/ +/), [
          s.name,
          s.instrument ?? "-",
          s.indicators.join(","),
          "1",
          "1.30",
          "12.0%",
          "10.0%",
          "55.0%",
          "40",
          s.top!.verdict ?? "-",
          `$${s.top!.costUsd.toFixed(2)}`,
          s.researchId
        ])
      }

      const json = yield* run(["strategies", "--json"])
      assert.strictEqual(json.code, 0)
      const body = JSON.parse(json.stdout) as ReadonlyArray<{ name: string; best: unknown; strategy: { name: string } }>
      assert.deepStrictEqual(body.map((s) => s.name), [newest!.name, oldest!.name])
      assert.deepStrictEqual(body[0]!.best, { sharpeRatio: 1.3, totalReturn: 0.12, testAccuracy: 0.62 })
      assert.strictEqual(body[0]!.strategy.name, newest!.name)
    }))

  it.scopedLive("--sort ranks by a metric of the best research, filters narrow, --limit cuts; --format csv for a notebook", () =>
    Effect.gen(function*() {
      let n = 0
      const server = yield* startServer({
        engine: {
          handlers: {
            training: () => Effect.succeed(goodTraining),
            backtest: () => Effect.sync(() => ({ ...goodBacktest, sharpeRatio: ++n, totalReturn: 0.4 / (n + 1) }))
          }
        }
      })
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const run = against(server.baseUrl)
      const api = yield* server.client()
      for (const brief of ["Explore RSI variations", "Test MACD strategies", "Bollinger bands"]) {
        assert.strictEqual((yield* run(["agent", "trigger", "--brief", brief, "--bypass-gates"])).code, 0)
        yield* eventually(api.agent.status(), (s) => s.active.length === 0)
      }
      const names = (stdout: string) => stdout.split("\n").slice(1).filter((l) => l !== "" && !/ of \d+ strategies/.test(l)).map((l) => l.split(/ +/)[0])
      const catalogue = yield* api.agent.strategies()
      const bySharpe = [...catalogue].sort((a, b) => b.top!.sharpeRatio! - a.top!.sharpeRatio!).map((s) => s.name)

      assert.deepStrictEqual(names((yield* run(["strategies", "--sort", "sharpeRatio"])).stdout), bySharpe)
      assert.deepStrictEqual(names((yield* run(["strategies", "--sort", "totalReturn"])).stdout), [...bySharpe].reverse())
      const top = yield* run(["strategies", "--sort", "sharpeRatio", "--limit", "1"])
      assert.deepStrictEqual(names(top.stdout), [bySharpe[0]])
      assert.include(top.stdout, "1 of 3 strategies (--limit shows more)")
      const json = JSON.parse((yield* run(["strategies", "--sort", "sharpeRatio", "--limit", "2", "--json"])).stdout) as ReadonlyArray<{ name: string }>
      assert.deepStrictEqual(json.map((s) => s.name), bySharpe.slice(0, 2))

      const indicator = catalogue[0]!.indicators[0]!
      const filtered = names((yield* run(["strategies", "--indicator", indicator.toUpperCase()])).stdout)
      assert.deepStrictEqual(filtered, catalogue.filter((s) => s.indicators.includes(indicator)).map((s) => s.name))
      assert.strictEqual((yield* run(["strategies", "--instrument", "NOWHERE"])).stdout, "No strategies designed yet.")

      const csv = (yield* run(["strategies", "--sort", "sharpeRatio", "--format", "csv"])).stdout.split("\n")
      assert.strictEqual(
        csv[0],
        "name,instrument,indicators,researches,sharpeRatio,totalReturn,maxDrawdown,winRate,totalTrades,testAccuracy,verdict," +
          "costUsd,bestResearchId,totalCostUsd,designedBy,createdAt"
      )
      assert.strictEqual(csv.length, 4)
      const best = catalogue.find((s) => s.name === bySharpe[0])!
      assert.deepStrictEqual(csv[1]!.split(","), [
        best.name,
        best.instrument ?? "",
        best.indicators.join(";"),
        "1",
        "3",
        "0.1",
        "0.1",
        "0.55",
        "40",
        "0.62",
        best.top!.verdict ?? "",
        String(best.top!.costUsd),
        best.top!.researchId,
        String(best.costUsd),
        best.researchId,
        new Date(best.createdAt).toISOString()
      ])

      const both = yield* run(["strategies", "--json", "--format", "csv"])
      assert.strictEqual(both.code, 2)
      assert.include(both.stderr, "--json and --format csv")
      const unknown = yield* run(["strategies", "--sort", "luck"])
      assert.strictEqual(unknown.code, 2)
      assert.strictEqual((yield* run(["strategies", "--limit", "0"])).code, 2)
    }))

  it.scopedLive("--help describes the command and its flags", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const out = yield* against(server.baseUrl)(["strategies", "--help"])
      assert.strictEqual(out.code, 0)
      assert.include(out.stdout, "The strategy leaderboard")
      assert.include(out.stdout, "Print JSON instead of text")
      for (const flag of ["--sort", "--limit", "--indicator", "--instrument", "--verdict", "--format"]) assert.include(out.stdout, flag)
    }))
})
