/**
 * Designer and assessor agents that need no network. The designer derives a
 * strategy from the brief's keywords and the seeded `Random` (indicators and
 * their parameters, label horizon, instrument, timeframe), among what the
 * workers declare they support; the assessor reads the gates and metrics.
 * Both report a simulated token usage priced like a Sonnet-class model ($3 in
 * / $15 out per million tokens), so the budget is exercised as it would be in
 * production; no tokens are spent. Their calls are recorded under these
 * agents' own name, `offline` (never the model a trigger asks for), marked
 * `simulated` in the ledger, the API and the LLM metrics (`simulated="true"`);
 * they still count against the daily budget.
 */
import { Agents, type Domain, Metrics } from "@foreman/core"
import { type Context, Duration, Effect, Layer, Random } from "effect"
import { supported } from "./Design.js"
import { cost } from "./Pricing.js"

/** The name these agents' calls are recorded under, in the ledger and the LLM metrics (`model="offline"`), whatever model was asked for. */
export const name = "offline"

/** What a coordinator says at start about these agents. */
export const description = "offline: designs and assessments are not from a model (no LLM is called)"

export interface AgentOptions {
  /** Simulated thinking time of each design. */
  readonly designLatency?: Duration.DurationInput
  /** Simulated thinking time of each assessment. */
  readonly assessLatency?: Duration.DurationInput
  /** The name the calls are recorded under; by default `offline` (`name`). */
  readonly model?: string
  readonly inputPricePerMillion?: number
  readonly outputPricePerMillion?: number
}

/** The indicators the designer chooses from (the example workers compute each with `trading-signals`). */
export const INDICATORS = ["rsi", "macd", "sma", "ema", "bollinger", "atr", "stochastic", "momentum"] as const
export type IndicatorName = (typeof INDICATORS)[number]

/**
 * The instruments the designer trades, on daily bars. The example workers
 * (`examples/`) ship synthetic daily data for exactly these in `examples/data/`.
 */
export const INSTRUMENTS = ["EURUSD", "GBPUSD", "USDJPY", "SPX"] as const

const INSTRUMENT_ALIASES: ReadonlyArray<readonly [string, (typeof INSTRUMENTS)[number]]> = [
  ["EUR/USD", "EURUSD"],
  ["GBP/USD", "GBPUSD"],
  ["USD/JPY", "USDJPY"],
  ["S&P", "SPX"],
  ["SP500", "SPX"]
]

/** An integer in [min, max], both inclusive. */
const between = (min: number, max: number) => Random.nextIntBetween(min, max + 1)

const pick = <A>(items: ReadonlyArray<A>): Effect.Effect<A> =>
  Effect.map(Random.nextIntBetween(0, items.length), (i) => items[i]!)

/** One indicator with parameters drawn around their textbook values. */
const parameters = (name: IndicatorName): Effect.Effect<Readonly<Record<string, unknown>>> =>
  Effect.gen(function*() {
    switch (name) {
      case "rsi":
      case "atr":
        return { name, period: yield* between(7, 21) }
      case "sma":
      case "ema":
        return { name, period: yield* between(5, 60) }
      case "momentum":
        return { name, period: yield* between(5, 30) }
      case "macd": {
        const fast = yield* between(6, 15)
        return { name, fast, slow: fast + (yield* between(8, 20)), signal: yield* between(5, 12) }
      }
      case "bollinger":
        return { name, period: yield* between(10, 30), stddev: yield* pick([1.5, 2, 2.5]) }
      case "stochastic":
        return { name, period: yield* between(5, 21), smoothing: yield* between(1, 3), signal: yield* between(3, 5) }
    }
  })

/** The instrument named in the brief, if any. */
const namedInstrument = (brief: string): (typeof INSTRUMENTS)[number] | undefined => {
  const upper = brief.toUpperCase()
  return INSTRUMENTS.find((i) => upper.includes(i)) ?? INSTRUMENT_ALIASES.find(([alias]) => upper.includes(alias))?.[1]
}

/**
 * One simulated call, priced like a Sonnet-class model, recorded under these
 * agents' `name` (not the model a trigger asked for: none was called) and
 * marked simulated, in the ledger and in the LLM metrics.
 */
