/**
 * Which agents a coordinator runs, from configuration:
 *
 * - `FOREMAN_LLM_PROVIDER`: `anthropic` | `openai` | `offline`; by default
 *   `anthropic` when `ANTHROPIC_API_KEY` is set, else `openai` when
 *   `OPENAI_API_KEY` is set, else `offline`.
 * - `FOREMAN_LLM_MODEL`: the model (default `claude-sonnet-4-5` or `gpt-5`).
 * - `FOREMAN_LLM_BASE_URL`: the provider's API root, for proxies and tests
 *   (Anthropic's without `/v1`, OpenAI's with it, as their clients expect).
 * - `FOREMAN_LLM_TIMEOUT_SECONDS` (120) per call, `FOREMAN_LLM_RETRIES` (4)
 *   after a rate limit, an overloaded or failing provider, or a timeout.
 * - `FOREMAN_LLM_PRICES`: JSON `{ "model": { "input": 3, "output": 15,
 *   "cachedInput": 0.3 } }` in USD per million tokens, over the defaults.
 *
 * A missing key, a model without a price, or a key the provider refuses
 * (checked with one free request at start) fails with the variable's name.
 */
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import type { Agents } from "@foreman/core"
import { Config, ConfigError, Duration, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import type { ProviderModel } from "./internal/providerModel.js"
import * as ModelAgents from "./ModelAgents.js"
import * as OfflineAgents from "./OfflineAgents.js"
import * as Pricing from "./Pricing.js"

export const providers = ["anthropic", "openai", "offline"] as const
export type Provider = (typeof providers)[number]

/** The agents chosen, what to say about them at start, and their layer. */
export interface Chosen {
  readonly provider: Provider
  /** The model, or null for the offline agents. */
  readonly model: string | null
  /** One line for the start banner. */
  readonly description: string
  /** The agents; model agents also say which models a trigger may name (`Agents.Models`). */
  readonly layer: Layer.Layer<Agents.Designer | Agents.Assessor>
}

const Price = Schema.Struct({
  input: Schema.NonNegative,
  output: Schema.NonNegative,
  cachedInput: Schema.optional(Schema.NonNegative)
})
const Prices = Schema.parseJson(Schema.Record({ key: Schema.String, value: Price }))

const prices = Config.string("FOREMAN_LLM_PRICES").pipe(
  Config.mapOrFail((text) =>
    Either.mapBoth(Schema.decodeUnknownEither(Prices)(text), {
      onLeft: () =>
        ConfigError.InvalidData(
          [],
          `expected JSON like {"my-model":{"input":3,"output":15,"cachedInput":0.3}} (USD per million tokens)`
        ),
      onRight: (table): Pricing.PriceTable =>
        Object.fromEntries(
          Object.entries(table).map(([model, p]) => [model, { ...p, cachedInput: p.cachedInput ?? p.input }])
        )
    })
  ),
  Config.withDefault({}),
  Config.map((own) => ({ ...Pricing.defaults, ...own }))
)

const keyVariable = { anthropic: "ANTHROPIC_API_KEY", openai: "OPENAI_API_KEY" } as const
const defaultModel = { anthropic: "claude-sonnet-4-5", openai: "gpt-5" } as const
const defaultUrl = { anthropic: "https://api.anthropic.com", openai: "https://api.openai.com/v1" } as const

const present = (name: string) =>
  Config.option(Config.redacted(name)).pipe(Config.map(Option.filter((key) => Redacted.value(key).trim() !== "")))

/** The provider named, or the one whose key is set. */
const provider = Config.all([
  Config.option(Config.literal(...providers)("FOREMAN_LLM_PROVIDER")),
  present("ANTHROPIC_API_KEY"),
  present("OPENAI_API_KEY")
]).pipe(Config.map(([named, anthropic, openai]): Provider =>
  Option.getOrElse(named, () => Option.isSome(anthropic) ? "anthropic" : Option.isSome(openai) ? "openai" : "offline")
))

/** Everything a model provider needs, from configuration. */
export const config = Effect.gen(function*() {
  const chosen = yield* provider
  if (chosen === "offline") return { provider: chosen } as const
  const key = yield* present(keyVariable[chosen]).pipe(Effect.flatMap(Option.match({
    onSome: Effect.succeed,
    onNone: () =>
      Effect.fail(ConfigError.MissingData(
        [keyVariable[chosen]],
        `FOREMAN_LLM_PROVIDER=${chosen} needs ${keyVariable[chosen]} (or FOREMAN_LLM_PROVIDER=offline)`
      ))
  })))
  const model = yield* Config.string("FOREMAN_LLM_MODEL").pipe(Config.withDefault(defaultModel[chosen]))
  const table = yield* prices
  const price = Pricing.priceOf(table, model)
  if (Either.isLeft(price)) return yield* Effect.fail(ConfigError.InvalidData(["FOREMAN_LLM_MODEL"], price.left))
  return {
    provider: chosen,
    key,
    model,
    prices: table,
    baseUrl: yield* Config.string("FOREMAN_LLM_BASE_URL").pipe(Config.withDefault(defaultUrl[chosen])),
    timeout: Duration.seconds(
      yield* Config.number("FOREMAN_LLM_TIMEOUT_SECONDS").pipe(
        Config.validate({ message: "a number of seconds above 0", validation: (n) => n > 0 }),
        Config.withDefault(120)
      )
    ),
    retries: yield* Config.integer("FOREMAN_LLM_RETRIES").pipe(
      Config.validate({ message: "a whole number from 0", validation: (n) => n >= 0 }),
      Config.withDefault(4)
    )
  } as const
})

export type ModelConfig = Exclude<Effect.Effect.Success<typeof config>, { readonly provider: "offline" }>

/**
 * The provider's `LanguageModel` (and how its tokens are read), its client
 * loaded on first use: a coordinator on the other provider, or offline, never
 * loads it.
 */
const providerModel = (c: ModelConfig): Effect.Effect<ProviderModel> =>
  Effect.promise(() =>
    c.provider === "anthropic" ? import("./internal/anthropicModel.js") : import("./internal/openAiModel.js")
  ).pipe(Effect.map((client) => client.languageModel(c)))

/** The model agents of a provider configuration, over `fetch`. */
export const modelAgents = (
  c: ModelConfig,
  options: { readonly retryDelay?: Duration.DurationInput } = {}
): Layer.Layer<Agents.Designer | Agents.Assessor | Agents.Models> =>
  Layer.unwrapEffect(Effect.map(providerModel(c), (lm) =>
    ModelAgents.layer({
      provider: c.provider,
      model: c.model,
      prices: c.prices,
      timeout: c.timeout,
      retries: c.retries,
      retryDelay: Duration.decode(options.retryDelay ?? Duration.seconds(1)),
      tokens: lm.tokens,
      withModel: lm.withModel
    }).pipe(Layer.provide(lm.layer), Layer.provide(FetchHttpClient.layer))))

/** Refused at start: the provider said the key is not valid. */
export class KeyRefused extends Schema.TaggedError<KeyRefused>()("KeyRefused", {
  variable: Schema.String,
  provider: Schema.String,
  status: Schema.Number
}) {
  override get message(): string {
    return `${this.provider} refused ${this.variable} (HTTP ${this.status}): check the key`
  }
}

/**
 * Lists the provider's models (a free request) to find out whether it takes
 * the key; a provider that cannot be reached is only warned about, since
 * calls are retried later.
 */
export const checkKey = (c: ModelConfig): Effect.Effect<void, KeyRefused> => {
  const request = c.provider === "anthropic"
    ? HttpClientRequest.get(`${c.baseUrl}/v1/models`).pipe(
      HttpClientRequest.setHeaders({ "x-api-key": Redacted.value(c.key), "anthropic-version": "2023-06-01" })
    )
    : HttpClientRequest.get(`${c.baseUrl}/models`).pipe(HttpClientRequest.bearerToken(Redacted.value(c.key)))
  return HttpClient.execute(request).pipe(
    Effect.timeout(Duration.seconds(10)),
    Effect.scoped,
    Effect.provide(FetchHttpClient.layer),
    Effect.matchEffect({
      onFailure: (error) =>
        Effect.logWarning(`cannot reach ${c.provider} at ${c.baseUrl} to check ${keyVariable[c.provider]}: ${error.message}`),
      onSuccess: (response) =>
        response.status === 401 || response.status === 403
          ? Effect.fail(new KeyRefused({ variable: keyVariable[c.provider], provider: c.provider, status: response.status }))
          : Effect.void
    })
  )
}

const usd = (n: number) => `$${Number(n.toPrecision(3))}`

/** The agents configuration asks for, checked: the offline ones, or a provider's model agents. */
export const fromConfig = (
  options: { readonly retryDelay?: Duration.DurationInput; readonly offline?: OfflineAgents.AgentOptions } = {}
): Effect.Effect<Chosen, ConfigError.ConfigError | KeyRefused> =>
  Effect.gen(function*() {
    const c = yield* config
    if (c.provider === "offline") {
      return {
        provider: "offline",
        model: null,
        description: OfflineAgents.description,
        layer: OfflineAgents.layer(options.offline)
      } satisfies Chosen
    }
    yield* checkKey(c)
    const price = Option.getOrThrow(Pricing.lookup(c.prices, c.model))
    const where = c.baseUrl === defaultUrl[c.provider] ? "" : ` via ${c.baseUrl}`
    return {
      provider: c.provider,
      model: c.model,
      description: `${c.provider} ${c.model}${where} (${usd(price.input)} in, ${usd(price.output)} out per million tokens)`,
      layer: modelAgents(c, options)
    } satisfies Chosen
  })
