/**
 * What `foreman simulate` does once its options are parsed: runs the
 * Simulation and prints its report, or sweeps many seeds on worker threads
 * and prints each violation as its seed finishes, then a summary.
 */
import { SeedSweep, Simulation } from "@foreman/adapter-memory"
import { Clock, Console, Effect, Option, Stream } from "effect"
import { CommandFailed } from "../Client.js"
import * as Format from "../Format.js"
import * as SweepFormat from "../SweepFormat.js"
import { replayCommand, type RunSettings, type SimulateOptions, type SweepOptions } from "./simulate.js"

/** How often a sweep prints its progress on stderr. */
const progressEveryMs = 60_000

/** The Simulation's settings that the flags give. */
const specOf = (o: Omit<RunSettings, "seed">): SeedSweep.SweepOptions["spec"] => ({
  researches: o.researches,
  workers: { training: o.trainingWorkers, backtest: o.backtestWorkers },
  dailyBudgetUsd: o.dailyBudget,
  faults: o.faults
})

/** Runs the simulated lab and prints its report (JSON with `json`); invariant violations fail the command. */
export const simulate = (o: SimulateOptions): Effect.Effect<void, CommandFailed> =>
  Effect.gen(function*() {
    const workers = { training: o.trainingWorkers, backtest: o.backtestWorkers }
    const report = yield* Simulation.run({ ...specOf(o), seed: o.seed })
    yield* o.json ? Console.log(JSON.stringify(report, null, 2)) : Console.log(Format.simulation(report, workers, replayCommand(o)))
    if (report.invariantViolations.length > 0) return yield* new CommandFailed({ message: "", hints: [] })
  })

/** The command line of the whole sweep: `foreman simulate --seeds …` and every setting not the default. */
const sweepCommand = (o: SweepOptions): string => {
  const one = replayCommand({ ...o, seed: 0 })
  const timed = Option.match(o.timeBudget, {
    onNone: () => "",
    onSome: () => ` --time-budget ${o.timeBudgetText}${o.minSeeds > 0 ? ` --min-seeds ${o.minSeeds}` : ""}`
  })
  return `foreman simulate --seeds ${o.seedsText}${one.slice("foreman simulate --seed 0".length)}${timed}`
}

/**
 * Runs every seed of `o.seeds` on `o.jobs` threads. Text: each violation (and
 * each crashed seed) as one line with the command that replays its seed, as
 * seeds finish, then the summary. JSON: the summary with every seed's row, by
 * seed. Any violation or crash fails the command (exit 1).
 */
export const sweep = (o: SweepOptions): Effect.Effect<void, CommandFailed> =>
  Effect.gen(function*() {
    const rows: Array<SeedSweep.SeedRow> = []
    const replay = (seed: number) => replayCommand({ ...o, seed })
    const started = yield* Clock.currentTimeMillis
    let reported = started
    let findings = 0
    /** A progress line on stderr once a minute, so that a long sweep shows its rate. */
    const progress = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (now - reported < progressEveryMs) return Effect.void
      reported = now
      return Console.error(SweepFormat.progressLine(rows.length, o.seeds.length, findings, now - started))
    })
    yield* SeedSweep.stream({
      spec: specOf(o),
      seeds: o.seeds,
      jobs: o.jobs,
      minSeeds: o.minSeeds,
      ...Option.match(o.timeBudget, { onNone: () => ({}), onSome: (timeBudget) => ({ timeBudget }) })
    }).pipe(
      Stream.runForEach((row) => {
        rows.push(row)
        const lines = SweepFormat.seedLines(row, replay(row.seed))
        if (lines.length > 0) findings++
        return Effect.zipRight(o.json || lines.length === 0 ? Effect.void : Console.log(lines.join("\n")), progress)
      }),
      Effect.mapError((error) => new CommandFailed({ message: error.message, hints: [] }))
    )
    const wallMs = (yield* Clock.currentTimeMillis) - started
    const summary = SeedSweep.summarise(rows, { planned: o.seeds.length, jobs: o.jobs, wallMs })
    if (o.json) {
      const seeds = [...rows].sort((a, b) => a.seed - b.seed).map((row) =>
        row._tag === "Ran" && row.violations.length === 0 ? row : { ...row, replay: replay(row.seed) }
      )
      yield* Console.log(JSON.stringify({ command: sweepCommand(o), ...summary, rows: seeds }, null, 2))
    } else {
      yield* Console.log(SweepFormat.summary(summary, sweepCommand(o)))
    }
    if (summary.seedsWithViolations + summary.crashedSeeds > 0) return yield* new CommandFailed({ message: "", hints: [] })
  })
