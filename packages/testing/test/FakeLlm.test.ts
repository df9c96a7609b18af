/**
 * The fake LLM provider speaks the wire well enough for the real @effect/ai
 * clients: structured answers and usage decode, error statuses surface as
 * `HttpResponseError` with their headers, bad answers as `MalformedOutput`,
 * and neither client retries on its own.
 */
import { AiError, LanguageModel } from "@effect/ai"
import { AnthropicClient, AnthropicLanguageModel } from "@effect/ai-anthropic"
import { OpenAiClient, OpenAiLanguageModel } from "@effect/ai-openai"
import { FetchHttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import * as FakeLlm from "@foreman/testing/FakeLlm"
import { Effect, Layer, Redacted, Schema } from "effect"

const Design = Schema.Struct({ title: Schema.String, steps: Schema.Array(Schema.String) })
const design = { title: "Wider net", steps: ["train", "backtest"] }

const anthropic = (fake: FakeLlm.FakeLlm) =>
  AnthropicLanguageModel.layer({ model: "claude-sonnet-4-5" }).pipe(
    Layer.provide(AnthropicClient.layer({ apiUrl: fake.anthropicUrl, apiKey: Redacted.make("test-key") })),
    Layer.provide(FetchHttpClient.layer)
  )

const openAi = (fake: FakeLlm.FakeLlm) =>
  OpenAiLanguageModel.layer({ model: "gpt-5" }).pipe(
    Layer.provide(OpenAiClient.layer({ apiUrl: fake.openAiUrl, apiKey: Redacted.make("test-key") })),
    Layer.provide(FetchHttpClient.layer)
  )

const providers = [["anthropic", anthropic], ["openai", openAi]] as const

const generate = (prompt = "Propose a design for dataset ds_42") =>
  LanguageModel.generateObject({ prompt, schema: Design, objectName: "design" })

describe("FakeLlm", () => {
  it.scoped("answers Anthropic's Messages API with a tool_use the client decodes", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLlm.scoped()
      fake.enqueue(FakeLlm.object(design, { inputTokens: 900, outputTokens: 120, cachedInputTokens: 400 }))
      const response = yield* generate().pipe(Effect.provide(anthropic(fake)))
      assert.deepStrictEqual(response.value, design)
      assert.strictEqual(response.usage.inputTokens, 900)
      assert.strictEqual(response.usage.outputTokens, 120)
      assert.strictEqual(response.usage.cachedInputTokens, 400)
      assert.strictEqual(response.finishReason, "stop")

      const [request] = fake.requests
      assert.strictEqual(request?.provider, "anthropic")
      assert.strictEqual(request?.path, "/v1/messages")
      assert.strictEqual(request?.headers["x-api-key"], "test-key")
      assert.strictEqual(request?.headers["anthropic-version"], "2023-06-01")
      assert.deepInclude(request?.body, { tool_choice: { type: "tool", name: "design", disable_parallel_tool_use: true } })
      assert.include(FakeLlm.promptText(request!), "dataset ds_42")
    }))

  it.scoped("answers OpenAI's Responses API with output_text the client decodes", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLlm.scoped()
      fake.enqueue(FakeLlm.object(design, { inputTokens: 900, outputTokens: 120, cachedInputTokens: 400 }))
      const response = yield* generate().pipe(Effect.provide(openAi(fake)))
      assert.deepStrictEqual(response.value, design)
      assert.strictEqual(response.usage.inputTokens, 900)
      assert.strictEqual(response.usage.outputTokens, 120)
      assert.strictEqual(response.usage.cachedInputTokens, 400)

      const [request] = fake.requests
      assert.strictEqual(request?.provider, "openai")
      assert.strictEqual(request?.path, "/v1/responses")
      assert.strictEqual(request?.headers["authorization"], "Bearer test-key")
      const format = (request?.body as { text: { format: { type: string; name: string; strict: boolean } } }).text.format
      assert.deepInclude(format, { type: "json_schema", name: "design", strict: true })
      assert.include(FakeLlm.promptText(request!), "dataset ds_42")
    }))

  for (const [name, layer] of providers) {
    it.scoped(`${name}: a 429 surfaces as HttpResponseError with its retry-after`, () =>
      Effect.gen(function*() {
        const fake = yield* FakeLlm.scoped()
        fake.enqueue(FakeLlm.status(429, { retryAfter: "7" }))
        const error = yield* generate().pipe(Effect.provide(layer(fake)), Effect.flip)
        assert.instanceOf(error, AiError.HttpResponseError)
        if (error._tag !== "HttpResponseError") return
        assert.strictEqual(error.response.status, 429)
        assert.strictEqual(error.response.headers["retry-after"], "7")
      }))

    it.scoped(`${name}: a malformed or non-JSON answer surfaces as MalformedOutput`, () =>
      Effect.gen(function*() {
        const fake = yield* FakeLlm.scoped()
        fake.enqueue(FakeLlm.malformed(), FakeLlm.notJson())
        const first = yield* generate().pipe(Effect.provide(layer(fake)), Effect.flip)
        const second = yield* generate().pipe(Effect.provide(layer(fake)), Effect.flip)
        assert.strictEqual(first._tag, "MalformedOutput")
        assert.strictEqual(second._tag, "MalformedOutput")
      }))

    it.scoped(`${name}: the client does not retry a 500 (or a 529) by itself`, () =>
      Effect.gen(function*() {
        const fake = yield* FakeLlm.scoped()
        fake.enqueue(FakeLlm.status(500), FakeLlm.status(529))
        const first = yield* generate().pipe(Effect.provide(layer(fake)), Effect.flip)
        assert.strictEqual(fake.requests.length, 1)
        const second = yield* generate().pipe(Effect.provide(layer(fake)), Effect.flip)
        assert.strictEqual(fake.requests.length, 2)
        assert.deepStrictEqual(
          [first, second].map((e) => e._tag === "HttpResponseError" ? e.response.status : e._tag),
          [500, 529]
        )
      }))
  }

  it.scoped("answers from the queue in order, then the default", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLlm.scoped()
      fake.setDefault(FakeLlm.object({ title: "default", steps: [] }))
      fake.enqueue(FakeLlm.object({ title: "first", steps: [] }), FakeLlm.object({ title: "second", steps: [] }))
      const titles: Array<string> = []
      for (let i = 0; i < 3; i++) {
        titles.push((yield* generate().pipe(Effect.provide(anthropic(fake)))).value.title)
      }
      assert.deepStrictEqual(titles, ["first", "second", "default"])
    }))

  it.scoped("waits before a slow answer", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLlm.scoped()
      fake.enqueue(FakeLlm.slow(300, FakeLlm.object(design)))
      const started = Date.now()
      const response = yield* generate().pipe(Effect.provide(openAi(fake)))
      assert.deepStrictEqual(response.value, design)
      assert.isAtLeast(Date.now() - started, 290)
    }))

  it("closes promptly with a slow answer pending", async () => {
    const fake = await FakeLlm.start()
    fake.enqueue(FakeLlm.slow(60_000, FakeLlm.object(design)))
    const pending = fetch(`${fake.url}/v1/messages`, { method: "POST", body: "{}" }).catch((e: unknown) => e)
    while (fake.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const started = Date.now()
    await fake.close()
    assert.instanceOf(await pending, Error)
    assert.isBelow(Date.now() - started, 1000)
  })

  it("lists models, refusing a wrong key with each provider's error shape", async () => {
    const fake = await FakeLlm.start({ apiKey: "right" })
    try {
      const models = (key: string, provider: FakeLlm.Provider) =>
        fetch(`${fake.url}/v1/models`, {
          headers: provider === "anthropic" ? { "x-api-key": key, "anthropic-version": "2023-06-01" } : {
            authorization: `Bearer ${key}`
          }
        }).then(async (r) => ({ status: r.status, body: await r.json() as Record<string, unknown> }))

      const anthropicOk = await models("right", "anthropic")
      assert.strictEqual(anthropicOk.status, 200)
      assert.isArray(anthropicOk.body["data"])
      assert.deepStrictEqual(await models("wrong", "anthropic"), {
        status: 401,
        body: { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } }
      })
      const openAiOk = await models("right", "openai")
      assert.strictEqual(openAiOk.status, 200)
      assert.strictEqual(openAiOk.body["object"], "list")
      const openAiBad = await models("wrong", "openai")
      assert.strictEqual(openAiBad.status, 401)
      assert.deepInclude(openAiBad.body["error"], { code: "invalid_api_key", type: "invalid_request_error" })
      assert.strictEqual(fake.requests.length, 0)
    } finally {
      await fake.close()
    }
  })
})
