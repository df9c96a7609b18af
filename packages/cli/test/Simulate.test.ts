/** `foreman simulate`: the in-memory simulation's report, as text and JSON, with faults. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { foreman } from "./cliHarness.js"

describe("foreman simulate", () => {
  it.effect("prints a summary; the same seed gives the same trace", () =>
    Effect.gen(function*() {
      const out = yield* foreman(["simulate", "--seed", "7", "--researches", "4", "--training-workers", "2"])
      assert.strictEqual(out.code, 0)
      const lines = out.stdout.split("\n")
      assert.strictEqual(lines[0], "Simulation (seed 7): 4 researches, 2 training + 1 backtest workers")
      assert.match(out.stdout, /\nOutcomes: +4 completed, 0 failed, 0 cancelled, 0 still active, 0 not triggered\n/)
      assert.include(out.stdout, "Invariants:  all held")
      const again = yield* foreman(["simulate", "--seed", "7", "--researches", "4", "--training-workers", "2"])
      assert.strictEqual(again.stdout, out.stdout)
    }))

  it.effect("--json gives the full report; --faults maps onto the simulation's faults", () =>
    Effect.gen(function*() {
      const out = yield* foreman([
        "simulate",
        "--json",
        "--researches",
        "6",
        "--faults",
        "job-failure=0.3,worker-crash=0.2,cancel=0.5"
      ])
      assert.strictEqual(out.code, 0)
      const report = JSON.parse(out.stdout) as {
        researches: number
        outcomes: Record<string, number>
        invariantViolations: Array<string>
        traceHash: string
        workerCrashes: number
      }
      assert.strictEqual(report.researches, 6)
      assert.deepStrictEqual(Object.keys(report.outcomes).sort(), ["active", "cancelled", "completed", "failed", "notTriggered"])
      assert.deepStrictEqual(report.invariantViolations, [])
      assert.isTrue(report.outcomes["cancelled"]! + report.outcomes["failed"]! > 0)
      const calm = JSON.parse((yield* foreman(["simulate", "--json", "--researches", "6"])).stdout) as { traceHash: string }
      assert.notStrictEqual(calm.traceHash, report.traceHash)
    }))

  it.effect("flags fall back to environment variables", () =>
    Effect.gen(function*() {
      const out = yield* foreman(["simulate"], { FOREMAN_SIM_RESEARCHES: "3", FOREMAN_SIM_SEED: "9" })
      assert.match(out.stdout, /^Simulation \(seed 9\): 3 researches/)
    }))

  it.effect("bad faults are usage errors (exit 2)", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* foreman(["simulate", "--faults", "job-failure=2"])).code, 2)
      assert.strictEqual((yield* foreman(["simulate", "--faults", "job-failure"])).code, 2)
      assert.strictEqual((yield* foreman(["simulate", "--researches", "-1"])).code, 2)
    }))
})
