/**
 * The settings of a `Simulation` run and their defaults, in a module of their
 * own so that a caller can read them (the CLI's option descriptions) without
 * loading the simulator. `Simulation` re-exports everything here. The settings
 * that are data have a Schema (`SimulationSpec`), so settings read from outside
 * (a file, flags, a database) are checked with clear messages.
 */
import type { CoordinatorEvents, Domain, Pipeline } from "@foreman/core"
import { Either, type Effect, ParseResult, Schema } from "effect"
import { ArrivalProcess, JobModel, LlmCostModel } from "./SimulationModels.js"

export * from "./SimulationModels.js"

export interface Faults {
  /** Probability that a worker job fails by itself. */
  readonly jobFailure: number
  /** Probability that a worker crashes while running a job (it comes back after `workerDowntimeSeconds`). */
  readonly workerCrash: number
  /** Probability, every 10 simulated minutes, that the coordinator is killed and restarted. */
  readonly coordinatorRestart: number
  /**
   * Probability that one dispatch to a worker fails as if the network dropped
   * it: no answer, so the attempt counts and the worker is out of the rotation
   * until its next heartbeat.
   */
  readonly dispatchFailure: number
  /** Probability that the operator cancels an accepted research within its first hour. */
  readonly cancel: number
}

/** What a user invariant sees after each step of a run. */
export interface SimulationWorld {
  /** The simulated time, in milliseconds since the epoch (runs start at 2026-01-01T00:00:00Z). */
  readonly now: number
  /** Every research triggered so far, newest first. */
  readonly researches: ReadonlyArray<Domain.Research>
  readonly workers: ReadonlyArray<Domain.Worker>
  /** The coordinator's events of this step. */
  readonly events: ReadonlyArray<CoordinatorEvents.CoordinatorEvent>
}

/**
 * A user's invariant: a function of the world after each step, answering the
 * violations it sees (none when it holds). A run reports each distinct
 * violation once, prefixed with the invariant's name.
 */
export type Invariant = (world: SimulationWorld) => ReadonlyArray<string>

/** The result a simulated worker reports for a job of a kind the simulator does not know. */
export type JobResult = (spec: Domain.JobSpec) => Effect.Effect<unknown>

/** Worker counts by type; `training` and `backtest` are always there (0 when a pipeline has none). */
export type WorkerCounts = { readonly training: number; readonly backtest: number } & Readonly<Record<string, number>>

export interface SimulationOptions {
  readonly seed: number
  readonly researches: number
  /** The gap between arrivals when `arrivals` is not given (a constant rate). */
  readonly arrivalEverySeconds: number
  /** When researches arrive; by default one every `arrivalEverySeconds`. Drawn from its own stream of the seed. */
  readonly arrivals: ArrivalProcess
  /**
   * The pipeline the coordinator runs (`Pipeline.research` when absent). Its
   * worker phases run on simulated workers of their type; its in-process
   * phases on the offline agents.
   */
  readonly pipeline?: Pipeline.PipelineShape
  /** Workers by type: by default 2 training and 1 backtest, and 1 of each other type the pipeline uses. */
  readonly workers: WorkerCounts
  readonly phaseSeconds: {
    readonly design: number
    readonly training: number
    readonly backtest: number
    readonly assessment: number
  }
  readonly faults: Faults
  /**
   * By job kind: its duration model (by default a training or backtest job
   * takes 80–120 % of `phaseSeconds`, a design or an assessment
   * `phaseSeconds`; a worker job of another kind needs one), and its own
   * failure and crash rates.
   */
  readonly jobs: Readonly<Record<string, JobModel>>
  /** What one LLM call costs; by default the offline agents' simulated tokens at Sonnet-class prices. */
  readonly llmCost?: LlmCostModel
  /**
   * Results of worker jobs by kind: `{}` for a kind without one, plausible
   * metrics drawn at random for training and backtest unless given here.
   */
  readonly results: Readonly<Record<string, JobResult>>
  /** The user's invariants by name, checked after every step beside the built-in ones. */
  readonly invariants: Readonly<Record<string, Invariant>>
  /** 0 means unlimited. */
  readonly dailyBudgetUsd: number
  readonly horizonSeconds: number
  /**
   * When in its UTC day the run starts, in seconds after midnight (0 by
   * default): a replay of a window that began at 14:00 starts at 14:00, so its
   * budget days end when the lab's did.
   */
  readonly startOfDaySeconds: number
  readonly pollIntervalSeconds: number
  /**
   * How often the simulated workers heartbeat (the engine's default, 10 s,
   * when absent); a worker is offline after three missed beats. A push
   * worker's beats cost nothing (the memory store applies them when it is
   * read: `MemoryWorkerStore.Pulses`); a pull worker's each wake it.
   */
  readonly heartbeatIntervalSeconds?: number
  /** How long the head of the operator's line waits before trying a refused trigger again. */
  readonly retryTriggerEverySeconds: number
  readonly workerDowntimeSeconds: number
  /** 0 derives the limit from the workers. */
  readonly maxConcurrentResearches: number
  /**
   * How the simulated workers get their jobs: `push` (sent to them; the default,
   * whose traces earlier runs replay) or `pull` (they poll, as
   * docs/worker-protocol.md describes).
   */
  readonly workerProtocol: "push" | "pull"
}

