/**
 * What the coordinator gives its agents and takes from them, in memory: a
 * designer is told the registered workers' capabilities and the latest
 * finished researches; every LLM call an agent reports is charged — one
 * ledger entry each, failed attempts and failed agents included — and shows
 * in the research's cost, its job's usage and `show`.
 */
import { assert, describe, it } from "@effect/vitest"
import { OfflineAgents } from "@foreman/agents"
import { Agents, Budget, Coordinator, type Domain, Engine, Errors, ForemanConfig, Researches } from "@foreman/core"
import { Effect, Layer } from "effect"
import { Memory, MemoryWorkers } from "../src/index.js"
import { advance, goodBacktest, goodTraining, lead, show, takes } from "../src/TestEngine.js"

const call = (costUsd: number, error: string | null = null): Domain.LlmCall => ({
  model: "claude-sonnet-4-5",
  inputTokens: 1000,
  outputTokens: 200,
  cachedInputTokens: 100,
  costUsd,
  latencyMs: 1500,
  error
})

const capabilities = { indicators: ["rsi"], instruments: ["EURUSD"], timeframes: ["1d"] }

/** A lab whose designer records what it was asked and answers with two calls (the first a 429), failing on briefs that say so. */
const lab = (asked: Array<Agents.DesignRequest>, storage = Memory.storage) =>
  Engine.layer({
    storage,
    agents: Layer.mergeAll(
      Layer.succeed(Agents.Designer, Agents.Designer.of({
        design: (request) =>
          Effect.suspend(() => {
            asked.push(request)
            const calls = [call(0, "anthropic answered HTTP 429"), call(0.0125)]
            return request.brief.includes("fail")
              ? Effect.fail(new Errors.AgentError({ agent: "designer", reason: "the model's design was unusable twice", calls }))
              : Effect.succeed({ result: { name: `rsi_${asked.length}`, spec: { indicators: [{ name: "rsi" }] } }, calls })
          })
      })),
      Layer.succeed(Agents.Assessor, OfflineAgents.assessor())
    ),
    transport: MemoryWorkers.layer({ handlers: { training: takes(100, goodTraining), backtest: takes(50, goodBacktest) } }),
    config: ForemanConfig.layerWith({})
  })

/**
 * The memory storage, with the lists of recent researches (what an agent is told) failing `times` times
 * first (a database outage). A list of one research's children (what `show` reads) is left alone: the
 * test reads the research through it.
 */
const flakyStorage = (times: number) =>
  Layer.effect(
    Researches.Researches,
    Effect.map(Researches.Researches, (store) => {
      let failures = 0
      return Researches.Researches.of({
        ...store,
        list: (query) =>
          query.parentId === undefined && failures++ < times ? Effect.fail(new Errors.StorageError({ reason: "connection terminated" })) : store.list(query)
      })
    })
  ).pipe(Layer.provideMerge(Memory.storage))

const spawn = Effect.gen(function*() {
  const pool = yield* MemoryWorkers.MemoryWorkers
  yield* pool.spawn({ id: "training-1", type: "training", capabilities })
  yield* pool.spawn({ id: "backtest-1", type: "backtest", capabilities })
})

describe("agents through the coordinator", () => {
  it.scoped("a designer is told the workers' capabilities and the latest finished researches", () => {
    const asked: Array<Agents.DesignRequest> = []
    return Effect.gen(function*() {
      yield* spawn
      yield* lead
      const coordinator = yield* Coordinator.Coordinator
      const first = yield* coordinator.trigger({ brief: "Explore RSI" })
      yield* advance(200)
      assert.strictEqual((yield* show(first.id)).research.status, "completed")
      yield* coordinator.trigger({ brief: "More RSI" })
      yield* advance(1)

      assert.strictEqual(asked.length, 2)
      assert.deepStrictEqual(asked[0]!.recent, [], "nothing had finished before the first design")
      assert.deepStrictEqual(asked[0]!.workers.map((w) => w.workerType).sort(), ["backtest", "training"])
      for (const w of asked[0]!.workers) assert.deepStrictEqual(w.capabilities, capabilities)
      assert.deepStrictEqual(asked[1]!.recent.map((r) => [r.id, r.status, r.strategy?.name]), [[first.id, "completed", "rsi_1"]])
      assert.isDefined(asked[1]!.recent[0]!.results["backtest"])
    }).pipe(Effect.provide(Layer.fresh(lab(asked))))
  })

  it.scoped("a storage outage while reading what the agent is told delays the design, it does not fail it", () => {
    const asked: Array<Agents.DesignRequest> = []
    return Effect.gen(function*() {
      yield* spawn
      yield* lead
      const coordinator = yield* Coordinator.Coordinator
      const research = yield* coordinator.trigger({ brief: "Explore RSI" })
      yield* advance(1)
      assert.strictEqual(asked.length, 0, "the agent waits for storage")
      assert.strictEqual((yield* show(research.id)).research.status, "running")
      yield* advance(200)
      assert.strictEqual(asked.length, 1)
      assert.strictEqual((yield* show(research.id)).research.status, "completed")
    }).pipe(Effect.provide(Layer.fresh(lab(asked, flakyStorage(4)))))
  })

  it.scoped("every call is charged, failed attempts and failed agents too", () =>
    Effect.gen(function*() {
      yield* spawn
      yield* lead
      const coordinator = yield* Coordinator.Coordinator
      const budget = yield* Budget.Budget
      const designed = yield* coordinator.trigger({ brief: "Explore RSI" })
      const failed = yield* coordinator.trigger({ brief: "this one will fail" })
      yield* advance(1)

      const ok = yield* show(designed.id)
      assert.deepStrictEqual(
        ok.llmCalls.map((c) => [c.jobId, c.call, c.costUsd, c.error]),
        [[ok.jobs[0]!.id, 0, 0, "anthropic answered HTTP 429"], [ok.jobs[0]!.id, 1, 0.0125, null]]
      )
      assert.deepStrictEqual(ok.llmCalls[1], {
        researchId: designed.id,
        jobId: ok.jobs[0]!.id,
        call: 1,
        ...call(0.0125),
        at: ok.llmCalls[1]!.at
      })
      assert.deepStrictEqual(ok.jobs[0]!.usage, {
        model: "claude-sonnet-4-5",
        inputTokens: 2000,
        outputTokens: 400,
        costUsd: 0.0125
      })
      assert.strictEqual(ok.research.costUsd, 0.0125)

      const bad = yield* show(failed.id)
      assert.strictEqual(bad.research.status, "failed")
      assert.strictEqual(bad.research.error, "design job failed: designer failed: the model's design was unusable twice")
      assert.deepStrictEqual(bad.llmCalls.map((c) => [c.call, c.costUsd]), [[0, 0], [1, 0.0125]])
      assert.strictEqual(bad.jobs[0]!.usage?.costUsd, 0.0125)
      assert.strictEqual(bad.research.costUsd, 0.0125)
      assert.strictEqual((yield* budget.status()).spentUsd, 0.025)
    }).pipe(Effect.provide(Layer.fresh(lab([])))))
})
