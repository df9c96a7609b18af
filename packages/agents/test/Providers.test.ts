/**
 * Choosing the agents from FOREMAN_LLM_* configuration: the provider named or
 * the one whose key is set, the default models, prices over the defaults, and
 * errors naming the variable to fix. The key check at start goes to the fake
 * provider's `GET /v1/models`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Agents, Domain } from "@foreman/core"
import * as FakeLlm from "@foreman/testing/FakeLlm"
import { design } from "@foreman/testing/Fixtures"
import { ConfigProvider, Context, Duration, Effect, Layer, Logger, Option, Redacted } from "effect"
import { OfflineAgents, Pricing, Providers } from "../src/index.js"

type Entries = ReadonlyArray<readonly [string, string]>

const withConfig = (entries: Entries) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries)))

/** The agents `entries` choose, with what was logged while choosing. */
const choose = (entries: Entries) =>
  Effect.gen(function*() {
    const logs: Array<string> = []
    const capture = Logger.make(({ message }) => {
      logs.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
    })
    const chosen = yield* Providers.fromConfig({ retryDelay: "10 millis" }).pipe(
      withConfig(entries),
      Effect.provide(Logger.replace(Logger.defaultLogger, capture))
    )
    return { chosen, logs }
  })

/** The error `entries` fail with. */
const refusal = (entries: Entries) => Effect.flip(Providers.fromConfig().pipe(withConfig(entries)))

const capabilities = { indicators: ["rsi"], instruments: ["EURUSD"], timeframes: ["1d"] }


/** Designs once with the chosen agents. */
const designWith = (chosen: Providers.Chosen) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(chosen.layer)
    return yield* Context.get(context, Agents.Designer).design({
      researchId: Domain.ResearchId.make("op_providers"),
      brief: "RSI on EURUSD",
      model: null,
      workers: [{ workerType: "training", capabilities }],
      recent: []
    })
  })

