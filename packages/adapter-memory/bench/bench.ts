/**
 * Benchmarks of the in-memory engine, printed as a table:
 * - wall time of one coordinator tick at 10,000 active researches and 1,000
 *   workers (target ≤ 50 ms), against a 100-research baseline in the same run;
 * - simulated research cycles per wall second: 1,000 researches over a
 *   simulated day (target ≤ 10 s), against a 20-research baseline.
 */
import { Coordinator } from "@foreman/core"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { Memory, MemoryWorkers, Simulation } from "../src/index.js"

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Median wall time of a steady tick with `researches` active and `workers` busy workers. */
const tickBench = (researches: number, workers: number) =>
  Effect.gen(function*() {
    const coordinator = yield* Coordinator.Coordinator
    const pool = yield* MemoryWorkers.MemoryWorkers
    for (let i = 0; i < workers; i++) {
      yield* pool.spawn({ id: `w-${String(i).padStart(4, "0")}`, type: i % 2 === 0 ? "training" : "backtest" })
    }
    for (let i = 0; i < researches; i++) yield* coordinator.trigger({ brief: `bench ${i}`, force: true })
    const { tick } = yield* coordinator.manual
    // Designs run in process and finish at once; tick until every worker is busy and the rest wait.
    for (let i = 0; i < 5; i++) {
      yield* tick
      yield* Effect.sleep(Duration.millis(1))
    }
    const times: Array<number> = []
    for (let i = 0; i < 21; i++) {
      const t0 = performance.now()
      yield* tick
      times.push(performance.now() - t0)
    }
    const status = yield* coordinator.status()
    const waiting = status.active.filter((r) => r.waitingFor !== null).length
    return { ms: median(times), waiting, active: status.active.length }
  }).pipe(
    Effect.scoped,
    Effect.provide(Layer.fresh(Memory.layer({
      config: { dailyBudgetUsd: 0 },
      handlers: { training: () => Effect.never, backtest: () => Effect.never }
    })))
  )

const simBench = (input: Simulation.SimulationInput) =>
  Effect.gen(function*() {
    const t0 = performance.now()
    const report = yield* Simulation.run(input)
    const seconds = (performance.now() - t0) / 1000
    return { report, seconds }
  })

const program = Effect.gen(function*() {
  const day = {
    seed: 1,
    arrivalEverySeconds: 86.4,
    workers: { training: 10, backtest: 5 },
    dailyBudgetUsd: 0
  }
  const full = yield* simBench({ ...day, researches: 1_000 })
  const baseline = yield* simBench({ ...day, researches: 20, arrivalEverySeconds: 4320 })
  const small = yield* tickBench(100, 10)
  const large = yield* tickBench(10_000, 1_000)
  const done = (r: Simulation.SimulationReport) => r.outcomes.completed + r.outcomes.failed + r.outcomes.cancelled
  const rows = [
    ["tick, 100 researches / 10 workers (baseline)", `${small.ms.toFixed(2)} ms`, `${small.waiting} waiting`],
    ["tick, 10,000 researches / 1,000 workers", `${large.ms.toFixed(2)} ms`, `${large.waiting} waiting; target <= 50 ms`],
    [
      "simulated day, 20 researches (baseline)",
      `${baseline.seconds.toFixed(2)} s`,
      `${(done(baseline.report) / baseline.seconds).toFixed(0)} cycles/s`
    ],
    [
      "simulated day, 1,000 researches",
      `${full.seconds.toFixed(2)} s`,
      `${(done(full.report) / full.seconds).toFixed(0)} cycles/s, ${done(full.report)} finished, ` +
      `${full.report.invariantViolations.length} violations; target <= 10 s`
    ]
  ]
  for (const [name, value, note] of rows) console.log(`${name!.padEnd(48)} ${value!.padStart(10)}  ${note}`)
})

Effect.runPromise(program.pipe(Logger.withMinimumLogLevel(LogLevel.Warning)))
