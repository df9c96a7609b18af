/** What `foreman simulate` does once its options are parsed: runs the Simulation and prints its report. */
import { Simulation } from "@foreman/adapter-memory"
import { Console, Effect } from "effect"
import { CommandFailed } from "../Client.js"
import * as Format from "../Format.js"
import { replayCommand, type SimulateOptions } from "./simulate.js"

/** Runs the simulated lab and prints its report (JSON with `json`); invariant violations fail the command. */
export const simulate = (o: SimulateOptions): Effect.Effect<void, CommandFailed> =>
  Effect.gen(function*() {
    const workers = { training: o.trainingWorkers, backtest: o.backtestWorkers }
    const report = yield* Simulation.run({
      seed: o.seed,
      researches: o.researches,
      workers,
      dailyBudgetUsd: o.dailyBudget,
      faults: o.faults
    })
    yield* o.json ? Console.log(JSON.stringify(report, null, 2)) : Console.log(Format.simulation(report, workers, replayCommand(o)))
    if (report.invariantViolations.length > 0) return yield* new CommandFailed({ message: "", hints: [] })
  })
