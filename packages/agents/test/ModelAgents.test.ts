/**
 * The model agents end to end over the wire: the real @effect/ai Anthropic and
 * OpenAI clients (built by `Providers.modelAgents`) against the fake provider.
 * Each test checks the result and every call charged for it: tokens, cost
 * from the price table (worked out by hand here), latency and error.
 */
import { assert, describe, it } from "@effect/vitest"
import { goodBacktest, goodTraining, research } from "@foreman/adapter-memory/TestEngine"
import { Agents, Domain, type Errors } from "@foreman/core"
import * as FakeLlm from "@foreman/testing/FakeLlm"
import { Context, Duration, Effect, Layer, Redacted } from "effect"
import { Pricing, Providers } from "../src/index.js"

type Provider = Providers.ModelConfig["provider"]

const defaultModel = { anthropic: "claude-sonnet-4-5", openai: "gpt-5" } as const

/** The agents of one provider on a fresh fake, as `Providers.modelAgents` builds them. */
const agents = (provider: Provider, options: Partial<Omit<Providers.ModelConfig, "provider">> = {}) =>
  Effect.gen(function*() {
    const fake = yield* FakeLlm.scoped()
    const config: Providers.ModelConfig = {
      provider,
      key: Redacted.make("test-key"),
      model: defaultModel[provider],
      prices: Pricing.defaults,
      baseUrl: provider === "anthropic" ? fake.anthropicUrl : fake.openAiUrl,
      timeout: Duration.seconds(20),
      retries: 2,
      ...options
    }
    const context = yield* Layer.build(Providers.modelAgents(config, { retryDelay: "10 millis" }))
    return {
      fake,
      design: Context.get(context, Agents.Designer).design,
      assess: Context.get(context, Agents.Assessor).assess
    }
  })

const capabilities = { indicators: ["rsi", "macd"], instruments: ["EURUSD"], timeframes: ["1d"] }
const workers: ReadonlyArray<Agents.WorkerCapabilities> = [
  { workerType: "training", capabilities },
  { workerType: "backtest", capabilities }
]

const design = {
  name: "rsi_macd_trend",
  hypothesis: "RSI and MACD together predict the direction of EURUSD three days ahead.",
  instrument: "EURUSD",
  timeframe: "1d",
  indicators: [
    { name: "rsi", parameters: [{ name: "period", value: 14 }] },
    { name: "macd", parameters: [{ name: "fast", value: 12 }, { name: "slow", value: 26 }, { name: "signal", value: 9 }] }
  ],
  labelHorizonDays: 3,
  model: { family: "mlp", parameters: [{ name: "hiddenUnits", value: 32 }, { name: "epochs", value: 200 }, { name: "learningRate", value: 0.001 }] }
}

/** The strategy `design` becomes: parameters flattened into each indicator. */
const strategy: Domain.Strategy = {
  name: "rsi_macd_trend",
  spec: {
    hypothesis: "RSI and MACD together predict the direction of EURUSD three days ahead.",
    instrument: "EURUSD",
    timeframe: "1d",
    indicators: [{ name: "rsi", period: 14 }, { name: "macd", fast: 12, slow: 26, signal: 9 }],
    labelHorizonDays: 3,
    model: { family: "mlp", hiddenUnits: 32, epochs: 200, learningRate: 0.001 }
  }
}

const usage = { inputTokens: 1500, outputTokens: 400, cachedInputTokens: 200 }

/**
 * The call `usage` comes to. Anthropic's input_tokens leave out the 200 cache
 * reads: 1700 prompt tokens, 1500 of them uncached; claude-sonnet-4-5 at $3
 * in, $0.30 cached, $15 out per million: 1500*3 + 200*0.3 + 400*15 = 10560
 * micro-dollars. OpenAI's input_tokens include the cached: 1500, 1300
 * uncached; gpt-5 at $1.25, $0.125, $10: 1300*1.25 + 200*0.125 + 400*10 = 5650.
 */
const usageCall = {
  anthropic: { model: "claude-sonnet-4-5", inputTokens: 1700, outputTokens: 400, cachedInputTokens: 200, costUsd: 0.01056 },
  openai: { model: "gpt-5", inputTokens: 1500, outputTokens: 400, cachedInputTokens: 200, costUsd: 0.00565 }
} as const

