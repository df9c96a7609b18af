/**
 * What a researcher takes to a notebook: `foreman agent list --format csv`
 * (a header row, a research per row with its metrics, verdict and cost;
 * fields with commas or quotes quoted), in-process against the API on
 * 127.0.0.1 over a fresh in-memory engine.
 */
import { assert, describe, it } from "@effect/vitest"
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import { Effect } from "effect"
import { csv } from "../src/internal/csv.js"
import { against } from "./cliHarness.js"

describe("CSV export", () => {
  it("quotes fields with commas, quotes or line breaks; leaves missing values empty", () => {
    assert.strictEqual(csv(["a", "b", "c"], [["x,y", "say \"hi\"", null], [1.5, "line\nbreak", undefined]]),
      "a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\n1.5,\"line\nbreak\",")
  })

  it.scopedLive("agent list --format csv: a research per row with its metrics, verdict and cost", () =>
    Effect.gen(function*() {
      const server = yield* startServer({
        engine: { handlers: { training: () => Effect.succeed(goodTraining), backtest: () => Effect.succeed(goodBacktest) } }
      })
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const run = against(server.baseUrl)
      assert.strictEqual((yield* run(["agent", "trigger", "--brief", "Explore RSI, then \"MACD\""])).code, 0)
      const api = yield* server.client()
      const page = yield* eventually(
        api.agent.list({ urlParams: { status: "completed", limit: 50, offset: 0 } }),
        (p) => p.total === 1,
        20
      )
      const r = page.researches[0]!

      const out = yield* run(["agent", "list", "--format", "csv"])
      assert.strictEqual(out.code, 0, out.stderr)
      const lines = out.stdout.split("\n")
      assert.deepStrictEqual(lines, [
        "id,status,phase,strategy,verdict,sharpeRatio,totalReturn,maxDrawdown,winRate,totalTrades,testAccuracy,costUsd," +
          "createdAt,finishedAt,brief",
        [
          r.id,
          "completed",
          r.phase,
          r.strategy!.name,
          (r.results["assessment"] as { verdict: string }).verdict,
          "1.3",
          "0.12",
          "0.1",
          "0.55",
          "40",
          "0.62",
          String(r.costUsd),
          new Date(r.createdAt).toISOString(),
          new Date(r.finishedAt!).toISOString(),
          "\"Explore RSI, then \"\"MACD\"\"\""
        ].join(",")
      ])
      const both = yield* run(["agent", "list", "--json", "--format", "csv"])
      assert.strictEqual(both.code, 2)
      assert.include(both.stderr, "--json and --format csv")
      const help = yield* run(["agent", "list", "--help"])
      assert.include(help.stdout, "--format")
    }))
})
