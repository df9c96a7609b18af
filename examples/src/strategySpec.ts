/**
 * The strategy specification the example workers understand: the indicators
 * (with their parameters) to turn into features, the label horizon, the
 * instrument and the timeframe. Parameters the designer left out get the
 * usual textbook defaults (RSI 14, MACD 12/26/9, Bollinger 20/2, …).
 * Decoding failures are plain messages, so a malformed job fails with a
 * readable reason instead of crashing the worker.
 */
import { Effect, ParseResult, Schema } from "effect"
import { instrumentNames } from "./marketData.js"

const Period = Schema.Number.pipe(Schema.int(), Schema.between(2, 250))
const withDefault = (value: number) => Schema.optionalWith(Period, { default: () => value })
/** Smoothing of 1 means none (the fast stochastic). */
const Smoothing = Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.between(1, 50)), { default: () => 3 })

const Rsi = Schema.Struct({ name: Schema.Literal("rsi"), period: withDefault(14) })
const Sma = Schema.Struct({ name: Schema.Literal("sma"), period: withDefault(20) })
const Ema = Schema.Struct({ name: Schema.Literal("ema"), period: withDefault(20) })
const Atr = Schema.Struct({ name: Schema.Literal("atr"), period: withDefault(14) })
const Momentum = Schema.Struct({ name: Schema.Literal("momentum"), period: withDefault(10) })
const Macd = Schema.Struct({
  name: Schema.Literal("macd"),
  fast: withDefault(12),
  slow: withDefault(26),
  signal: withDefault(9)
}).pipe(Schema.filter((m) => m.fast < m.slow || `macd needs fast < slow (got ${m.fast}/${m.slow})`))
const Bollinger = Schema.Struct({
  name: Schema.Literal("bollinger"),
  period: withDefault(20),
  stddev: Schema.optionalWith(Schema.Number.pipe(Schema.between(0.5, 5)), { default: () => 2 })
})
const Stochastic = Schema.Struct({
  name: Schema.Literal("stochastic"),
  period: withDefault(14),
  smoothing: Smoothing,
  signal: Smoothing
})

/** One indicator and its parameters. */
export const Indicator = Schema.Union(Rsi, Sma, Ema, Atr, Momentum, Macd, Bollinger, Stochastic)
export type Indicator = typeof Indicator.Type

/** The indicator names the example workers know. */
export const indicatorNames: ReadonlyArray<Indicator["name"]> = [
  "rsi",
  "macd",
  "sma",
  "ema",
  "bollinger",
  "atr",
  "stochastic",
  "momentum"
]

/** What the example workers read from `strategy.spec`. */
export const StrategySpec = Schema.Struct({
  indicators: Schema.NonEmptyArray(Indicator),
  labelHorizonDays: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.between(1, 20)), {
    default: () => 5
  }),
  instrument: Schema.String,
  timeframe: Schema.optionalWith(Schema.Literal("1d"), { default: () => "1d" as const }),
  /** Hyper-parameters of the network, over the training worker's defaults. */
  model: Schema.optional(Schema.Struct({
    hiddenUnits: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.between(4, 256)), { exact: true }),
    epochs: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.between(10, 1000)), { exact: true }),
    learningRate: Schema.optionalWith(Schema.Number.pipe(Schema.between(0.00001, 0.1)), { exact: true })
  }))
})
export type StrategySpec = typeof StrategySpec.Type

/** A strategy as the workers use it. */
export interface Strategy {
  readonly name: string
  readonly spec: StrategySpec
}

/** A plain object (not null, not an array): how job inputs are read before decoding. */
export const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const formatIssues = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") + ": " : ""}${issue.message}`)
    .join("; ")

/** Decodes an indicator list (from a spec or a trained model), with readable failures. */
export const decodeIndicators = (u: unknown): Effect.Effect<ReadonlyArray<Indicator>, string> =>
  Effect.gen(function*() {
    if (!Array.isArray(u) || u.length === 0) return yield* Effect.fail("the strategy names no indicators")
    for (const item of u) {
      const name: unknown = isRecord(item) ? item["name"] : item
      if (!(indicatorNames as ReadonlyArray<unknown>).includes(name)) {
        return yield* Effect.fail(
          `unknown indicator ${JSON.stringify(name)}: the example workers know ${indicatorNames.join(", ")}`
        )
      }
    }
    return yield* Schema.decodeUnknown(Schema.Array(Indicator))(u).pipe(
      Effect.mapError((e) => `invalid indicator parameters: ${formatIssues(e)}`)
    )
  })

/** Decodes `input.strategy` of a training or backtest job. */
export const decodeStrategy = (input: unknown): Effect.Effect<Strategy, string> =>
  Effect.gen(function*() {
    const strategy = isRecord(input) ? input["strategy"] : undefined
    if (!isRecord(strategy) || !isRecord(strategy["spec"])) {
      return yield* Effect.fail("the job input has no strategy (expected { strategy: { name, spec } })")
    }
    const name = typeof strategy["name"] === "string" ? strategy["name"] : "unnamed"
    const raw = strategy["spec"]
    yield* decodeIndicators(raw["indicators"])
    const instrument = raw["instrument"]
    if (typeof instrument !== "string" || !instrumentNames.includes(instrument)) {
      return yield* Effect.fail(
        `unknown instrument ${JSON.stringify(instrument)}: the example workers ship data for ${
          instrumentNames.join(", ")
        }`
      )
    }
    if (raw["timeframe"] !== undefined && raw["timeframe"] !== "1d") {
      return yield* Effect.fail(
        `unsupported timeframe ${JSON.stringify(raw["timeframe"])}: the example data has daily bars ("1d") only`
      )
    }
    const spec = yield* Schema.decodeUnknown(StrategySpec)(raw).pipe(
      Effect.mapError((e) => `invalid strategy spec: ${formatIssues(e)}`)
    )
    return { name, spec }
  })
