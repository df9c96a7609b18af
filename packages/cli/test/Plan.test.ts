/**
 * `foreman plan` against a coordinator's API on 127.0.0.1 that ran a few
 * researches (in-memory engine, workers that answer at once): the history it
 * reads, the replay set against what was observed, the what-ifs and the
 * errors a user meets.
 */
import { assert, describe, it } from "@effect/vitest"
import { instantHandlers } from "@foreman/adapter-memory/TestEngine"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import { Effect } from "effect"
import { against } from "./cliHarness.js"

describe("foreman plan", () => {
  it.scopedLive("reads the history, replays it beside what was observed and runs what-ifs; says what is wrong", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: instantHandlers } })
      const run = against(server.baseUrl)

      const empty = yield* run(["plan", "--since", "1h", "--seeds", "2"])
      assert.strictEqual(empty.code, 1, empty.stderr)
      assert.include(empty.stderr, "no research was created in the window")

      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const api = yield* server.client()
      for (let i = 0; i < 3; i++) {
        yield* api.agent.trigger({ payload: { brief: `research ${i}`, force: true } })
      }
      yield* eventually(api.agent.list({ urlParams: { limit: 50, offset: 0 } }), (page) =>
        page.researches.length === 3 && page.researches.every((r) => r.status === "completed"), 20)

      const history = yield* api.agent.history({ urlParams: { since: "1h" } })
      assert.strictEqual(history.researches.length, 3)
      assert.deepStrictEqual(history.workers, { training: 1, backtest: 1 })
      assert.deepStrictEqual(
        [...new Set(history.jobs.map(([kind]) => kind))].sort(),
        ["assessment", "backtest", "design", "training"]
      )

      const json = yield* run(["plan", "--since", "1h", "--seeds", "3", "--workers", "training=+1", "--json"])
      assert.strictEqual(json.code, 0, json.stderr)
      const report = JSON.parse(json.stdout)
      assert.strictEqual(report.seeds, 3)
      assert.deepStrictEqual(report.observed.workers, { training: 1, backtest: 1 })
      assert.strictEqual(report.observed.arrivals, 3)
      assert.strictEqual(report.observed.researchesFinished, 3)
      assert.strictEqual(report.replay.researchesFinished.p50, 3)
      assert.deepStrictEqual(Object.keys(report.replay.waits).sort(), ["backtest", "training"])
      assert.strictEqual(report.whatIfs.length, 1)
      assert.strictEqual(report.whatIfs[0].label, "training=+1")
      assert.deepStrictEqual(report.whatIfs[0].workers, { training: 2, backtest: 1 })
      assert.hasAllKeys(report.whatIfs[0].researchesPerDay, ["p5", "p50", "p95", "mean"])

      const text = yield* run(["plan", "--since", "1h", "--seeds", "2", "--workers", "training=+1;training=3", "--budget", "20"])
      assert.strictEqual(text.code, 0, text.stderr)
      const lines = text.stdout.split("\n")
      assert.match(lines[0]!, /^Plan from .* 3 researches arrived, workers training=1 backtest=1; 2 seeds per scenario$/)
      assert.include(text.stdout, "Replay of the recorded window with the recorded workers, against what was observed:")
      assert.match(text.stdout, /\nresearches finished +3 +3 +3–3 +inside\n/)
      assert.match(text.stdout, /\nVerdict: /)
      assert.include(text.stdout, "\nWhat-if training=+1 budget=$20: workers training=2 backtest=1, arrivals 1x, budget $20.00/day\n")
      assert.include(text.stdout, "\nWhat-if training=3 budget=$20: workers training=3 backtest=1, arrivals 1x, budget $20.00/day\n")
      assert.match(text.stdout, /\nbudget runs out +never/)

      const unknown = yield* run(["plan", "--since", "1h", "--seeds", "1", "--workers", "gpu=+1"])
      assert.strictEqual(unknown.code, 2)
      assert.include(unknown.stderr, `unknown worker type "gpu" (the history knows training, backtest)`)
      const badSince = yield* run(["plan", "--since", "yesterday"])
      assert.strictEqual(badSince.code, 2)
      assert.include(badSince.stderr, "--since: expected a span such as 7d")
      const mismatched = yield* run(["plan", "--workers", "training=+1;training=+2", "--arrivals", "2x;3x;4x"])
      assert.strictEqual(mismatched.code, 2)
      assert.include(mismatched.stderr, "--workers holds 2 scenarios and another flag 3")
    }), 120_000)
})
