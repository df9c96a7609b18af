/** `foreman simulate`: the in-memory simulation's report, as text and JSON, with faults. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { foreman, plain } from "./cliHarness.js"

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

  it.effect("the replay line names every setting that changes the trace, and replays the same run", () =>
    Effect.gen(function*() {
      const out = yield* foreman([
        "simulate", "--seed", "3", "--researches", "4", "--backtest-workers", "2", "--daily-budget", "0.5",
        "--faults", "job-failure=0.3,coordinator-restart=0.2"
      ])
      const replay = /^Replay: +(.*)$/m.exec(out.stdout)?.[1]
      assert.strictEqual(
        replay,
        "foreman simulate --seed 3 --researches 4 --backtest-workers 2 --daily-budget 0.5 --faults job-failure=0.3,coordinator-restart=0.2"
      )
      const again = yield* foreman(replay!.split(" ").slice(1))
      assert.strictEqual(again.stdout, out.stdout)
      const plainRun = yield* foreman(["simulate", "--researches", "2"])
      assert.match(plainRun.stdout, /\nReplay: +foreman simulate --seed 1 --researches 2$/)
    }))

  it.effect("flags fall back to environment variables", () =>
    Effect.gen(function*() {
      const out = yield* foreman(["simulate"], { FOREMAN_SIM_RESEARCHES: "3", FOREMAN_SIM_SEED: "9" })
      assert.match(out.stdout, /^Simulation \(seed 9\): 3 researches/)
      // The run's settings, as its replay line names them (a budget refused for a whole simulated day costs 35 s here).
      const rich = yield* foreman(["simulate", "--researches", "1"], { FOREMAN_SIM_DAILY_BUDGET: "7", FOREMAN_SIM_TRAINING_WORKERS: "1" })
      assert.match(rich.stdout, /\nReplay: +foreman simulate --seed 1 --researches 1 --training-workers 1 --daily-budget 7$/)
    }))

  it.effect("bad faults are usage errors (exit 2)", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* foreman(["simulate", "--faults", "job-failure=2"])).code, 2)
      assert.strictEqual((yield* foreman(["simulate", "--faults", "job-failure"])).code, 2)
      assert.strictEqual((yield* foreman(["simulate", "--researches", "-1"])).code, 2)
      assert.strictEqual((yield* foreman(["simulate", "--daily-budget", "-1"])).code, 2)
    }))

  it.effect("--faults edge cases: one clear line each, exit 2", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["job-failure=", `--faults: expected key=value pairs separated by commas, got "job-failure="`],
        ["=0.1", `--faults: expected key=value pairs separated by commas, got "=0.1"`],
        ["job-failure=0.1,job-failure=0.2", `--faults: "job-failure" is given more than once`],
        ["job-failure=0.1,jobFailure=0.2", `--faults: jobFailure is given more than once`],
        ["cancel=soon", `--faults: cancel must be a probability from 0 to 1, got "soon"`],
        ["cancel=0x1", `--faults: cancel must be a probability from 0 to 1, got "0x1"`],
        ["cancel=Infinity", `--faults: cancel must be a probability from 0 to 1, got "Infinity"`],
        ["cancel=-0.1", `--faults: cancel must be a probability from 0 to 1, got "-0.1"`],
        ["cancel=1.01", `--faults: cancel must be a probability from 0 to 1, got "1.01"`]
      ]
      for (const [faults, line] of cases) {
        const out = yield* foreman(["simulate", "--faults", faults])
        assert.strictEqual(out.code, 2, faults)
        assert.strictEqual(out.stdout, "", faults)
        assert.strictEqual(plain(out.stderr).trim(), line, faults)
      }
      const edges = yield* foreman(["simulate", "--json", "--researches", "2", "--faults", " cancel = 1e-1 , job-failure=.0,"])
      assert.strictEqual(edges.code, 0)
    }))
})
