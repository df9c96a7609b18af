/**
 * Benchmarks of the in-memory engine, printed as a table; every row measures
 * work done to its end, and a row's target is met only if that work was right
 * (every research completed, no invariant violated, every timed tick started
 * the jobs it had to):
 * - wall time of one coordinator tick at 10,000 active researches and 1,000
 *   workers (target ≤ 50 ms), against a 100-research baseline in the same run;
 *   before each timed tick one training job and one backtest job finish, so the
 *   tick advances both researches and gives each freed worker the next job;
 * - 1,000 researches arriving over a simulated day, 10 training + 5 backtest
 *   workers, no budget limit, served until every one has completed (target
 *   ≤ 10 s), against 20 researches over the same day;
 * - a backlog (a research every 30 s, 3 training + 2 backtest workers, no budget
 *   limit, otherwise the simulation's defaults) served until every research has
 *   completed, at 120, 240, 480 and 1,200 researches: wall time against the 120
 *   run (target: linear, k× the researches in ≤ 1.2·k× the time), and 10,000
 *   researches (target ≤ 60 s); the line grows, so simulated time grows with
 *   the researches (~200 simulated s each: three training workers, 600 s a
 *   training);
 * - simulated events per wall second of the 10,000 run (target ≥ 50,000),
 *   against the 120 run.
 * `node dist/bench.mjs [tick|day|backlog] [largest backlog]` runs one group of
 * rows, the backlog rows up to a smaller size (say 1200) while developing.
 */
import { Coordinator, CoordinatorEvents } from "@foreman/core"
import { Deferred, Effect, Layer, Logger, LogLevel, Queue } from "effect"
import * as Table from "../../../bench/table.js"
import { Memory, MemoryWorkers, Simulation } from "../src/index.js"
import { goodBacktest, goodTraining } from "../src/TestEngine.js"

/** Worker jobs of the tick benchmark wait here, by type, until the driver finishes them. */
const gates: Record<string, Array<Deferred.Deferred<void>>> = { training: [], backtest: [] }

const gated = (type: "training" | "backtest", result: unknown) => () =>
  Effect.gen(function*() {
    const gate = yield* Deferred.make<void>()
    gates[type]!.push(gate)
    yield* Deferred.await(gate)
    return result
  })

/**
 * Median wall time of a tick with `researches` active and `workers` workers
 * (half training, half backtest), every worker busy and the rest waiting for
 * training: before each timed tick the oldest training job and the oldest
 * backtest job (once there is one) finish, so the tick advances those
 * researches, starts the trained one's backtest and the next waiting research's
 * training on the freed workers. `short` counts timed ticks that started fewer
 * than those two jobs.
 */
