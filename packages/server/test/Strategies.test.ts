/**
 * The strategy catalogue over HTTP on 127.0.0.1: `GET /strategies` and
 * `GET /strategies/{name}` (404 `StrategyNotFound` for an unknown name), a
 * trigger naming a stored strategy, and the endpoints kept for operators.
 */
import { assert, describe, it } from "@effect/vitest"
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import { eventually, json, startLabServer, startServer } from "@foreman/testing/ApiHarness"
import { Effect } from "effect"

const bodyOf = (response: Response) => Effect.promise(() => response.json() as Promise<Record<string, unknown>>)

describe("strategies API", () => {
  it.scopedLive("lists designs newest first with best metrics, gets one, 404 for an unknown name", () =>
    Effect.gen(function*() {
      const server = yield* startLabServer
      const api = yield* server.client()
      assert.deepStrictEqual(yield* api.agent.strategies(), [])

      const first = yield* api.agent.trigger({ payload: { brief: "Explore RSI variations" } })
      yield* eventually(api.agent.status(), (s) => s.active.length === 0)
      const second = yield* api.agent.trigger({ payload: { brief: "Test MACD strategies" } })
      yield* eventually(api.agent.status(), (s) => s.active.length === 0)

      const list = yield* api.agent.strategies()
      assert.deepStrictEqual(list.map((s) => s.researchId), [second.researchId, first.researchId])
      const designed = (yield* api.agent.show({ path: { id: first.researchId } })).research.strategy!
      const one = yield* api.agent.strategy({ path: { name: designed.name } })
      assert.deepStrictEqual(one, list[1])
      assert.deepStrictEqual(one.strategy, designed)
      assert.strictEqual(one.researches, 1)
      assert.deepStrictEqual(one.best, {
        sharpeRatio: goodBacktest.sharpeRatio,
        totalReturn: goodBacktest.totalReturn,
        testAccuracy: goodTraining.testAccuracy
      })

      const missing = yield* Effect.flip(api.agent.strategy({ path: { name: `${designed.name}0` } }))
      assert.strictEqual(missing._tag, "StrategyNotFound")
      const raw = yield* server.fetch(`/api/v1/strategies/${designed.name}0`)
      assert.strictEqual(raw.status, 404)
      const body = yield* bodyOf(raw)
      assert.strictEqual(body["_tag"], "StrategyNotFound")
      assert.match(body["message"] as string, new RegExp(`^Unknown strategy: ${designed.name}0 \\(closest: ${designed.name}`))
    }))

  it.scopedLive("a trigger naming a stored strategy trains it without designing; an unknown name is 404", () =>
    Effect.gen(function*() {
      const server = yield* startLabServer
      const api = yield* server.client()
      yield* api.agent.trigger({ payload: { brief: "Explore RSI variations" } })
      const [stored] = yield* eventually(api.agent.strategies(), (l) => l.length === 1)

      const reuse = yield* api.agent.trigger({ payload: { strategy: stored!.name } })
      const done = yield* eventually(
        api.agent.show({ path: { id: reuse.researchId } }),
        (d) => d.research.status === "completed"
      )
      assert.deepStrictEqual(done.research.strategy, stored!.strategy)
      assert.deepStrictEqual(done.jobs.map((j) => j.kind), ["training", "backtest", "assessment"])
      assert.strictEqual((yield* api.agent.strategy({ path: { name: stored!.name } })).researches, 2)

      const unknown = yield* server.fetch("/api/v1/agent/trigger", json("POST", { strategy: "no_such_strategy" }))
      assert.strictEqual(unknown.status, 404)
      const body = yield* bodyOf(unknown)
      assert.strictEqual(body["_tag"], "StrategyNotFound")
      assert.match(body["message"] as string, /^Unknown strategy: no_such_strategy \(closest: /)
    }))

  it.scopedLive("is for operators: a worker token gets 403", () =>
    Effect.gen(function*() {
      const tokens = { operator: "op-secret", worker: "worker-secret" }
      const server = yield* startServer({ tokens })
      const worker = yield* server.client(tokens.worker)
      assert.strictEqual((yield* Effect.flip(worker.agent.strategies()))._tag, "Forbidden")
      assert.strictEqual((yield* Effect.flip(worker.agent.strategy({ path: { name: "x" } })))._tag, "Forbidden")
      assert.deepStrictEqual(yield* (yield* server.client(tokens.operator)).agent.strategies(), [])
    }))
})
