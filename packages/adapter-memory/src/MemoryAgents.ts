/**
 * Designer and assessor agents that need no network. The designer derives a
 * strategy from the brief's keywords and the seeded `Random`; the assessor
 * reads the gates and metrics. Both report a plausible token usage priced like
 * a Sonnet-class model ($3 in / $15 out per million tokens), so the budget is
 * charged as it would be in production.
 */
import { Agents, type Domain } from "@foreman/core"
import { type Context, Duration, Effect, Layer, Random } from "effect"

export interface AgentOptions {
  /** Simulated thinking time of each design. */
  readonly designLatency?: Duration.DurationInput
  /** Simulated thinking time of each assessment. */
  readonly assessLatency?: Duration.DurationInput
  readonly model?: string
  readonly inputPricePerMillion?: number
  readonly outputPricePerMillion?: number
}

const INDICATORS = ["rsi", "macd", "sma", "ema", "bollinger", "atr", "stochastic", "momentum"] as const

const usage = (options: AgentOptions, model: string | null, inputTokens: number, outputTokens: number): Domain.Usage => {
  const inPrice = options.inputPricePerMillion ?? 3
  const outPrice = options.outputPricePerMillion ?? 15
  return {
    model: model ?? options.model ?? "sonnet-class",
    inputTokens,
    outputTokens,
    costUsd: Math.round(((inputTokens * inPrice + outputTokens * outPrice) / 1e6) * 1e6) / 1e6
  }
}

const think = (latency: Duration.DurationInput | undefined) =>
  latency === undefined ? Effect.void : Effect.sleep(Duration.decode(latency))

/** A designer that picks indicators named in the brief (or random ones) and their parameters. */
export const designer = (options: AgentOptions = {}): Context.Tag.Service<Agents.Designer> =>
  Agents.Designer.of({
    design: ({ brief, model }) =>
      Effect.gen(function*() {
        yield* think(options.designLatency)
        const words = brief.toLowerCase()
        const named = INDICATORS.filter((i) => words.includes(i))
        const indicators = named.length > 0
          ? named
          : [INDICATORS[yield* Random.nextIntBetween(0, INDICATORS.length)]!]
        const variant = yield* Random.nextIntBetween(1, 100)
        const strategy: Domain.Strategy = {
          name: `${indicators[0]}_variant_${variant}`,
          spec: {
            indicators: indicators.map((name) => ({ name, period: 5 + variant % 20 })),
            labelHorizonDays: 1 + (variant % 5),
            instrument: "EURUSD",
            timeframe: "1d"
          }
        }
        const input = 1500 + (yield* Random.nextIntBetween(0, 1500))
        const output = 600 + (yield* Random.nextIntBetween(0, 900))
        return { result: strategy, usage: usage(options, model, input, output) }
      })
  })

/** An assessor that calls a cycle promising when both gates passed, rejected when one failed. */
export const assessor = (options: AgentOptions = {}): Context.Tag.Service<Agents.Assessor> =>
  Agents.Assessor.of({
    assess: ({ gates, model, strategy }) =>
      Effect.gen(function*() {
        yield* think(options.assessLatency)
        const outcomes = Object.entries(gates)
        const failed = outcomes.filter(([, g]) => !g.passed)
        const verdict = failed.length > 0 ? "rejected" : outcomes.length >= 2 ? "promising" : "inconclusive"
        const summary = failed.length > 0
          ? `${strategy?.name ?? "strategy"} rejected by the ${failed.map(([name, g]) => `${name} gate (${g.reason})`).join(", ")}`
          : `${strategy?.name ?? "strategy"} passed ${outcomes.length} gate(s)`
        const input = 2000 + (yield* Random.nextIntBetween(0, 2000))
        const output = 300 + (yield* Random.nextIntBetween(0, 500))
        return { result: { verdict, summary } as const, usage: usage(options, model, input, output) }
      })
  })

/** Both agents as a layer. */
export const layer = (options: AgentOptions = {}): Layer.Layer<Agents.Designer | Agents.Assessor> =>
  Layer.merge(Layer.succeed(Agents.Designer, designer(options)), Layer.succeed(Agents.Assessor, assessor(options)))