/**
 * FakeLlm's default usage (1200 in, 300 out, none cached): on Anthropic
 * 1200*3 + 300*15 = 8100 micro-dollars, on OpenAI 1200*1.25 + 300*10 = 4500.
 */
const defaultUsageCall = {
  anthropic: { model: "claude-sonnet-4-5", inputTokens: 1200, outputTokens: 300, cachedInputTokens: 0, costUsd: 0.0081 },
  openai: { model: "gpt-5", inputTokens: 1200, outputTokens: 300, cachedInputTokens: 0, costUsd: 0.0045 }
} as const

/** A call that got no answer: no tokens, no cost. */
const unanswered = (provider: Provider, error: string) => ({
  model: defaultModel[provider],
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  costUsd: 0,
  error
})

/** A call without its latency (which varies), after checking that it is a sane number. */
const withoutLatency = (call: Domain.LlmCall | undefined) => {
  assert.isDefined(call)
  const { latencyMs, ...rest } = call!
  assert.isAtLeast(latencyMs, 0)
  assert.isBelow(latencyMs, 60_000)
  return rest
}

const callsOf = (calls: ReadonlyArray<Domain.LlmCall>) => calls.map(withoutLatency)

const researchId = Domain.ResearchId.make("op_model_agents")
const brief = "Find a momentum strategy on EURUSD that survives costs"
const designRequest = (overrides: Partial<Agents.DesignRequest> = {}): Agents.DesignRequest => ({
  researchId,
  brief,
  model: null,
  workers,
  recent: [],
  ...overrides
})

const gates = {
  training: { passed: true, reason: null, bypassed: false },
  backtest: { passed: false, reason: "sharpe_below_threshold (0.41 < 0.5)", bypassed: false }
}

/** Finished researches as the designer gets them, newest first; their results carry arrays a prompt must not quote. */
const recent: ReadonlyArray<Domain.Research> = [
  research("op_recent_1", {
    status: "completed",
    phase: "assessing",
    strategy: { name: "rsi_reversion_eurusd", spec: { instrument: "EURUSD", indicators: [{ name: "rsi", period: 7 }] } },
    gates,
    results: {
      training: { ...goodTraining, testAccuracy: 0.5734, modelWeights: [0.731, -0.442, 0.918] },
      backtest: { ...goodBacktest, sharpeRatio: 0.41, equityCurve: [10000, 10127.5, 9981.25] },
      assessment: { verdict: "rejected", summary: "Sharpe 0.41 is below the gate.", nextBrief: "Try MACD" }
    },
    finishedAt: 5000
  }),
  research("op_recent_2", {
    status: "failed",
    phase: "training",
    strategy: { name: "macd_cross_eurusd", spec: { instrument: "EURUSD", indicators: [{ name: "macd" }] } },
    gates: { training: { passed: false, reason: "accuracy_below_threshold (48.2% < 52%)", bypassed: false } },
    results: { training: { ...goodTraining, testAccuracy: 0.482 } },
    finishedAt: 4000
  })
]

const providers = ["anthropic", "openai"] as const

