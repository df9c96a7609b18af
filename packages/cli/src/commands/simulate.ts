/**
 * `foreman simulate`: a deterministic simulated lab run in memory, with
 * optional faults. Its options are here; the simulator loads only when the
 * command runs (`simulateRun.ts`).
 */
import { Command, Options } from "@effect/cli"
import * as Simulation from "@foreman/adapter-memory/SimulationOptions"
import { Config, Duration, Effect, Either, Option } from "effect"
import { availableParallelism } from "node:os"
import { type CommandFailed, UsageError } from "../Client.js"
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

/** The settings of one simulated run, as `foreman simulate`'s flags give them. */
export interface RunSettings {
  readonly seed: number
  readonly researches: number
  readonly trainingWorkers: number
  readonly backtestWorkers: number
  readonly dailyBudget: number
  readonly faults: Partial<Record<keyof Simulation.Faults, number>>
}

/** The options of `foreman simulate --seed N` (one run), parsed. */
export interface SimulateOptions extends RunSettings {
  readonly json: boolean
}

/** The options of `foreman simulate --seeds …` (a sweep), parsed. */
export interface SweepOptions extends Omit<RunSettings, "seed"> {
  readonly json: boolean
  readonly seeds: ReadonlyArray<number>
  /** `--seeds` as given, for the summary. */
  readonly seedsText: string
  readonly jobs: number
  readonly timeBudget: Option.Option<Duration.Duration>
  /** `--time-budget` as given, for the summary. */
  readonly timeBudgetText: string
  readonly minSeeds: number
}

/** The most seeds one sweep takes. */
export const maxSeeds = 1_000_000

/** Parses `--seeds`: `1..1000`, `1,5,9`, `7`, or a mix (`1..10,20`); whole numbers ≥ 0, each once, in the order given. */
export const parseSeeds = (text: string): Either.Either<ReadonlyArray<number>, string> => {
  const parts = text.split(",").map((part) => part.trim())
  const seeds: Array<number> = []
  const seen = new Set<number>()
  const bad = (why: string) => Either.left(`--seeds: ${why}; e.g. 1..1000, 1,5,9 or 7`)
  if (text.trim() === "") return bad("give at least one seed")
  for (const part of parts) {
    const range = /^(\d+)\s*\.\.\s*(\d+)$/.exec(part)
    const single = /^\d+$/.test(part) ? Number(part) : undefined
    if (range === null && single === undefined) return bad(`"${part}" is neither a seed (a whole number, 0 or more) nor a range A..B`)
    const [from, to] = range === null ? [single!, single!] : [Number(range[1]), Number(range[2])]
    if (to < from) return bad(`the range ${part} runs backwards`)
    if (!Number.isSafeInteger(to)) return bad(`${to} is too large`)
    if (seeds.length + (to - from + 1) > maxSeeds) return bad(`at most ${maxSeeds.toLocaleString("en-US")} seeds in one sweep`)
    for (let seed = from; seed <= to; seed++) {
      if (seen.has(seed)) return bad(`seed ${seed} is given more than once`)
      seen.add(seed)
      seeds.push(seed)
    }
  }
  return Either.right(seeds)
}

/** Parses `--time-budget`: `90s`, `3m`, `1.5h`, `1h30m`, or plain seconds (`180`); more than 0. */
export const parseTimeBudget = (text: string): Either.Either<Duration.Duration, string> => {
  const trimmed = text.trim()
  const units = { s: 1, m: 60, h: 3600 } as const
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)\s*([smh])/g)]
  const seconds = /^\d+(\.\d+)?$/.test(trimmed)
    ? Number(trimmed)
    : parts.length > 0 && parts.map((m) => m[0]).join("") === trimmed.replace(/\s+/g, "")
    ? parts.reduce((sum, m) => sum + Number(m[1]) * units[m[2] as keyof typeof units], 0)
    : undefined
  return seconds === undefined || !(seconds > 0)
    ? Either.left(`--time-budget takes a time such as 90s, 3m, 1h30m or 180 (seconds), more than 0; got "${text}"`)
    : Either.right(Duration.seconds(seconds))
}

/** `jobFailure` → `job-failure`. */
const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/**
 * The command line that replays a run: its seed, and every setting that is not
 * the built-in default (each changes the trace), so the line replays the same
 * run wherever it is pasted.
 */