describe("Providers.fromConfig", () => {
  it.scopedLive("runs the offline agents when no key is set", () =>
    Effect.gen(function*() {
      const { chosen } = yield* choose([])
      assert.strictEqual(chosen.provider, "offline")
      assert.isNull(chosen.model)
      assert.strictEqual(chosen.description, OfflineAgents.description)
      assert.include(chosen.description, "not from a model")
    }))

  it.scopedLive("runs the offline agents when told to, keys or not", () =>
    Effect.gen(function*() {
      const { chosen } = yield* choose([["FOREMAN_LLM_PROVIDER", "offline"], ["ANTHROPIC_API_KEY", "sk-ant"]])
      assert.strictEqual(chosen.provider, "offline")
    }))

  it.scopedLive("takes a blank key for no key", () =>
    Effect.gen(function*() {
      const { chosen } = yield* choose([["ANTHROPIC_API_KEY", "  "], ["OPENAI_API_KEY", ""]])
      assert.strictEqual(chosen.provider, "offline")
    }))

  it.scopedLive("runs Anthropic's claude-sonnet-4-5 when ANTHROPIC_API_KEY is set, checking the key", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLlm.scoped({ apiKey: "sk-ant-right" })
      const { chosen } = yield* choose([
        ["ANTHROPIC_API_KEY", "sk-ant-right"],
        ["OPENAI_API_KEY", "sk-openai"],
        ["FOREMAN_LLM_BASE_URL", fake.anthropicUrl]
      ])
      assert.strictEqual(chosen.provider, "anthropic")
      assert.strictEqual(chosen.model, "claude-sonnet-4-5")
      assert.strictEqual(
        chosen.description,
        `anthropic claude-sonnet-4-5 via ${fake.anthropicUrl} ($3 in, $15 out per million tokens)`
      )

      fake.enqueue(FakeLlm.object(design))
      const output = yield* designWith(chosen)
      assert.strictEqual(output.result.name, "rsi_trend")
      assert.strictEqual(fake.requests[0]?.provider, "anthropic")
      assert.strictEqual(fake.requests[0]?.headers["x-api-key"], "sk-ant-right")
      assert.strictEqual((fake.requests[0]?.body as { model: string }).model, "claude-sonnet-4-5")
    }))

  it.scopedLive("runs OpenAI's gpt-5 when only OPENAI_API_KEY is set", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLlm.scoped({ apiKey: "sk-openai-right" })
      const { chosen } = yield* choose([["OPENAI_API_KEY", "sk-openai-right"], ["FOREMAN_LLM_BASE_URL", fake.openAiUrl]])
      assert.strictEqual(chosen.provider, "openai")
      assert.strictEqual(chosen.model, "gpt-5")
      assert.strictEqual(chosen.description, `openai gpt-5 via ${fake.openAiUrl} ($1.25 in, $10 out per million tokens)`)

      fake.enqueue(FakeLlm.object(design))
      const output = yield* designWith(chosen)
      assert.strictEqual(output.result.name, "rsi_trend")
      assert.strictEqual(fake.requests[0]?.provider, "openai")
      assert.strictEqual(fake.requests[0]?.headers["authorization"], "Bearer sk-openai-right")
      assert.strictEqual((fake.requests[0]?.body as { model: string }).model, "gpt-5")
    }))

  it.scopedLive("runs the provider named even when the other's key is set too", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLlm.scoped()
      const { chosen } = yield* choose([
        ["FOREMAN_LLM_PROVIDER", "openai"],
        ["ANTHROPIC_API_KEY", "sk-ant"],
        ["OPENAI_API_KEY", "sk-openai"],
        ["FOREMAN_LLM_BASE_URL", fake.openAiUrl]
      ])
      assert.strictEqual(chosen.provider, "openai")
      assert.strictEqual(chosen.model, "gpt-5")
    }))

  it.effect("fails naming ANTHROPIC_API_KEY when FOREMAN_LLM_PROVIDER=anthropic has no key", () =>
    Effect.gen(function*() {
      const error = yield* refusal([["FOREMAN_LLM_PROVIDER", "anthropic"], ["OPENAI_API_KEY", "sk-openai"]])
      assert.strictEqual(error._tag, "ConfigError")
      if (error._tag !== "ConfigError") return
      assert.strictEqual(error._op, "MissingData")
      assert.include(
        String(error),
        "FOREMAN_LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY (or FOREMAN_LLM_PROVIDER=offline)"
      )
    }))

  it.effect("fails naming OPENAI_API_KEY when FOREMAN_LLM_PROVIDER=openai has no key", () =>
    Effect.gen(function*() {
      const error = yield* refusal([["FOREMAN_LLM_PROVIDER", "openai"]])
      assert.include(String(error), "FOREMAN_LLM_PROVIDER=openai needs OPENAI_API_KEY")
    }))

  it.effect("fails naming FOREMAN_LLM_PROVIDER when it names no provider", () =>
    Effect.gen(function*() {
      const error = yield* refusal([["FOREMAN_LLM_PROVIDER", "gemini"]])
      assert.strictEqual(error._tag, "ConfigError")
      assert.include(String(error), "FOREMAN_LLM_PROVIDER")
    }))

  for (const [provider, variable, url] of [
    ["anthropic", "ANTHROPIC_API_KEY", (fake: FakeLlm.FakeLlm) => fake.anthropicUrl],
    ["openai", "OPENAI_API_KEY", (fake: FakeLlm.FakeLlm) => fake.openAiUrl]
  ] as const) {
    it.scopedLive(`fails with KeyRefused naming ${variable} when ${provider} refuses the key`, () =>
      Effect.gen(function*() {
        const fake = yield* FakeLlm.scoped({ apiKey: "right" })
        const error = yield* refusal([[variable, "wrong"], ["FOREMAN_LLM_BASE_URL", url(fake)]])
        assert.strictEqual(error._tag, "KeyRefused")
        if (error._tag !== "KeyRefused") return
        assert.deepInclude(error, { variable, provider, status: 401 })
        assert.strictEqual(error.message, `${provider} refused ${variable} (HTTP 401): check the key`)
        assert.strictEqual(fake.requests.length, 0)
      }))
  }

  it.scopedLive("only warns when the provider cannot be reached to check the key", () =>
    Effect.gen(function*() {
      // Port 1 on the loopback refuses the connection at once.
      const { chosen, logs } = yield* choose([["ANTHROPIC_API_KEY", "sk-ant"], ["FOREMAN_LLM_BASE_URL", "http://127.0.0.1:1"]])
      assert.strictEqual(chosen.provider, "anthropic")
      assert.isTrue(
        logs.some((line) => line.startsWith("cannot reach anthropic at http://127.0.0.1:1 to check ANTHROPIC_API_KEY")),
        logs.join("\n")
      )
    }))

  it.effect("fails naming FOREMAN_LLM_PRICES for a model without a price", () =>
    Effect.gen(function*() {
      const error = yield* refusal([["ANTHROPIC_API_KEY", "sk-ant"], ["FOREMAN_LLM_MODEL", "unknown-model"]])
      assert.strictEqual(error._tag, "ConfigError")
      if (error._tag !== "ConfigError") return
      assert.strictEqual(error._op, "InvalidData")
      assert.include(String(error), "FOREMAN_LLM_MODEL")
      assert.include(String(error), "no price for model unknown-model (priced: claude-opus-4-5, ")
      assert.include(
        String(error),
        "add it to the server's FOREMAN_LLM_PRICES, e.g. {\"unknown-model\":{\"input\":3,\"output\":15}}"
      )
    }))

  it.scopedLive("runs a model priced in FOREMAN_LLM_PRICES, its cached input at the input price by default", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLlm.scoped()
      const { chosen } = yield* choose([
        ["ANTHROPIC_API_KEY", "sk-ant"],
        ["FOREMAN_LLM_MODEL", "my-model"],
        ["FOREMAN_LLM_PRICES", "{\"my-model\":{\"input\":1,\"output\":2}}"],
        ["FOREMAN_LLM_BASE_URL", fake.anthropicUrl]
      ])
      assert.strictEqual(chosen.model, "my-model")
      assert.strictEqual(chosen.description, `anthropic my-model via ${fake.anthropicUrl} ($1 in, $2 out per million tokens)`)

      // 1500 + 200 cache reads at $1, 400 out at $2: 1700 + 800 = 2500 micro-dollars.
      fake.enqueue(FakeLlm.object(design, { inputTokens: 1500, outputTokens: 400, cachedInputTokens: 200 }))
      const output = yield* designWith(chosen)
      assert.strictEqual((fake.requests[0]?.body as { model: string }).model, "my-model")
      const { latencyMs: _latency, ...call } = output.calls[0]!
      assert.deepStrictEqual(call, {
        model: "my-model",
        inputTokens: 1700,
        outputTokens: 400,
        cachedInputTokens: 200,
        costUsd: 0.0025,
        error: null
      })
    }))

  it.scopedLive("lets FOREMAN_LLM_PRICES replace a default price", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLlm.scoped()
      const { chosen } = yield* choose([
        ["OPENAI_API_KEY", "sk-openai"],
        ["FOREMAN_LLM_PRICES", "{\"gpt-5\":{\"input\":2,\"output\":20,\"cachedInput\":0.5}}"],
        ["FOREMAN_LLM_BASE_URL", fake.openAiUrl]
      ])
      assert.strictEqual(chosen.description, `openai gpt-5 via ${fake.openAiUrl} ($2 in, $20 out per million tokens)`)
    }))

  for (
    const [what, prices] of [
      ["JSON that does not parse", "{my-model: cheap}"],
      ["a negative price", "{\"my-model\":{\"input\":-1,\"output\":2}}"],
      ["a price without its output", "{\"my-model\":{\"input\":1}}"]
    ] as const
  ) {
    it.effect(`fails explaining FOREMAN_LLM_PRICES on ${what}`, () =>
      Effect.gen(function*() {
        const error = yield* refusal([
          ["ANTHROPIC_API_KEY", "sk-ant"],
          ["FOREMAN_LLM_MODEL", "my-model"],
          ["FOREMAN_LLM_PRICES", prices]
        ])
        assert.strictEqual(error._tag, "ConfigError")
        if (error._tag !== "ConfigError") return
        assert.strictEqual(error._op, "InvalidData")
        if (error._op !== "InvalidData") return
        assert.include(error.path, "FOREMAN_LLM_PRICES")
        assert.strictEqual(
          error.message,
          "expected JSON like {\"my-model\":{\"input\":3,\"output\":15,\"cachedInput\":0.3}} (USD per million tokens)"
        )
        assert.include(String(error), "Invalid data at FOREMAN_LLM_PRICES")
      }))
  }
})

