/**
 * What a model's tokens cost, in US dollars per million tokens: prompt tokens,
 * prompt tokens read from the provider's cache, and output tokens. The table
 * holds list prices of current Claude and GPT models; `FOREMAN_LLM_PRICES`
 * adds or replaces entries. A dated model id (`claude-sonnet-4-5-20250929`)
 * takes the price of the longest entry it starts with.
 */
import { Either, Option } from "effect"

export interface ModelPrice {
  readonly input: number
  readonly cachedInput: number
  readonly output: number
}

export type PriceTable = Readonly<Record<string, ModelPrice>>

const price = (input: number, cachedInput: number, output: number): ModelPrice => ({ input, cachedInput, output })

/** List prices (USD per million tokens) as published by Anthropic and OpenAI. */
export const defaults: PriceTable = {
  "claude-opus-4-5": price(5, 0.5, 25),
  "claude-opus-4-1": price(15, 1.5, 75),
  "claude-opus-4": price(15, 1.5, 75),
  "claude-sonnet-4-5": price(3, 0.3, 15),
  "claude-sonnet-4": price(3, 0.3, 15),
  "claude-3-7-sonnet": price(3, 0.3, 15),
  "claude-haiku-4-5": price(1, 0.1, 5),
  "claude-3-5-haiku": price(0.8, 0.08, 4),
  "gpt-5": price(1.25, 0.125, 10),
  "gpt-5-mini": price(0.25, 0.025, 2),
  "gpt-5-nano": price(0.05, 0.005, 0.4),
  "gpt-4.1": price(2, 0.5, 8),
  "gpt-4.1-mini": price(0.4, 0.1, 1.6),
  "gpt-4.1-nano": price(0.1, 0.025, 0.4),
  "gpt-4o": price(2.5, 1.25, 10),
  "gpt-4o-mini": price(0.15, 0.075, 0.6),
  "o4-mini": price(1.1, 0.275, 4.4)
}

/** The price of `model`: its own entry, else the longest entry its id starts with. */
export const lookup = (table: PriceTable, model: string): Option.Option<ModelPrice> => {
  const own = table[model]
  if (own !== undefined) return Option.some(own)
  const prefix = Object.keys(table)
    .filter((name) => model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0]
  return prefix === undefined ? Option.none() : Option.some(table[prefix]!)
}

/**
 * The price of `model`, or why it cannot be used: it has no price in `table`
 * (naming the priced models and how to price another), so the server at
 * start, a trigger and a design all refuse it in the same words.
 */
export const priceOf = (table: PriceTable, model: string): Either.Either<ModelPrice, string> =>
  Either.fromOption(
    lookup(table, model),
    () =>
      `no price for model ${model} (priced: ${Object.keys(table).join(", ")}, or a dated id of one): ` +
      `use one of those, or add it to the server's FOREMAN_LLM_PRICES, e.g. {"${model}":{"input":3,"output":15}}`
  )

/** Tokens of one call: every prompt token (the cached ones among them) and the output. */
export interface TokenCount {
  readonly inputTokens: number
  readonly cachedInputTokens: number
  readonly outputTokens: number
}

/** The cost of one call in USD, rounded to a millionth of a dollar. */
export const cost = (p: ModelPrice, tokens: TokenCount): number => {
  const cached = Math.min(tokens.cachedInputTokens, tokens.inputTokens)
  const micro = (tokens.inputTokens - cached) * p.input + cached * p.cachedInput + tokens.outputTokens * p.output
  return Math.round(micro) / 1e6
}