for (const provider of providers) {
  describe(`ModelAgents on ${provider}`, () => {
    describe("designer", () => {
      it.scopedLive("turns the model's design into a strategy and reports the call's tokens and cost", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider)
          fake.enqueue(FakeLlm.object(design, usage))
          const output = yield* run(designRequest())
          assert.deepStrictEqual(output.result, strategy)
          assert.deepStrictEqual(callsOf(output.calls), [{ ...usageCall[provider], error: null }])
          assert.strictEqual(fake.requests.length, 1)
          assert.strictEqual(fake.requests[0]?.provider, provider)
          assert.strictEqual((fake.requests[0]?.body as { model: string }).model, defaultModel[provider])
        }))

      it.scopedLive("tells the model the brief, the workers' capabilities and the latest outcomes, without arrays", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider)
          fake.enqueue(FakeLlm.object(design, usage))
          yield* run(designRequest({ recent }))
          const prompt = FakeLlm.promptText(fake.requests[0]!)
          for (
            const expected of [
              `Brief: ${brief}`,
              "- indicators: rsi, macd",
              "- instruments: EURUSD",
              "- timeframes: 1d",
              `- training worker declares ${JSON.stringify(capabilities)}`,
              `- backtest worker declares ${JSON.stringify(capabilities)}`,
              "The latest finished researches, newest first:",
              "1. completed, verdict rejected: rsi_reversion_eurusd",
              "training gate passed; backtest gate failed (sharpe_below_threshold (0.41 < 0.5))",
              "testAccuracy 0.5734",
              "sharpeRatio 0.41",
              "2. failed: macd_cross_eurusd",
              "training gate failed (accuracy_below_threshold (48.2% < 52%))",
              "testAccuracy 0.482"
            ]
          ) assert.include(prompt, expected)
          for (const absent of ["modelWeights", "0.918", "equityCurve", "10127.5", "epochLosses", "Try MACD"]) {
            assert.notInclude(prompt, absent)
          }
        }))

      it.scopedLive("says when no research has finished yet", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider)
          fake.enqueue(FakeLlm.object(design))
          yield* run(designRequest())
          assert.include(FakeLlm.promptText(fake.requests[0]!), "No research has finished yet.")
        }))

      it.scopedLive("waits as long as a 429's retry-after says, then charges both calls", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider)
          fake.enqueue(FakeLlm.status(429, { retryAfter: "1" }), FakeLlm.object(design, usage))
          const started = Date.now()
          const output = yield* run(designRequest())
          // retry-after: 1 overrides the 10 ms backoff.
          assert.isAtLeast(Date.now() - started, 950)
          assert.deepStrictEqual(output.result, strategy)
          assert.strictEqual(fake.requests.length, 2)
          assert.deepStrictEqual(callsOf(output.calls), [
            unanswered(provider, `${provider} answered HTTP 429: Fake ${provider} error 429`),
            { ...usageCall[provider], error: null }
          ])
        }))

      it.scopedLive("tries again after an overloaded (529) and a failing (500) provider", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider)
          fake.enqueue(FakeLlm.status(529), FakeLlm.status(500), FakeLlm.object(design, usage))
          const output = yield* run(designRequest())
          assert.deepStrictEqual(output.result, strategy)
          assert.strictEqual(fake.requests.length, 3)
          assert.deepStrictEqual(callsOf(output.calls), [
            unanswered(provider, `${provider} answered HTTP 529: Fake ${provider} error 529`),
            unanswered(provider, `${provider} answered HTTP 500: Fake ${provider} error 500`),
            { ...usageCall[provider], error: null }
          ])
        }))

      it.scopedLive("gives up when the retries run out, reporting every attempt", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider, { retries: 2 })
          fake.enqueue(FakeLlm.status(500), FakeLlm.status(500), FakeLlm.status(500), FakeLlm.status(500))
          const error = yield* Effect.flip(run(designRequest()))
          assert.strictEqual(error._tag, "AgentError")
          assert.strictEqual(error.agent, "designer")
          const problem = `${provider} answered HTTP 500: Fake ${provider} error 500`
          assert.strictEqual(error.reason, `${problem} (gave up after 3 attempts)`)
          assert.strictEqual(fake.requests.length, 3)
          assert.deepStrictEqual(callsOf(error.calls), [
            unanswered(provider, problem),
            unanswered(provider, problem),
            unanswered(provider, problem)
          ])
        }))

      it.scopedLive("sends an answer that fails the schema back once, charging both calls", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider)
          fake.enqueue(FakeLlm.malformed(), FakeLlm.object(design, usage))
          const output = yield* run(designRequest())
          assert.deepStrictEqual(output.result, strategy)
          assert.strictEqual(fake.requests.length, 2)
          const [first, second] = callsOf(output.calls)
          const { error, ...counted } = first!
          assert.deepStrictEqual(counted, defaultUsageCall[provider])
          assertSchemaProblem(error)
          assert.deepStrictEqual(second, { ...usageCall[provider], error: null })

          const repair = FakeLlm.promptText(fake.requests[1]!)
          assert.include(repair, `Brief: ${brief}`)
          assert.include(repair, "{\"oops\":true}")
          assert.include(repair, `That answer cannot be used: ${error}. Answer again with a corrected object.`)
          assert.notInclude(FakeLlm.promptText(fake.requests[0]!), "That answer cannot be used")
        }))

      it.scopedLive("asks once more after an answer that is not JSON at all", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider)
          fake.enqueue(FakeLlm.notJson(), FakeLlm.object(design, usage))
          const output = yield* run(designRequest())
          assert.deepStrictEqual(output.result, strategy)
          assert.strictEqual(fake.requests.length, 2)
          const [first, second] = callsOf(output.calls)
          const { error, ...counted } = first!
          assert.deepStrictEqual(counted, defaultUsageCall[provider])
          assert.isString(error)
          if (provider === "anthropic") {
            // A text block instead of the tool call: nothing to quote back.
            assert.strictEqual(error, "No object was generated by the large language model")
          } else {
            assert.isTrue(error!.startsWith("Generated object failed to conform to provided schema: "), error!)
            assert.include(error!, "is not valid JSON")
            assert.include(FakeLlm.promptText(fake.requests[1]!), "Sure! Here is the design.")
          }
          assert.deepStrictEqual(second, { ...usageCall[provider], error: null })
          assert.include(FakeLlm.promptText(fake.requests[1]!), `That answer cannot be used: ${error}.`)
        }))

      it.scopedLive("fails when the answer fails the schema twice, with both calls", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider)
          fake.enqueue(FakeLlm.malformed(), FakeLlm.malformed(), FakeLlm.object(design))
          const error = yield* Effect.flip(run(designRequest()))
          assert.strictEqual(fake.requests.length, 2)
          assert.strictEqual(
            error.reason,
            "the model's design was unusable twice: Generated object failed to conform to provided schema: name: is missing"
          )
          const calls = callsOf(error.calls)
          assert.strictEqual(calls.length, 2)
          for (const call of calls) {
            const { error: problem, ...counted } = call
            assert.deepStrictEqual(counted, defaultUsageCall[provider])
            assertSchemaProblem(problem)
          }
        }))

      it.scopedLive("sends a design naming what no worker supports back once, saying what they support", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider)
          const vwap = { ...design, indicators: [...design.indicators, { name: "vwap", parameters: [] }] }
          fake.enqueue(FakeLlm.object(vwap), FakeLlm.object(design, usage))
          const output = yield* run(designRequest())
          assert.deepStrictEqual(output.result, strategy)
          assert.strictEqual(fake.requests.length, 2)
          const [first, second] = callsOf(output.calls)
          // The unusable design's call is charged like any other (its `error` is not pinned here).
          const { error: _error, ...counted } = first!
          assert.deepStrictEqual(counted, defaultUsageCall[provider])
          assert.deepStrictEqual(second, { ...usageCall[provider], error: null })
          assert.include(
            FakeLlm.promptText(fake.requests[1]!),
            "That answer cannot be used: it names what no worker supports: indicator \"vwap\" " +
              "(the workers support rsi, macd). Answer again with a corrected object."
          )
        }))

      it.scopedLive("fails when the design names what no worker supports twice", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider)
          const vwap = { ...design, indicators: [{ name: "vwap", parameters: [] }] }
          fake.enqueue(FakeLlm.object(vwap), FakeLlm.object({ ...vwap, instrument: "GBPUSD" }))
          const error = yield* Effect.flip(run(designRequest()))
          assert.strictEqual(fake.requests.length, 2)
          assert.strictEqual(
            error.reason,
            "the model's design was unusable twice: it names what no worker supports: " +
              "indicator \"vwap\" (the workers support rsi, macd); instrument \"GBPUSD\" (the workers support EURUSD)"
          )
          assert.deepStrictEqual(
            callsOf(error.calls).map(({ error: _error, ...counted }) => counted),
            [defaultUsageCall[provider], defaultUsageCall[provider]]
          )
        }))

      it.scopedLive("gives up on an answer slower than the timeout", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider, { timeout: Duration.millis(300), retries: 0 })
          fake.enqueue(FakeLlm.slow(2000, FakeLlm.object(design)))
          const started = Date.now()
          const error = yield* Effect.flip(run(designRequest()))
          assert.isAtLeast(Date.now() - started, 290)
          assert.strictEqual(error.reason, "no answer within 300ms (gave up after 1 attempts)")
          assert.deepStrictEqual(callsOf(error.calls), [unanswered(provider, "no answer within 300ms")])
          assert.isAtLeast(error.calls[0]!.latencyMs, 290)
        }))

      it.scopedLive("asks again after a timeout", () =>
        Effect.gen(function*() {
          // A second is plenty for the fast answer, even on a loaded machine.
          const { fake, design: run } = yield* agents(provider, { timeout: Duration.seconds(1), retries: 1 })
          fake.enqueue(FakeLlm.slow(10_000, FakeLlm.object(design)), FakeLlm.object(design, usage))
          const output = yield* run(designRequest())
          assert.deepStrictEqual(output.result, strategy)
          assert.strictEqual(fake.requests.length, 2)
          assert.deepStrictEqual(callsOf(output.calls), [
            unanswered(provider, "no answer within 1s"),
            { ...usageCall[provider], error: null }
          ])
        }))

      for (const code of [400, 401]) {
        it.scopedLive(`does not retry a ${code}: it fails with the provider's message`, () =>
          Effect.gen(function*() {
            const { fake, design: run } = yield* agents(provider, { retries: 3 })
            fake.enqueue(FakeLlm.status(code), FakeLlm.object(design))
            const error = yield* Effect.flip(run(designRequest()))
            const problem = `${provider} answered HTTP ${code}: Fake ${provider} error ${code}`
            assert.strictEqual(error.reason, problem)
            assert.strictEqual(error.message, `designer failed: ${problem}`)
            assert.strictEqual(fake.requests.length, 1)
            assert.deepStrictEqual(callsOf(error.calls), [unanswered(provider, problem)])
          }))
      }

      it.scopedLive("sends a trigger's own model and prices the call at its price", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider)
          // claude-haiku-4-5 ($1, $0.10, $5): 1500*1 + 200*0.1 + 400*5 = 3520 micro-dollars;
          // gpt-5-mini ($0.25, $0.025, $2): 1300*0.25 + 200*0.025 + 400*2 = 1130.
          const own = provider === "anthropic"
            ? { model: "claude-haiku-4-5", inputTokens: 1700, costUsd: 0.00352 }
            : { model: "gpt-5-mini", inputTokens: 1500, costUsd: 0.00113 }
          fake.enqueue(FakeLlm.object(design, usage))
          const output = yield* run(designRequest({ model: own.model }))
          assert.strictEqual((fake.requests[0]?.body as { model: string }).model, own.model)
          assert.deepStrictEqual(callsOf(output.calls), [{
            model: own.model,
            inputTokens: own.inputTokens,
            outputTokens: 400,
            cachedInputTokens: 200,
            costUsd: own.costUsd,
            error: null
          }])
        }))

      it.scopedLive("prices a dated model id as the model it starts with", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider)
          const dated = `${defaultModel[provider]}-20250929`
          fake.enqueue(FakeLlm.object(design, usage))
          const output = yield* run(designRequest({ model: dated }))
          assert.strictEqual((fake.requests[0]?.body as { model: string }).model, dated)
          assert.deepStrictEqual(callsOf(output.calls), [{ ...usageCall[provider], model: dated, error: null }])
        }))

      it.scopedLive("refuses a model without a price before calling it", () =>
        Effect.gen(function*() {
          const { fake, design: run } = yield* agents(provider)
          const error = yield* Effect.flip(run(designRequest({ model: "mystery-model" })))
          assert.match(error.reason, /^no price for model mystery-model \(priced: claude-opus-4-5, .*, o4-mini, or a dated id of one\): /)
          assert.include(error.reason, "add it to the server's FOREMAN_LLM_PRICES, e.g. {\"mystery-model\":{\"input\":3,\"output\":15}}")
          assert.deepStrictEqual(error.calls, [])
          assert.strictEqual(fake.requests.length, 0)
        }))
    })

    describe("assessor", () => {
      const assessment = {
        verdict: "promising",
        summary: "Test accuracy 62% passed the gate but the Sharpe ratio 0.41 missed 0.5.",
        nextBrief: "Add a trend filter to the RSI and MACD strategy"
      } as const
      const assessmentRequest = (model: string | null = null): Agents.AssessmentRequest => ({
        researchId,
        brief,
        model,
        strategy,
        results: {
          training: { ...goodTraining, modelWeights: [0.731, -0.442] },
          backtest: { ...goodBacktest, sharpeRatio: 0.41, equityCurve: [10000, 10127.5] }
        },
        gates
      })

      it.scopedLive("returns the model's verdict, summary and next brief with the call", () =>
        Effect.gen(function*() {
          const { fake, assess } = yield* agents(provider)
          fake.enqueue(FakeLlm.object(assessment, usage))
          const output = yield* assess(assessmentRequest())
          assert.deepStrictEqual(output.result, assessment)
          assert.deepStrictEqual(callsOf(output.calls), [{ ...usageCall[provider], error: null }])

          const prompt = FakeLlm.promptText(fake.requests[0]!)
          for (
            const expected of [
              `Brief: ${brief}`,
              `Strategy: rsi_macd_trend ${JSON.stringify(strategy.spec)}`,
              "training gate passed",
              "backtest gate failed (sharpe_below_threshold (0.41 < 0.5))",
              "training metrics: kind classification, testAccuracy 0.62, testLoss 0.41",
              "sharpeRatio 0.41"
            ]
          ) assert.include(prompt, expected)
          for (const absent of ["modelWeights", "equityCurve", "10127.5", "epochLosses"]) {
            assert.notInclude(prompt, absent)
          }
        }))

      it.scopedLive("says which phase did not run", () =>
        Effect.gen(function*() {
          const { fake, assess } = yield* agents(provider)
          fake.enqueue(FakeLlm.object(assessment))
          yield* assess({ ...assessmentRequest(), strategy: null, results: {}, gates: {} })
          const prompt = FakeLlm.promptText(fake.requests[0]!)
          assert.include(prompt, "Strategy: none")
          assert.include(prompt, "training metrics: none (the phase did not run)")
          assert.include(prompt, "backtest metrics: none (the phase did not run)")
        }))

      it.scopedLive("fails on an assessment that fails the schema twice, naming the assessor", () =>
        Effect.gen(function*() {
          const { fake, assess } = yield* agents(provider)
          fake.enqueue(FakeLlm.object({ ...assessment, verdict: "great" }), FakeLlm.malformed())
          const error: Errors.AgentError = yield* Effect.flip(assess(assessmentRequest()))
          assert.strictEqual(error.agent, "assessor")
          assert.strictEqual(
            error.reason,
            "the model's assessment was unusable twice: Generated object failed to conform to provided schema: " +
              "verdict: is missing"
          )
          assert.deepStrictEqual(
            callsOf(error.calls).map(({ error: _error, ...counted }) => counted),
            [defaultUsageCall[provider], defaultUsageCall[provider]]
          )
          assert.include(
            FakeLlm.promptText(fake.requests[1]!),
            "That answer cannot be used: Generated object failed to conform to provided schema: " +
              "verdict: Expected \"promising\", actual \"great\"; verdict: Expected \"inconclusive\", actual \"great\"; " +
              "verdict: Expected \"rejected\", actual \"great\". Answer again with a corrected object."
          )
        }))

      it.scopedLive("uses a trigger's own model", () =>
        Effect.gen(function*() {
          const { fake, assess } = yield* agents(provider)
          const own = provider === "anthropic" ? "claude-haiku-4-5" : "gpt-5-mini"
          fake.enqueue(FakeLlm.object(assessment, usage))
          const output = yield* assess(assessmentRequest(own))
          assert.strictEqual((fake.requests[0]?.body as { model: string }).model, own)
          assert.strictEqual(output.calls[0]?.model, own)
        }))
    })
  })
}

/** The schema's complaint about `{ "oops": true }`: the design's first field is missing. */
function assertSchemaProblem(problem: string | null) {
  assert.isString(problem)
  assert.include(problem, "Generated object failed to conform to provided schema: name: is missing")
}
