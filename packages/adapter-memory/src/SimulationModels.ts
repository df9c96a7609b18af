/**
 * The stochastic models a `Simulation` draws from: when researches arrive, how
 * long a job of each kind takes, and what an LLM call costs. Each model is plain
 * data with a Schema (so it can come from a file, a database or the CLI and be
 * checked), and each is sampled from Effect's `Random`: in a run the seeded
 * generator of the run, so every draw replays from its seed.
 */
import { Effect, Random, Schema } from "effect"

const Seconds = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())
const Positive = Schema.Number.pipe(Schema.finite(), Schema.positive())
const Samples = Schema.Array(Seconds).pipe(Schema.minItems(1))

/** A research every `everySeconds`, the first at the start. */
export const ConstantArrivals = Schema.TaggedStruct("Constant", { everySeconds: Seconds })
/** A Poisson process: exponential gaps with mean `3600 / perHour` seconds, the first after one gap. */
export const PoissonArrivals = Schema.TaggedStruct("Poisson", { perHour: Positive })
/** Recorded arrival times, in seconds from the start of the simulation, in order. */
export const RecordedArrivals = Schema.TaggedStruct("Recorded", {
  atSeconds: Samples.pipe(
    Schema.filter((at) => at.every((t, i) => i === 0 || t >= at[i - 1]!) || "arrival times must be in increasing order")
  )
})
export const ArrivalProcess = Schema.Union(ConstantArrivals, PoissonArrivals, RecordedArrivals)
export type ArrivalProcess = typeof ArrivalProcess.Type

/** Every job takes `seconds`. */
export const ConstantDuration = Schema.TaggedStruct("Constant", { seconds: Seconds })
/** Uniform between `minSeconds` and `maxSeconds`. */
export const UniformDuration = Schema.TaggedStruct("Uniform", { minSeconds: Seconds, maxSeconds: Seconds }).pipe(
  Schema.filter((u) => u.minSeconds <= u.maxSeconds || "minSeconds must not exceed maxSeconds")
)
/** Lognormal: half the jobs take less than `medianSeconds`; `sigma` is the standard deviation of the log. */
export const LogNormalDuration = Schema.TaggedStruct("LogNormal", {
  medianSeconds: Positive,
  sigma: Schema.Number.pipe(Schema.finite(), Schema.nonNegative())
})
/** The empirical distribution of recorded durations: each job takes one of them, drawn uniformly. */
export const EmpiricalDuration = Schema.TaggedStruct("Empirical", { seconds: Samples })
export const DurationModel = Schema.Union(ConstantDuration, UniformDuration, LogNormalDuration, EmpiricalDuration)
export type DurationModel = typeof DurationModel.Type

/** Every LLM call costs `usd`. */
export const FixedCost = Schema.TaggedStruct("Fixed", { usd: Seconds })
/** Each LLM call costs one of the recorded costs, drawn uniformly. */
export const RecordedCost = Schema.TaggedStruct("Recorded", { usd: Samples })
export const LlmCostModel = Schema.Union(FixedCost, RecordedCost)
export type LlmCostModel = typeof LlmCostModel.Type

const Probability = Schema.Number.pipe(Schema.between(0, 1))

/** How the jobs of one kind behave: their duration, and how often they fail or crash their worker. */
export const JobModel = Schema.Struct({
  duration: Schema.optionalWith(DurationModel, { exact: true }),
  /** Probability that a job fails by itself (overrides `faults.jobFailure`). */
  failureRate: Schema.optionalWith(Probability, { exact: true }),
  /** Probability that its worker crashes while running it (overrides `faults.workerCrash`). */
  crashRate: Schema.optionalWith(Probability, { exact: true })
})
export type JobModel = typeof JobModel.Type

/** Constructors of arrival processes. */
export const Arrivals = {
  constant: (everySeconds: number): ArrivalProcess => ({ _tag: "Constant", everySeconds }),
  poisson: (perHour: number): ArrivalProcess => ({ _tag: "Poisson", perHour }),
  recorded: (atSeconds: ReadonlyArray<number>): ArrivalProcess => ({ _tag: "Recorded", atSeconds })
} as const

