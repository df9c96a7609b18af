/**
 * `foreman simulate --seeds …`: the forms of `--seeds` and `--time-budget`,
 * the flags that do not go together, a sweep's text and JSON, and the real
 * bundle sweeping on two worker threads.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Either } from "effect"
import { parseSeeds, parseTimeBudget } from "../src/commands/simulate.js"
import { foreman as inProcess } from "./cliHarness.js"
import { foreman as binary } from "./processes.js"

/** Time limit of the tests that run simulations: seconds alone, minutes on a loaded 2-core machine. */
const threaded = 480_000

const seedsOf = (text: string) => Either.getOrThrow(parseSeeds(text))
const problem = (either: Either.Either<unknown, string>) => Either.match(either, { onLeft: (m) => m, onRight: () => "" })

describe("foreman simulate --seeds", () => {
  it("--seeds takes a range, a list, one seed, or a mix; in the order given", () => {
    assert.deepStrictEqual(seedsOf("1..5"), [1, 2, 3, 4, 5])
    assert.deepStrictEqual(seedsOf("1,5,9"), [1, 5, 9])
    assert.deepStrictEqual(seedsOf("7"), [7])
    assert.deepStrictEqual(seedsOf(" 10..12, 3 "), [10, 11, 12, 3])
    assert.strictEqual(seedsOf("1..10000").length, 10_000)
  })

  it("--seeds refuses what is not a seed, a backwards range, a seed twice and too many seeds", () => {
    assert.include(problem(parseSeeds("")), "give at least one seed")
    assert.include(problem(parseSeeds("3..1")), "the range 3..1 runs backwards")
    assert.include(problem(parseSeeds("a")), `"a" is neither a seed`)
    assert.include(problem(parseSeeds("-1")), `"-1" is neither a seed`)
    assert.include(problem(parseSeeds("1.5")), `"1.5" is neither a seed`)
    assert.include(problem(parseSeeds("1,")), `"" is neither a seed`)
    assert.include(problem(parseSeeds("1..3,2")), "seed 2 is given more than once")
    assert.include(problem(parseSeeds("1..2000000")), "at most 1,000,000 seeds")
  })

  it("--time-budget takes seconds, minutes, hours or plain seconds", () => {
    const seconds = (text: string) => Duration.toSeconds(Either.getOrThrow(parseTimeBudget(text)))
    assert.strictEqual(seconds("90s"), 90)
    assert.strictEqual(seconds("3m"), 180)
    assert.strictEqual(seconds("1h30m"), 5400)
    assert.strictEqual(seconds("1.5h"), 5400)
    assert.strictEqual(seconds("180"), 180)
    for (const bad of ["0", "0s", "3x", "", "m", "3m 2"]) assert.include(problem(parseTimeBudget(bad)), "--time-budget takes", bad)
  })

  it.effect("flags that do not go together are usage errors (exit 2) that say why", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["--seeds", "1..3", "--seed", "2"], "--seed (or FOREMAN_SIM_SEED) and --seeds together"],
        [["--jobs", "2"], "--jobs: only with --seeds"],
        [["--time-budget", "1m"], "--time-budget: only with --seeds"],
        [["--seeds", "1..3", "--min-seeds", "2"], "--min-seeds: only with --time-budget"]
      ]
      for (const [args, message] of cases) {
        const out = yield* inProcess(["simulate", ...args])
        assert.strictEqual(out.code, 2, args.join(" "))
        assert.include(out.stderr, message)
      }
      const env = yield* inProcess(["simulate", "--seeds", "1..2"], { FOREMAN_SIM_SEED: "4" })
      assert.strictEqual(env.code, 2)
      for (const args of [["--seeds", "3..1"], ["--seeds", "1..2", "--jobs", "0"], ["--seeds", "1", "--time-budget", "soon"]]) {
        assert.strictEqual((yield* inProcess(["simulate", ...args])).code, 2, args.join(" "))
      }
    }))

  it.effect("a sweep prints its summary; --json has each seed's row, the same as that seed's own run", () =>
    Effect.gen(function*() {
      const args = ["simulate", "--seeds", "1..3", "--jobs", "1", "--researches", "3"]
      const text = yield* inProcess(args)
      assert.strictEqual(text.code, 0)
      const lines = text.stdout.split("\n")
      assert.strictEqual(lines[0], "Sweep:       foreman simulate --seeds 1..3 --researches 3")
      assert.strictEqual(lines[1], "Seeds:       3 run, 0 with violations, 0 crashed")
      assert.match(text.stdout, /\nOutcomes: +9 completed, 0 failed, 0 cancelled, 0 still active, 0 not triggered\n/)
      assert.match(text.stdout, /\nWall time: +[\d.]+ m?s on 1 job \([\d.]+ seeds\/s\)\n/)
      assert.match(text.stdout, /\nInvariants: +all held$/)

      const json = yield* inProcess([...args, "--json"])
      const sweep = JSON.parse(json.stdout) as {
        seeds: number
        jobs: number
        rows: Array<{ _tag: string; seed: number; traceHash: string }>
      }
      assert.strictEqual(sweep.seeds, 3)
      assert.deepStrictEqual(sweep.rows.map((row) => [row._tag, row.seed]), [["Ran", 1], ["Ran", 2], ["Ran", 3]])
      const two = JSON.parse((yield* inProcess(["simulate", "--seed", "2", "--researches", "3", "--json"])).stdout) as {
        traceHash: string
      }
      assert.strictEqual(sweep.rows[1]!.traceHash, two.traceHash)
    }), threaded)

  // Live: the time budget is real time (under it.effect's TestClock no time would pass).
  it.live("a spent time budget stops at --min-seeds and says how many did not start", () =>
    Effect.gen(function*() {
      const out = yield* inProcess([
        "simulate", "--seeds", "1..50", "--jobs", "1", "--researches", "2", "--time-budget", "0.001s", "--min-seeds", "2"
      ])
      assert.strictEqual(out.code, 0)
      assert.include(out.stdout, "Seeds:       2 run, 0 with violations, 0 crashed, 48 not started (time budget spent)")
      assert.include(out.stdout, "--seeds 1..50 --researches 2 --time-budget 0.001s --min-seeds 2")
    }), threaded)

  it.effect("the bundled foreman sweeps on two worker threads", () =>
    Effect.gen(function*() {
      const out = yield* Effect.promise(() => binary(["simulate", "--seeds", "1..4", "--jobs", "2", "--researches", "10"]))
      assert.strictEqual(out.code, 0, out.stderr)
      assert.include(out.stdout, "Sweep:       foreman simulate --seeds 1..4 --researches 10\n")
      assert.include(out.stdout, "\nSeeds:       4 run, 0 with violations, 0 crashed\n")
      assert.match(out.stdout, /\nOutcomes: +40 completed, 0 failed, 0 cancelled, 0 still active, 0 not triggered\n/)
      assert.match(out.stdout, /\nWall time: +.* on 2 jobs /)
      // The threads' seeds are the seeds' own runs: one thread gives the same totals.
      const one = yield* Effect.promise(() => binary(["simulate", "--seeds", "1..4", "--jobs", "1", "--researches", "10", "--json"]))
      const sweep = JSON.parse(one.stdout) as { events: number; spentUsd: number; jobs: number; rows: Array<{ seed: number }> }
      assert.strictEqual(sweep.jobs, 1)
      assert.deepStrictEqual(sweep.rows.map((row) => row.seed), [1, 2, 3, 4])
      assert.include(out.stdout, `\nEvents:      ${sweep.events.toLocaleString("en-US")}; spent $${sweep.spentUsd.toFixed(2)} in all\n`)
    }), threaded)
})
