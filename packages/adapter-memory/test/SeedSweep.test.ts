/**
 * Seed sweeps: the same rows on one thread or several, seeds whose run or
 * whose thread dies reported with their seed, the time budget and its floor,
 * and settings that cannot cross a thread refused.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { SeedSweep, Simulation } from "../src/index.js"

const allFaults = { jobFailure: 0.05, workerCrash: 0.1, coordinatorRestart: 0.2, dispatchFailure: 0.05, cancel: 0.1 }

/** Every row of a sweep, by seed, without the real time each took. */
const rows = (options: SeedSweep.SweepOptions) =>
  Effect.map(Stream.runCollect(SeedSweep.stream(options)), (chunk) =>
    Chunk.toReadonlyArray(chunk)
      .map(({ wallMs: _, ...row }) => row)
      .sort((a, b) => a.seed - b.seed))

/** Time limit of the tests that start worker threads (each loads the sources through tsx): seconds alone, minutes on a loaded 2-core machine. */
const threaded = 480_000

const dying = new URL("./fixtures/dyingSweepWorker.ts", import.meta.url)

describe("SeedSweep", () => {
  it.effect("a seed's row is the same on one thread or two, and is its Simulation.run", () =>
    Effect.gen(function*() {
      const spec = { researches: 8, faults: allFaults }
      const seeds = [1, 2, 3, 4, 5]
      const inProcess = yield* rows({ spec, seeds, jobs: 1 })
      const threads = yield* rows({ spec, seeds, jobs: 2 })
      assert.deepStrictEqual(threads, inProcess)
      assert.deepStrictEqual(inProcess.map((row) => row.seed), seeds)
      const report = yield* Simulation.run({ ...spec, seed: 4 })
      const four = inProcess[3]!
      assert.strictEqual(four._tag, "Ran")
      if (four._tag === "Ran") {
        assert.strictEqual(four.traceHash, report.traceHash)
        assert.deepStrictEqual(four.outcomes, report.outcomes)
        assert.deepStrictEqual(four.violations, report.invariantViolations)
      }
      assert.strictEqual(new Set(inProcess.map((row) => row._tag === "Ran" ? row.traceHash : "")).size, seeds.length)
    }), threaded)

  it.effect("a seed whose run throws is a Crashed row with its seed and message, on one thread or two", () =>
    Effect.gen(function*() {
      // Settings that pass the Schema but disagree: one recorded arrival for three researches.
      const spec = { researches: 3, arrivals: { _tag: "Recorded" as const, atSeconds: [0] } }
      for (const jobs of [1, 2]) {
        const found = yield* rows({ spec, seeds: [7, 8, 9], jobs })
        assert.deepStrictEqual(found.map((row) => [row._tag, row.seed]), [["Crashed", 7], ["Crashed", 8], ["Crashed", 9]])
        for (const row of found) {
          assert.include(row._tag === "Crashed" ? row.message : "", "1 recorded arrival times for 3 researches", `jobs ${jobs}`)
        }
      }
    }), threaded)

  it.effect("a worker thread that dies has its seed reported, and a new thread runs the rest", () =>
    Effect.gen(function*() {
      const found = yield* rows({ spec: { researches: 3 }, seeds: [1, 2, 3, 4, 5], jobs: 2, workerEntry: dying })
      assert.deepStrictEqual(found.map((row) => row.seed), [1, 2, 3, 4, 5])
      const three = found[2]!
      assert.strictEqual(three._tag, "Crashed")
      assert.include(three._tag === "Crashed" ? three.message : "", "boom on seed 3")
      assert.deepStrictEqual(found.filter((row) => row._tag === "Ran").map((row) => row.seed), [1, 2, 4, 5])
    }), threaded)

  it.effect("a spent time budget starts no more seeds than the floor", () =>
    Effect.gen(function*() {
      const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
      for (const jobs of [1, 2]) {
        const found = yield* rows({ spec: { researches: 2 }, seeds, jobs, timeBudget: 0, minSeeds: 3 })
        assert.deepStrictEqual(found.map((row) => row.seed), [1, 2, 3], `jobs ${jobs}`)
      }
      const none = yield* rows({ spec: { researches: 2 }, seeds, jobs: 2, timeBudget: 0 })
      assert.deepStrictEqual(none, [])
    }), threaded)

  it.effect("settings that cannot cross a thread are refused", () =>
    Effect.gen(function*() {
      const spec = { researches: 2, invariants: { never: () => ["broken"] } } as unknown as Simulation.SimulationSpec
      const error = yield* Effect.flip(Stream.runDrain(SeedSweep.stream({ spec, seeds: [1], jobs: 2 })))
      assert.strictEqual(error._tag, "InvalidSweepSpec")
      assert.include(error.message, "invariants")
    }))

  it("summarise adds up outcomes, counts seeds with violations, distinct violations and crashes", () => {
    const ran = (seed: number, violations: Array<string>): SeedSweep.SeedRow => ({
      _tag: "Ran",
      seed,
      outcomes: { completed: 3, failed: 1, cancelled: 0, active: 0, notTriggered: 0 },
      violations,
      traceHash: "h",
      spentUsd: 0.25,
      events: 10,
      simulatedSeconds: 100,
      wallMs: 5
    })
    const summary = SeedSweep.summarise(
      [ran(1, []), ran(2, ["a", "b"]), ran(3, ["a"]), { _tag: "Crashed", seed: 4, message: "x", wallMs: 1 }],
      { planned: 6, jobs: 2, wallMs: 2000 }
    )
    assert.deepStrictEqual(summary, {
      seeds: 4,
      notStarted: 2,
      seedsWithViolations: 2,
      crashedSeeds: 1,
      distinctViolations: 2,
      outcomes: { completed: 9, failed: 3, cancelled: 0, active: 0, notTriggered: 0 },
      events: 30,
      spentUsd: 0.75,
      jobs: 2,
      wallMs: 2000,
      seedsPerSecond: 2
    })
  })
})
