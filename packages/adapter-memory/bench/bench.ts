/**
 * Benchmarks of the in-memory engine, printed as a table:
 * - wall time of one coordinator tick at 10,000 active researches and 1,000
 *   workers (target ≤ 50 ms), against a 100-research baseline in the same run;
 * - simulated research cycles per wall second: 1,000 researches over a
 *   simulated day (target ≤ 10 s), against a 20-research baseline;
 * - simulation with a backlog (a research every 30 s, 3 training + 2 backtest
 *   workers, otherwise the simulation's defaults) at 120, 240, 480 and 1,200
 *   researches: wall time against the 120 run (target: linear, k× the
 *   researches in ≤ 1.2·k× the time), and 10,000 researches (target ≤ 60 s);
 * - simulated events per wall second of the 10,000 run (target ≥ 50,000),
 *   against the 120 run.
 * With the defaults ($5 a day, a one-day horizon) the runs from 240 researches
 * up end at the horizon, so their time is that of one simulated day; a run
 * costs in proportion to simulated time (the workers' heartbeats; in memory
 * the coordinator does not poll) plus the researches, whatever the length of the line.
 */
import { Coordinator } from "@foreman/core"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import * as Table from "../../../bench/table.js"
import { Memory, MemoryWorkers, Simulation } from "../src/index.js"

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
    return { ms: Table.percentile(times, 50), waiting, active: status.active.length }
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

const done = (r: Simulation.SimulationReport) => r.outcomes.completed + r.outcomes.failed + r.outcomes.cancelled

/** What a run did, in words. */
const outcome = ({ report: r }: { report: Simulation.SimulationReport }) =>
  `${done(r).toLocaleString("en-US")} finished, ${r.outcomes.notTriggered.toLocaleString("en-US")} never accepted, ` +
  `${(r.refusals.capacity + r.refusals.budget).toLocaleString("en-US")} refusals, ` +
  `${(r.simulatedSeconds / 3600).toFixed(1)} h simulated, ${r.invariantViolations.length} violations`

const seconds = (r: { seconds: number }) => `${r.seconds.toFixed(2)} s`

const program = Effect.gen(function*() {
  Table.begin("In-memory engine and the simulator (packages/adapter-memory)")
  const small = yield* tickBench(100, 10)
  const large = yield* tickBench(10_000, 1_000)
  Table.row({ measure: "one tick, 100 active / 10 workers (baseline)", value: Table.ms(small.ms) })
  Table.row({
    measure: "one tick, 10,000 active / 1,000 workers",
    value: Table.ms(large.ms),
    target: "≤ 50 ms",
    baseline: `${Table.ratio(large.ms, small.ms)} the 100-active tick; ${Table.count(large.waiting)} waiting`,
    met: large.ms <= 50
  })

  const day = { seed: 1, arrivalEverySeconds: 86.4, workers: { training: 10, backtest: 5 }, dailyBudgetUsd: 0 }
  const dayBaseline = yield* simBench({ ...day, researches: 20, arrivalEverySeconds: 4320 })
  const fullDay = yield* simBench({ ...day, researches: 1_000 })
  Table.row({ measure: "simulated day, 20 researches (baseline)", value: seconds(dayBaseline), baseline: outcome(dayBaseline) })
  Table.row({
    measure: "simulated day, 1,000 researches, 10 training + 5 backtest workers",
    value: seconds(fullDay),
    target: "≤ 10 s",
    baseline: `${Table.ratio(fullDay.seconds, dayBaseline.seconds)} the 20-research day; ${outcome(fullDay)}`,
    met: fullDay.seconds <= 10
  })

  // The backlog: a research every 30 s for 3 training + 2 backtest workers, the
  // simulation's defaults otherwise ($5 a day, one simulated day).
  const backlog = { seed: 1, arrivalEverySeconds: 30, workers: { training: 3, backtest: 2 } }
  const b120 = yield* simBench({ ...backlog, researches: 120 })
  Table.row({ measure: "backlog, 120 researches (baseline)", value: seconds(b120), baseline: outcome(b120) })
  for (const n of [240, 480, 1_200]) {
    const run = yield* simBench({ ...backlog, researches: n })
    const k = n / 120
    Table.row({
      measure: `backlog, ${n.toLocaleString("en-US")} researches`,
      value: seconds(run),
      target: `≤ ${(1.2 * k).toFixed(1)}× the 120 run (${k}× the researches)`,
      baseline: `${Table.ratio(run.seconds, b120.seconds)} the 120 run; ${outcome(run)}`,
      met: run.seconds <= 1.2 * k * b120.seconds
    })
  }
  const b10k = yield* simBench({ ...backlog, researches: 10_000 })
  Table.row({
    measure: "backlog, 10,000 researches",
    value: seconds(b10k),
    target: "≤ 60 s",
    baseline: `${Table.ratio(b10k.seconds, b120.seconds)} the 120 run; ${outcome(b10k)}`,
    met: b10k.seconds <= 60
  })
  // The same backlog with no budget limit, until every research has finished: the
  // line is served to its end, so simulated time grows with the researches.
  const endless = { ...backlog, dailyBudgetUsd: 0, horizonSeconds: 60 * 86_400 }
  const u120 = yield* simBench({ ...endless, researches: 120 })
  const u1200 = yield* simBench({ ...endless, researches: 1_200 })
  Table.row({ measure: "backlog served to its end, 120 researches, no budget limit (baseline)", value: seconds(u120), baseline: outcome(u120) })
  Table.row({
    measure: "backlog served to its end, 1,200 researches, no budget limit",
    value: seconds(u1200),
    target: "≤ 12× the 120 run",
    baseline: `${Table.ratio(u1200.seconds, u120.seconds)} the 120 run; ${outcome(u1200)}`,
    met: u1200.seconds <= 12 * u120.seconds
  })

  const rate = (r: { report: Simulation.SimulationReport; seconds: number }) => r.report.events / r.seconds
  Table.row({
    measure: "simulated events (coordinator events) per wall second, 1,200 served to its end",
    value: Table.count(rate(u1200)),
    target: "≥ 50,000",
    baseline: `${Table.count(rate(u120))}/s in the 120 run; ${Table.count(u1200.report.events)} events`,
    met: rate(u1200) >= 50_000
  })
})

Effect.runPromise(program.pipe(Logger.withMinimumLogLevel(LogLevel.Warning)))
