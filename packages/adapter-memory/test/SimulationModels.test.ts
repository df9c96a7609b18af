/**
 * The simulation's models: each arrival process and duration model replays
 * from its seed and draws what its distribution says, within tolerance over
 * many samples; settings from outside are checked with clear messages.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Random } from "effect"
import { Simulation } from "../src/index.js"

const { Arrivals, Durations, LlmCosts } = Simulation

const seeded = <A>(seed: number, effect: Effect.Effect<A>) => Effect.withRandom(effect, Random.make(seed))

const draws = (model: Simulation.DurationModel, n: number, seed = 1) =>
  seeded(seed, Effect.replicateEffect(Simulation.sampleDuration(model), n))

const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return (sorted[Math.floor((sorted.length - 1) / 2)]! + sorted[Math.ceil((sorted.length - 1) / 2)]!) / 2
}

describe("arrival processes", () => {
  it.effect("constant: one every interval from the start, no randomness", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* seeded(1, Simulation.arrivalTimes(Arrivals.constant(90), 4)), [0, 90, 180, 270])
    }))

  it.effect("poisson: replays from its seed; the mean gap is 3600 / perHour", () =>
    Effect.gen(function*() {
      const process = Arrivals.poisson(30)
      const times = yield* seeded(7, Simulation.arrivalTimes(process, 20_000))
      assert.deepStrictEqual(yield* seeded(7, Simulation.arrivalTimes(process, 20_000)), times)
      assert.notDeepEqual(yield* seeded(8, Simulation.arrivalTimes(process, 20_000)), times)
      const gaps = times.map((t, i) => t - (i === 0 ? 0 : times[i - 1]!))
      assert.isTrue(gaps.every((g) => g >= 0))
      assert.closeTo(mean(gaps), 120, 120 * 0.03)
      // Exponential gaps: their median is the mean times ln 2.
      assert.closeTo(median(gaps), 120 * Math.LN2, 120 * 0.04)
    }))

  it.effect("recorded: the times as recorded, the first `count` of them", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* seeded(1, Simulation.arrivalTimes(Arrivals.recorded([0, 5, 5, 600]), 3)), [0, 5, 5])
    }))
})

describe("duration models", () => {
  it.effect("constant", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* draws(Durations.constant(42), 3), [42, 42, 42])
      assert.strictEqual(Simulation.meanSeconds(Durations.constant(42)), 42)
    }))

  it.effect("uniform: within its bounds, mean in the middle", () =>
    Effect.gen(function*() {
      const xs = yield* draws(Durations.uniform(100, 300), 10_000)
      assert.isTrue(xs.every((x) => x >= 100 && x < 300))
      assert.closeTo(mean(xs), 200, 4)
    }))

  it.effect("lognormal: replays from its seed; median and mean as the parameters say", () =>
    Effect.gen(function*() {
      const model = Durations.lognormal(600, 0.5)
      const xs = yield* draws(model, 20_000, 3)
      assert.deepStrictEqual(yield* draws(model, 20_000, 3), xs)
      assert.isTrue(xs.every((x) => x > 0))
      assert.closeTo(median(xs), 600, 600 * 0.03)
      assert.closeTo(mean(xs), Simulation.meanSeconds(model), Simulation.meanSeconds(model) * 0.03)
      assert.closeTo(Simulation.meanSeconds(model), 600 * Math.exp(0.125), 1e-9)
    }))

  it.effect("fitLogNormal recovers the parameters of lognormal samples", () =>
    Effect.gen(function*() {
      const fitted = Simulation.fitLogNormal(yield* draws(Durations.lognormal(300, 0.8), 20_000, 5))
      assert.strictEqual(fitted._tag, "LogNormal")
      if (fitted._tag !== "LogNormal") return
      assert.closeTo(fitted.medianSeconds, 300, 300 * 0.03)
      assert.closeTo(fitted.sigma, 0.8, 0.02)
    }))

  it.effect("empirical: only recorded durations, each about equally often", () =>
    Effect.gen(function*() {
      const recorded = [10, 20, 30, 40]
      const xs = yield* draws(Durations.empirical(recorded), 8000, 11)
      assert.deepStrictEqual(yield* draws(Durations.empirical(recorded), 8000, 11), xs)
      for (const d of recorded) assert.closeTo(xs.filter((x) => x === d).length / xs.length, 0.25, 0.025)
      assert.strictEqual(xs.filter((x) => !recorded.includes(x)).length, 0)
      assert.strictEqual(Simulation.meanSeconds(Durations.empirical(recorded)), 25)
    }))
})

describe("LLM costs", () => {
  it.effect("fixed, or one of the recorded costs", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* seeded(1, Simulation.sampleCost(LlmCosts.fixed(0.02))), 0.02)
      const xs = yield* seeded(1, Effect.replicateEffect(Simulation.sampleCost(LlmCosts.recorded([0.01, 0.05])), 1000))
      assert.deepStrictEqual([...new Set(xs)].sort(), [0.01, 0.05])
    }))
})

describe("settings from outside", () => {
  const problem = (input: unknown) => Either.match(Simulation.decodeInput(input), { onLeft: (e) => e, onRight: () => "" })

  it("decodes JSON settings", () => {
    const input = {
      seed: 3,
      workers: { training: 3, labelling: 2 },
      arrivals: { _tag: "Poisson", perHour: 12 },
      jobs: { training: { duration: { _tag: "LogNormal", medianSeconds: 500, sigma: 0.4 }, failureRate: 0.1 } },
      llmCost: { _tag: "Recorded", usd: [0.01, 0.03] }
    }
    assert.deepStrictEqual(Simulation.decodeInput(input), Either.right(input as Simulation.SimulationInput))
  })

  it("names each problem with its path", () => {
    assert.include(problem({ arrivals: { _tag: "Poisson", perHour: 0 } }), "arrivals.perHour")
    assert.include(problem({ faults: { jobFailure: 2 } }), "faults.jobFailure")
    assert.include(problem({ workers: { training: -1 } }), "workers.training")
    assert.include(problem({ jobs: { training: { duration: { _tag: "Lognormal" } } } }), "jobs.training.duration")
    assert.include(problem({ arrivals: { _tag: "Recorded", atSeconds: [5, 1] } }), "arrival times must be in increasing order")
    assert.include(problem({ jobs: { x: { duration: { _tag: "Uniform", minSeconds: 5, maxSeconds: 1 } } } }), "minSeconds")
    assert.strictEqual(
      problem({ researches: 3, arrivals: { _tag: "Recorded", atSeconds: [0, 10] } }),
      "arrivals: 2 recorded arrival times for 3 researches"
    )
  })

  it.effect("a run with bad settings dies saying why", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Simulation.run({ faults: { cancel: 1.5 } }))
      assert.isTrue(exit._tag === "Failure")
      assert.include(String(exit), "faults.cancel")
    }))
})
