/**
 * `foreman simulate`: a deterministic simulated lab run in memory, with
 * optional faults. Its options are here; the simulator loads only when the
 * command runs (`simulateRun.ts`).
 */
import { Command, Options } from "@effect/cli"
import * as Simulation from "@foreman/adapter-memory/SimulationOptions"
import { Config, Effect, Option } from "effect"
import { invalid, json, lazy, orVariable, parseDecimal, parsePairs, readInteger, readNumber } from "../internal/shared.js"

/** `--faults` keys (kebab-case or the option's own name) → the Simulation's fault options. */
export const faultKeys: Readonly<Record<string, keyof Simulation.Faults>> = {
  "job-failure": "jobFailure",
  "worker-crash": "workerCrash",
  "coordinator-restart": "coordinatorRestart",
  "dispatch-failure": "dispatchFailure",
  cancel: "cancel",
  jobFailure: "jobFailure",
  workerCrash: "workerCrash",
  coordinatorRestart: "coordinatorRestart",
  dispatchFailure: "dispatchFailure"
}

/** Parses `job-failure=0.1,worker-crash=0.05`: known keys, each once, probabilities 0–1. */
export const parseFaults = (text: string) =>
  Effect.flatMap(parsePairs(text, "--faults"), (pairs) =>
    Effect.reduce(pairs, {} as Partial<Record<keyof Simulation.Faults, number>>, (faults, [key, raw]) => {
      const name = faultKeys[key]
      if (name === undefined) {
        return Effect.fail(invalid(
          `--faults: unknown fault "${key}"; known: job-failure, worker-crash, coordinator-restart, dispatch-failure, cancel`
        ))
      }
      if (faults[name] !== undefined) return Effect.fail(invalid(`--faults: ${key} is given more than once`))
      const value = parseDecimal(raw)
      if (value === undefined || value > 1) {
        return Effect.fail(invalid(`--faults: ${key} must be a probability from 0 to 1, got "${raw}"`))
      }
      return Effect.succeed({ ...faults, [name]: value })
    }))

/** A finite number ≥ 0 from `--name`, else the variable `env` (read as `kind` by `read`), else `fallback`. */
const nonNegative = (
  option: Options.Options<number>,
  name: string,
  env: { readonly name: string; readonly kind: string; readonly read: (text: string) => number | undefined },
  fallback: number,
  description: string
) =>
  orVariable(option, name, { ...env, check: (n) => (Number.isFinite(n) && n >= 0 ? undefined : "0 or more") }).pipe(
    Options.map(Option.getOrElse(() => fallback)),
    Options.withDescription(description)
  )

const count = (name: string, env: string, fallback: number, description: string) =>
  nonNegative(
    Options.integer(name),
    name,
    { name: env, kind: "an integer", read: readInteger },
    fallback,
    `${description} (env ${env}; default ${fallback})`
  )

/** The options of `foreman simulate`, parsed. */
export interface SimulateOptions {
  readonly json: boolean
  readonly seed: number
  readonly researches: number
  readonly trainingWorkers: number
  readonly backtestWorkers: number
  readonly dailyBudget: number
  readonly faults: Partial<Record<keyof Simulation.Faults, number>>
}

/** `jobFailure` → `job-failure`. */
const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/**
 * The command line that replays a run: its seed, and every setting that is not
 * the built-in default (each changes the trace), so the line replays the same
 * run wherever it is pasted.
 */
export const replayCommand = (o: Omit<SimulateOptions, "json">): string => {
  const d = Simulation.defaults
  const faults = Object.entries(o.faults).map(([name, p]) => `${kebab(name)}=${p}`)
  return [
    `foreman simulate --seed ${o.seed}`,
    ...(o.researches === d.researches ? [] : [`--researches ${o.researches}`]),
    ...(o.trainingWorkers === d.workers.training ? [] : [`--training-workers ${o.trainingWorkers}`]),
    ...(o.backtestWorkers === d.workers.backtest ? [] : [`--backtest-workers ${o.backtestWorkers}`]),
    ...(o.dailyBudget === d.dailyBudgetUsd ? [] : [`--daily-budget ${o.dailyBudget}`]),
    ...(faults.length === 0 ? [] : [`--faults ${faults.join(",")}`])
  ].join(" ")
}

export const simulate = Command.make(
  "simulate",
  {
    json,
    seed: count("seed", "FOREMAN_SIM_SEED", Simulation.defaults.seed, "Random seed; the same seed replays the same run"),
    researches: count("researches", "FOREMAN_SIM_RESEARCHES", Simulation.defaults.researches, "Researches the operator triggers"),
    trainingWorkers: count(
      "training-workers",
      "FOREMAN_SIM_TRAINING_WORKERS",
      Simulation.defaults.workers.training,
      "Simulated training workers"
    ),
    backtestWorkers: count(
      "backtest-workers",
      "FOREMAN_SIM_BACKTEST_WORKERS",
      Simulation.defaults.workers.backtest,
      "Simulated backtest workers"
    ),
    dailyBudget: nonNegative(
      Options.float("daily-budget"),
      "daily-budget",
      { name: "FOREMAN_SIM_DAILY_BUDGET", kind: "a number", read: readNumber },
      Simulation.defaults.dailyBudgetUsd,
      `Daily LLM budget in USD, 0 = unlimited (env FOREMAN_SIM_DAILY_BUDGET; default ${Simulation.defaults.dailyBudgetUsd})`
    ),
    faults: Options.text("faults").pipe(
      Options.withFallbackConfig(Config.string("FOREMAN_SIM_FAULTS")),
      Options.optional,
      Options.mapEffect(Option.match({ onNone: () => Effect.succeed({}), onSome: parseFaults })),
      Options.withDescription(
        "Fault probabilities, e.g. job-failure=0.1,worker-crash=0.05,coordinator-restart=0.2,dispatch-failure=0.05,cancel=0.1 " +
          "(env FOREMAN_SIM_FAULTS)"
      )
    )
  },
  (o) => Effect.flatMap(lazy(() => import("./simulateRun.js")), (run) => run.simulate(o))
).pipe(Command.withDescription("Run a simulated lab (a day of coordinator time in a second) and print its report"))