const tickBench = (researches: number, workers: number) =>
  Effect.gen(function*() {
    gates["training"]!.length = 0
    gates["backtest"]!.length = 0
    const coordinator = yield* Coordinator.Coordinator
    const pool = yield* MemoryWorkers.MemoryWorkers
    const events = yield* CoordinatorEvents.CoordinatorEvents
    const subscription = yield* events.subscribe
    for (let i = 0; i < workers; i++) {
      yield* pool.spawn({ id: `w-${String(i).padStart(4, "0")}`, type: i % 2 === 0 ? "training" : "backtest" })
    }
    for (let i = 0; i < researches; i++) yield* coordinator.trigger({ brief: `bench ${i}`, force: true })
    const { tick } = yield* coordinator.manual
    // Designs run in process and finish at once; tick until every training worker is busy and the rest wait.
    for (let i = 0; i < 5; i++) {
      yield* tick
      yield* Effect.sleep("1 millis")
    }
    const running = (type: string) => gates[type]!.length
    const trainingWorkers = Math.ceil(workers / 2)
    while (running("training") < trainingWorkers) yield* Effect.sleep("1 millis")
    /** Finishes the oldest job of `type`, if any, and waits until its report is stored. */
    const finish = (type: string) =>
      Effect.gen(function*() {
        const gate = gates[type]!.shift()
        if (gate === undefined) return 0
        yield* Deferred.succeed(gate, undefined)
        for (;;) {
          const event = yield* Queue.take(subscription)
          if (event._tag === "JobReported" && event.report === "Completed") return 1
        }
      })
    const times: Array<number> = []
    let short = 0
    for (let i = 0; i < 21; i++) {
      yield* Queue.takeAll(subscription)
      const before = { training: running("training"), backtest: running("backtest") }
      const trained = yield* finish("training")
      const backtested = yield* finish("backtest")
      const t0 = performance.now()
      const summary = yield* tick
      times.push(performance.now() - t0)
      // The freed training worker takes the next waiting research, a backtest worker the trained one.
      const refilled = () =>
        running("training") >= before.training && running("backtest") >= before.backtest - backtested + 1
      for (let wait = 0; wait < 2000 && !refilled(); wait++) yield* Effect.sleep("1 millis")
      if (trained === 0 || summary.started < 2 || !refilled()) short++
    }
    const status = yield* coordinator.status()
    const waiting = status.active.filter((r) => r.waitingFor !== null).length
    return { ms: Table.percentile(times, 50), waiting, active: status.active.length, short }
  }).pipe(
    Effect.scoped,
    Effect.provide(Layer.fresh(Memory.layer({
      config: { dailyBudgetUsd: 0 },
      handlers: { training: gated("training", goodTraining), backtest: gated("backtest", goodBacktest) }
    })))
  )

const simBench = (input: Simulation.SimulationInput) =>
  Effect.gen(function*() {
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    const report = yield* Simulation.run(input)
    const seconds = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    return { report, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 }
  })

/** Every research completed and no invariant was violated: the run did its work, and did it right. */
const allDone = ({ report: r }: { report: Simulation.SimulationReport }) =>
  r.outcomes.completed === r.researches && r.invariantViolations.length === 0

/** What a run did, in words. */
const outcome = ({ report: r }: { report: Simulation.SimulationReport }) => {
  const n = (x: number) => x.toLocaleString("en-US")
  const o = r.outcomes
  const left = o.failed + o.cancelled + o.active + o.notTriggered
  return `${n(o.completed)} of ${n(r.researches)} completed` +
    (left === 0
      ? ""
      : ` (${n(o.failed)} failed, ${n(o.cancelled)} cancelled, ${n(o.active)} active, ${n(o.notTriggered)} never accepted)`) +
    `, ${n(r.refusals.capacity + r.refusals.budget)} refusals, ${(r.simulatedSeconds / 3600).toFixed(1)} h simulated, ` +
    `${r.invariantViolations.length} violations`
}

/** Wall time, and the CPU time beside it (on a shared machine the two part). */
const seconds = (r: { seconds: number; cpuSeconds: number }) => `${r.seconds.toFixed(2)} s (${r.cpuSeconds.toFixed(2)} s CPU)`

/** `node dist/bench.mjs [tick|day|backlog] [largest backlog]`: one group of rows, the backlog up to a size. */
const only = process.argv[2]
const largest = Number(process.argv[3] ?? 10_000)
const runs = (group: string) => only === undefined || only === group

/** Long enough for every run here to finish; a run ends as soon as every research has. */
const untilDone = 365 * 86_400