/** Constructors of duration models. */
export const Durations = {
  constant: (seconds: number): DurationModel => ({ _tag: "Constant", seconds }),
  uniform: (minSeconds: number, maxSeconds: number): DurationModel => ({ _tag: "Uniform", minSeconds, maxSeconds }),
  lognormal: (medianSeconds: number, sigma: number): DurationModel => ({ _tag: "LogNormal", medianSeconds, sigma }),
  empirical: (seconds: ReadonlyArray<number>): DurationModel => ({ _tag: "Empirical", seconds })
} as const

/** Constructors of LLM cost models. */
export const LlmCosts = {
  fixed: (usd: number): LlmCostModel => ({ _tag: "Fixed", usd }),
  recorded: (usd: ReadonlyArray<number>): LlmCostModel => ({ _tag: "Recorded", usd })
} as const

/** A uniform draw in [0, 1) from the seeded `Random` of the run. */
const uniform = Random.next

/** One of `items`, drawn uniformly. */
const pick = (items: ReadonlyArray<number>): Effect.Effect<number> =>
  Effect.map(Random.nextIntBetween(0, items.length), (i) => items[i]!)

/** A standard normal draw (Box–Muller; `1 - u` keeps the logarithm finite). */
export const standardNormal: Effect.Effect<number> = Effect.zipWith(
  uniform,
  uniform,
  (u, v) => Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v)
)

/**
 * The arrival times of `count` researches, in seconds from the start. A
 * recorded process gives its first `count` times (it must hold that many).
 */
export const arrivalTimes = (process: ArrivalProcess, count: number): Effect.Effect<ReadonlyArray<number>> => {
  switch (process._tag) {
    case "Constant":
      return Effect.succeed(Array.from({ length: count }, (_, n) => n * process.everySeconds))
    case "Poisson": {
      const mean = 3600 / process.perHour
      let at = 0
      return Effect.replicateEffect(Effect.map(uniform, (u) => (at += -Math.log(1 - u) * mean)), count)
    }
    case "Recorded":
      return Effect.succeed(process.atSeconds.slice(0, count))
  }
}

/** One job's duration in seconds. */
export const sampleDuration = (model: DurationModel): Effect.Effect<number> => {
  switch (model._tag) {
    case "Constant":
      return Effect.succeed(model.seconds)
    case "Uniform":
      return Effect.map(uniform, (u) => model.minSeconds + u * (model.maxSeconds - model.minSeconds))
    case "LogNormal":
      return Effect.map(standardNormal, (z) => model.medianSeconds * Math.exp(model.sigma * z))
    case "Empirical":
      return pick(model.seconds)
  }
}

/** The mean of a duration model, in seconds. */
export const meanSeconds = (model: DurationModel): number => {
  switch (model._tag) {
    case "Constant":
      return model.seconds
    case "Uniform":
      return (model.minSeconds + model.maxSeconds) / 2
    case "LogNormal":
      return model.medianSeconds * Math.exp((model.sigma * model.sigma) / 2)
    case "Empirical":
      return model.seconds.reduce((a, b) => a + b, 0) / model.seconds.length
  }
}

/** One LLM call's cost in USD. */
export const sampleCost = (model: LlmCostModel): Effect.Effect<number> =>
  model._tag === "Fixed" ? Effect.succeed(model.usd) : pick(model.usd)

/**
 * The lognormal that fits recorded durations (the mean and standard deviation
 * of their logarithms); durations of 0 are left out.
 */
export const fitLogNormal = (seconds: ReadonlyArray<number>): DurationModel => {
  const logs = seconds.filter((s) => s > 0).map(Math.log)
  if (logs.length === 0) return Durations.constant(0)
  const mu = logs.reduce((a, b) => a + b, 0) / logs.length
  const variance = logs.reduce((a, x) => a + (x - mu) ** 2, 0) / logs.length
  return Durations.lognormal(Math.exp(mu), Math.sqrt(variance))
}