export const replayCommand = (o: RunSettings): string => {
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

/** A whole number ≥ `min` from `--name`, else the variable `env`; none when neither is set (`fallback` says what then). */
const optionalCount = (name: string, env: string, min: number, description: string, fallback: string) =>
  orVariable(Options.integer(name), name, {
    name: env,
    kind: "an integer",
    read: readInteger,
    check: (n) => (n >= min ? undefined : `${min} or more`)
  }).pipe(Options.withDescription(`${description} (env ${env}; default ${fallback})`))

/** A flag that takes text and is read by `parse` (whose message is a usage error). */
const parsedText = <A>(name: string, parse: (text: string) => Either.Either<A, string>, description: string) =>
  Options.text(name).pipe(
    Options.optional,
    Options.mapEffect(Option.match({
      onNone: () => Effect.succeedNone,
      onSome: (text) => Either.match(parse(text), { onLeft: (m) => Effect.fail(invalid(m)), onRight: Effect.succeedSome })
    })),
    Options.withDescription(description)
  )

const simulateOptions = {
  json,
  seed: optionalCount("seed", "FOREMAN_SIM_SEED", 0, "Random seed; the same seed replays the same run", `${Simulation.defaults.seed}`),
  seeds: parsedText(
    "seeds",
    (text) => Either.map(parseSeeds(text), (seeds) => ({ seeds, text })),
    "Run many seeds (a sweep): 1..1000, 1,5,9 or 7; prints each violation with the command that replays it, then a summary"
  ),
  jobs: optionalCount("jobs", "FOREMAN_SIM_JOBS", 1, "With --seeds: worker threads, 1 runs the seeds in this thread", "the machine's cores"),
  timeBudget: parsedText(
    "time-budget",
    (text) => Either.map(parseTimeBudget(text), (budget) => ({ budget, text: text.trim() })),
    "With --seeds: start no seed once this time is spent (90s, 3m, 1h), but always --min-seeds"
  ),
  minSeeds: optionalCount("min-seeds", "FOREMAN_SIM_MIN_SEEDS", 0, "With --time-budget: seeds that run whatever the time", "0"),
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
}

/** The flags as parsed by @effect/cli, before they are told apart into one run or a sweep. */
export type SimulateFlags = Command.Command.ParseConfig<typeof simulateOptions>

const usage = (message: string) => new UsageError({ message, hints: ["See: foreman simulate --help"] })

/**
 * One run (`--seed`, the default) or a sweep (`--seeds`); flags of the other
 * kind are usage errors rather than silently ignored.
 */
export const plan = (f: SimulateFlags): Either.Either<
  { readonly _tag: "Run"; readonly options: SimulateOptions } | { readonly _tag: "Sweep"; readonly options: SweepOptions },
  UsageError
> => {
  const settings = {
    json: f.json,
    researches: f.researches,
    trainingWorkers: f.trainingWorkers,
    backtestWorkers: f.backtestWorkers,
    dailyBudget: f.dailyBudget,
    faults: f.faults
  }
  if (Option.isNone(f.seeds)) {
    const sweepOnly = [
      ...(Option.isSome(f.jobs) ? ["--jobs"] : []),
      ...(Option.isSome(f.timeBudget) ? ["--time-budget"] : []),
      ...(Option.isSome(f.minSeeds) ? ["--min-seeds"] : [])
    ]
    if (sweepOnly.length > 0) return Either.left(usage(`${sweepOnly.join(", ")}: only with --seeds (a sweep of many seeds)`))
    return Either.right({ _tag: "Run", options: { ...settings, seed: Option.getOrElse(f.seed, () => Simulation.defaults.seed) } })
  }
  if (Option.isSome(f.seed)) {
    return Either.left(usage(
      "--seed (or FOREMAN_SIM_SEED) and --seeds together: give --seed N to replay one run, or --seeds to sweep many"
    ))
  }
  if (Option.isSome(f.minSeeds) && Option.isNone(f.timeBudget)) {
    return Either.left(usage("--min-seeds: only with --time-budget (without one, every seed runs)"))
  }
  return Either.right({
    _tag: "Sweep",
    options: {
      ...settings,
      seeds: f.seeds.value.seeds,
      seedsText: f.seeds.value.text,
      jobs: Option.getOrElse(f.jobs, availableParallelism),
      timeBudget: Option.map(f.timeBudget, (t) => t.budget),
      timeBudgetText: Option.match(f.timeBudget, { onNone: () => "", onSome: (t) => t.text }),
      minSeeds: Option.getOrElse(f.minSeeds, () => 0)
    }
  })
}

export const simulate = Command.make(
  "simulate",
  simulateOptions,
  (flags): Effect.Effect<void, UsageError | CommandFailed> =>
    Either.match(plan(flags), {
      onLeft: Effect.fail,
      onRight: (chosen) =>
        Effect.flatMap(
          lazy(() => import("./simulateRun.js")),
          (run) => (chosen._tag === "Run" ? run.simulate(chosen.options) : run.sweep(chosen.options))
        )
    })
).pipe(Command.withDescription(
  "Run a simulated lab (a day of coordinator time in a second) and print its report; --seeds runs many on all cores"
))