export type SimulationInput = Partial<Omit<SimulationOptions, "workers" | "phaseSeconds" | "faults">> & {
  readonly workers?: Readonly<Record<string, number>>
  readonly phaseSeconds?: Partial<SimulationOptions["phaseSeconds"]>
  readonly faults?: Partial<Faults>
}

/** The settings of a run that is given none. */
export const defaults: SimulationOptions = {
  seed: 1,
  researches: 20,
  arrivalEverySeconds: 120,
  arrivals: { _tag: "Constant", everySeconds: 120 },
  workers: { training: 2, backtest: 1 },
  phaseSeconds: { design: 30, training: 600, backtest: 300, assessment: 20 },
  faults: { jobFailure: 0, workerCrash: 0, coordinatorRestart: 0, dispatchFailure: 0, cancel: 0 },
  jobs: {},
  results: {},
  invariants: {},
  dailyBudgetUsd: 5,
  horizonSeconds: 86_400,
  startOfDaySeconds: 0,
  pollIntervalSeconds: 2,
  retryTriggerEverySeconds: 60,
  workerDowntimeSeconds: 120,
  maxConcurrentResearches: 0,
  workerProtocol: "push"
}

/** The worker types a pipeline dispatches to, in the order of its phases. */
const workerTypesOf = (pipeline: Pipeline.PipelineShape): ReadonlyArray<string> => [
  ...new Set(Object.values(pipeline.phases).flatMap((d) => (d.runner._tag === "Worker" ? [d.runner.workerType] : [])))
]

/**
 * The workers of a run: the defaults and then the types given; with a custom
 * pipeline, only the types it uses or that are given, 1 of each by default.
 */
const workersOf = (input: SimulationInput): WorkerCounts => {
  if (input.pipeline === undefined) return { ...defaults.workers, ...input.workers }
  const counts: Record<string, number> = {}
  for (const type of workerTypesOf(input.pipeline)) {
    counts[type] = input.workers?.[type] ?? (defaults.workers as Record<string, number>)[type] ?? 1
  }
  return { training: 0, backtest: 0, ...counts, ...input.workers }
}

/** `input` completed from `defaults` (nested settings key by key). */
export const withDefaults = (input: SimulationInput = {}): SimulationOptions => ({
  ...defaults,
  ...input,
  arrivals: input.arrivals ??
    { _tag: "Constant", everySeconds: input.arrivalEverySeconds ?? defaults.arrivalEverySeconds },
  researches: input.researches ??
    (input.arrivals?._tag === "Recorded" ? input.arrivals.atSeconds.length : defaults.researches),
  workers: workersOf(input),
  phaseSeconds: { ...defaults.phaseSeconds, ...input.phaseSeconds },
  faults: { ...defaults.faults, ...input.faults }
})