const program = Effect.gen(function*() {
  Table.begin("In-memory engine and the simulator (packages/adapter-memory)")
  if (runs("tick")) {
    const small = yield* tickBench(100, 10)
    const large = yield* tickBench(10_000, 1_000)
    const ticks = (x: { short: number }) => x.short === 0 ? "every tick started 2 jobs" : `${x.short} ticks short of 2 jobs`
    Table.row({
      measure: "one tick with 2 jobs done, 100 active / 10 workers (baseline)",
      value: Table.ms(small.ms),
      baseline: `${ticks(small)}; ${Table.count(small.waiting)} waiting`
    })
    Table.row({
      measure: "one tick with 2 jobs done, 10,000 active / 1,000 workers",
      value: Table.ms(large.ms),
      target: "≤ 50 ms, both freed workers busy again",
      baseline: `${Table.ratio(large.ms, small.ms)} the 100-active tick; ${ticks(large)}; ${Table.count(large.waiting)} waiting`,
      met: large.ms <= 50 && large.short === 0 && small.short === 0
    })
  }

  if (runs("day")) {
    // Arrivals over one simulated day, no budget limit, served until every research has completed.
    const day = {
      seed: 1,
      arrivalEverySeconds: 86.4,
      workers: { training: 10, backtest: 5 },
      dailyBudgetUsd: 0,
      horizonSeconds: untilDone
    }
    const dayBaseline = yield* simBench({ ...day, researches: 20, arrivalEverySeconds: 4320 })
    const fullDay = yield* simBench({ ...day, researches: 1_000 })
    Table.row({
      measure: "a simulated day's arrivals served to their end, 20 researches (baseline)",
      value: seconds(dayBaseline),
      baseline: outcome(dayBaseline)
    })
    Table.row({
      measure: "a simulated day's arrivals served to their end, 1,000 researches, 10 training + 5 backtest workers",
      value: seconds(fullDay),
      target: "≤ 10 s, every research completed, no violations",
      baseline: `${Table.ratio(fullDay.seconds, dayBaseline.seconds)} the 20-research day; ${outcome(fullDay)}`,
      met: fullDay.seconds <= 10 && allDone(fullDay) && allDone(dayBaseline)
    })
  }

  if (runs("backlog")) {
    // The backlog: a research every 30 s for 3 training + 2 backtest workers, no budget
    // limit, the simulation's defaults otherwise, served until every research has completed: the
    // line grows with the researches, and so does simulated time.
    const backlog = {
      seed: 1,
      arrivalEverySeconds: 30,
      workers: { training: 3, backtest: 2 },
      dailyBudgetUsd: 0,
      horizonSeconds: untilDone
    }
    const b120 = yield* simBench({ ...backlog, researches: 120 })
    Table.row({ measure: "backlog served to its end, 120 researches (baseline)", value: seconds(b120), baseline: outcome(b120) })
    for (const n of [240, 480, 1_200].filter((n) => n <= largest)) {
      const run = yield* simBench({ ...backlog, researches: n })
      const k = n / 120
      Table.row({
        measure: `backlog served to its end, ${n.toLocaleString("en-US")} researches`,
        value: seconds(run),
        target: `≤ ${(1.2 * k).toFixed(1)}× the 120 run (${k}× the researches), every research completed, no violations`,
        baseline: `${Table.ratio(run.seconds, b120.seconds)} the 120 run; ${outcome(run)}`,
        met: run.seconds <= 1.2 * k * b120.seconds && allDone(run) && allDone(b120)
      })
    }
    const top = largest >= 10_000 ? 10_000 : largest
    if (top > 1_200) {
      const big = yield* simBench({ ...backlog, researches: top })
      Table.row({
        measure: `backlog served to its end, ${top.toLocaleString("en-US")} researches`,
        value: seconds(big),
        target: "≤ 60 s, every research completed, no violations",
        baseline: `${Table.ratio(big.seconds, b120.seconds)} the 120 run; ${outcome(big)}`,
        met: big.seconds <= 60 && allDone(big)
      })
      const rate = (r: { report: Simulation.SimulationReport; seconds: number }) => r.report.events / r.seconds
      Table.row({
        measure: `simulated events (coordinator events) per wall second, the ${top.toLocaleString("en-US")} backlog`,
        value: Table.count(rate(big)),
        target: "≥ 50,000, every research completed, no violations",
        baseline: `${Table.count(rate(b120))}/s in the 120 run; ${Table.count(big.report.events)} events`,
        met: rate(big) >= 50_000 && allDone(big)
      })
    }
  }
})

Effect.runPromise(program.pipe(Logger.withMinimumLogLevel(LogLevel.Warning)))