const call = (
  options: AgentOptions,
  latency: Duration.DurationInput | undefined,
  tokens: { readonly inputTokens: number; readonly outputTokens: number }
): Effect.Effect<Domain.LlmCall> => {
  const price = { input: options.inputPricePerMillion ?? 3, output: options.outputPricePerMillion ?? 15 }
  const made: Domain.LlmCall = {
    model: options.model ?? name,
    ...tokens,
    cachedInputTokens: 0,
    costUsd: cost({ ...price, cachedInput: price.input }, { ...tokens, cachedInputTokens: 0 }),
    latencyMs: latency === undefined ? 0 : Duration.toMillis(Duration.decode(latency)),
    error: null,
    simulated: true
  }
  return Effect.as(Metrics.recordLlmCall({ ...made, outcome: "answered" }), made)
}

const randomIndicators = (from: ReadonlyArray<IndicatorName>) => Effect.gen(function*() {
  const count = yield* between(1, Math.min(3, from.length))
  const chosen: Array<IndicatorName> = []
  while (chosen.length < count) {
    const next = yield* pick(from)
    if (!chosen.includes(next)) chosen.push(next)
  }
  return chosen
})

const think = (latency: Duration.DurationInput | undefined) =>
  latency === undefined ? Effect.void : Effect.sleep(Duration.decode(latency))

/**
 * A designer that picks the indicators named in the brief (or one to three
 * random ones) with random parameters, a label horizon of 1–5 days, the
 * instrument named in the brief (or a random one) and daily bars.
 */
export const designer = (options: AgentOptions = {}): Context.Tag.Service<Agents.Designer> =>
  Agents.Designer.of({
    design: ({ brief, workers }) =>
      Effect.gen(function*() {
        yield* think(options.designLatency)
        const support = supported(workers)
        const known = INDICATORS.filter((i) => support.indicators?.includes(i) ?? true)
        const instruments = INSTRUMENTS.filter((i) => support.instruments?.includes(i) ?? true)
        const words = brief.toLowerCase()
        const named = known.filter((i) => words.includes(i))
        const indicators = named.length > 0 ? named : yield* randomIndicators(known.length > 0 ? known : INDICATORS)
        const variant = yield* Random.nextIntBetween(1, 100)
        const strategy: Domain.Strategy = {
          name: `${indicators[0]}_variant_${variant}`,
          spec: {
            indicators: yield* Effect.forEach(indicators, parameters),
            labelHorizonDays: yield* between(1, 5),
            instrument: namedInstrument(brief) ?? (yield* pick(instruments.length > 0 ? instruments : INSTRUMENTS)),
            timeframe: "1d"
          }
        }
        const inputTokens = 1500 + (yield* Random.nextIntBetween(0, 1500))
        const outputTokens = 600 + (yield* Random.nextIntBetween(0, 900))
        return { result: strategy, calls: [yield* call(options, options.designLatency, { inputTokens, outputTokens })] }
      })
  })

/**
 * An assessor that calls a cycle promising when both gates passed (and
 * proposes refining the strategy next), rejected when one failed.
 */
export const assessor = (options: AgentOptions = {}): Context.Tag.Service<Agents.Assessor> =>
  Agents.Assessor.of({
    assess: ({ gates, strategy }) =>
      Effect.gen(function*() {
        yield* think(options.assessLatency)
        const outcomes = Object.entries(gates)
        const failed = outcomes.filter(([, g]) => !g.passed)
        const verdict = failed.length > 0 ? "rejected" : outcomes.length >= 2 ? "promising" : "inconclusive"
        const summary = failed.length > 0
          ? `${strategy?.name ?? "strategy"} rejected by the ${failed.map(([name, g]) => `${name} gate (${g.reason})`).join(", ")}`
          : `${strategy?.name ?? "strategy"} passed ${outcomes.length} gate(s)`
        const inputTokens = 2000 + (yield* Random.nextIntBetween(0, 2000))
        const outputTokens = 300 + (yield* Random.nextIntBetween(0, 500))
        // A promising cycle proposes the next one, as a model's assessment does (the autopilot follows it).
        const next = verdict === "promising" ? { nextBrief: `Refine ${strategy?.name ?? "the strategy"}: tighten its entry and exit rules` } : {}
        return {
          result: { verdict, summary, ...next } as const,
          calls: [yield* call(options, options.assessLatency, { inputTokens, outputTokens })]
        }
      })
  })

/** Both agents as a layer. */
export const layer = (options: AgentOptions = {}): Layer.Layer<Agents.Designer | Agents.Assessor> =>
  Layer.merge(Layer.succeed(Agents.Designer, designer(options)), Layer.succeed(Agents.Assessor, assessor(options)))