const Seconds = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())
const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
const Probability = Schema.Number.pipe(Schema.between(0, 1))

/** The settings that are data, every one optional, as they may come from outside (JSON, flags). */
export const SimulationSpec = Schema.Struct({
  seed: Schema.optionalWith(Schema.Number.pipe(Schema.int()), { exact: true }),
  researches: Schema.optionalWith(Count, { exact: true }),
  arrivalEverySeconds: Schema.optionalWith(Seconds, { exact: true }),
  arrivals: Schema.optionalWith(ArrivalProcess, { exact: true }),
  workers: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Count }), { exact: true }),
  phaseSeconds: Schema.optionalWith(
    Schema.partialWith(Schema.Struct({ design: Seconds, training: Seconds, backtest: Seconds, assessment: Seconds }), {
      exact: true
    }),
    { exact: true }
  ),
  faults: Schema.optionalWith(
    Schema.partialWith(
      Schema.Struct({
        jobFailure: Probability,
        workerCrash: Probability,
        coordinatorRestart: Probability,
        dispatchFailure: Probability,
        cancel: Probability
      }),
      { exact: true }
    ),
    { exact: true }
  ),
  jobs: Schema.optionalWith(Schema.Record({ key: Schema.String, value: JobModel }), { exact: true }),
  llmCost: Schema.optionalWith(LlmCostModel, { exact: true }),
  dailyBudgetUsd: Schema.optionalWith(Seconds, { exact: true }),
  horizonSeconds: Schema.optionalWith(Seconds, { exact: true }),
  startOfDaySeconds: Schema.optionalWith(Seconds.pipe(Schema.lessThan(86_400)), { exact: true }),
  pollIntervalSeconds: Schema.optionalWith(Seconds.pipe(Schema.positive()), { exact: true }),
  heartbeatIntervalSeconds: Schema.optionalWith(Seconds.pipe(Schema.positive()), { exact: true }),
  retryTriggerEverySeconds: Schema.optionalWith(Seconds.pipe(Schema.positive()), { exact: true }),
  workerDowntimeSeconds: Schema.optionalWith(Seconds, { exact: true }),
  maxConcurrentResearches: Schema.optionalWith(Count, { exact: true }),
  workerProtocol: Schema.optionalWith(Schema.Literal("push", "pull"), { exact: true })
})
export type SimulationSpec = typeof SimulationSpec.Type

const formatIssues = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ")

/** What the Schema cannot say: settings that disagree with each other. */
const crossChecks = (input: SimulationInput): ReadonlyArray<string> => {
  const o = withDefaults(input)
  const problems: Array<string> = []
  if (o.arrivals._tag === "Recorded" && o.arrivals.atSeconds.length < o.researches) {
    problems.push(`arrivals: ${o.arrivals.atSeconds.length} recorded arrival times for ${o.researches} researches`)
  }
  if (o.pipeline !== undefined) {
    const known = new Set(["training", "backtest"])
    for (const d of Object.values(o.pipeline.phases)) {
      if (d.runner._tag === "Worker" && !known.has(d.kind) && o.jobs[d.kind]?.duration === undefined) {
        problems.push(`jobs.${d.kind}.duration: the pipeline runs ${d.kind} jobs on workers; say how long they take`)
      }
    }
  }
  return problems
}

/**
 * Checks settings from outside: the data settings against `SimulationSpec`, and
 * those that must agree with each other (recorded arrivals for every research,
 * a duration for each worker job kind of a custom pipeline). Answers the
 * settings, or one line naming every problem.
 */
export const decodeInput = (input: unknown): Either.Either<SimulationInput, string> =>
  Either.flatMap(
    Either.mapLeft(Schema.decodeUnknownEither(SimulationSpec)(input), formatIssues),
    (spec) => {
      const full = { ...(input as SimulationInput), ...spec }
      const problems = crossChecks(full)
      return problems.length === 0 ? Either.right(full) : Either.left(problems.join("; "))
    }
  )