describe("Providers.config", () => {
  it.effect("has defaults for everything but the key", () =>
    Effect.gen(function*() {
      const config = yield* Providers.config.pipe(withConfig([["ANTHROPIC_API_KEY", "sk-ant"]]))
      assert.strictEqual(config.provider, "anthropic")
      if (config.provider === "offline") return
      assert.strictEqual(Redacted.value(config.key), "sk-ant")
      assert.strictEqual(config.model, "claude-sonnet-4-5")
      assert.strictEqual(config.baseUrl, "https://api.anthropic.com")
      assert.isTrue(Duration.equals(config.timeout, Duration.seconds(120)))
      assert.strictEqual(config.retries, 4)
      assert.deepStrictEqual(config.prices, Pricing.defaults)
    }))

  it.effect("reads the timeout, retries, base URL and a dated model", () =>
    Effect.gen(function*() {
      const config = yield* Providers.config.pipe(withConfig([
        ["OPENAI_API_KEY", "sk-openai"],
        ["FOREMAN_LLM_MODEL", "gpt-5-mini-2025-08-07"],
        ["FOREMAN_LLM_BASE_URL", "https://proxy.example/v1"],
        ["FOREMAN_LLM_TIMEOUT_SECONDS", "30"],
        ["FOREMAN_LLM_RETRIES", "1"]
      ]))
      assert.strictEqual(config.provider, "openai")
      if (config.provider === "offline") return
      assert.strictEqual(config.model, "gpt-5-mini-2025-08-07")
      assert.strictEqual(config.baseUrl, "https://proxy.example/v1")
      assert.isTrue(Duration.equals(config.timeout, Duration.seconds(30)))
      assert.strictEqual(config.retries, 1)
      assert.deepStrictEqual(Pricing.lookup(config.prices, config.model), Option.some(Pricing.defaults["gpt-5-mini"]!))
    }))

  it.effect("fails naming FOREMAN_LLM_RETRIES when it is not an integer", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Providers.config.pipe(withConfig([["ANTHROPIC_API_KEY", "sk-ant"], ["FOREMAN_LLM_RETRIES", "many"]]))
      )
      assert.strictEqual(error._tag, "ConfigError")
      assert.include(String(error), "FOREMAN_LLM_RETRIES")
    }))
})
