/**
 * `GET /api/v1/plan` on a real server over HTTP on 127.0.0.1, after a few
 * researches ran on the in-memory engine (one training worker, trainings of
 * 400 ms, so researches wait for it): one point per worker count with its
 * spreads, the observed point, fewer waits with more training workers, the
 * same answer to the same question asked twice at once, 400s that say what is
 * wrong, and a window with no research answered as `NoPlanHistory`.
 */
import { assert, describe, it } from "@effect/vitest"
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import { Duration, Effect } from "effect"

const body = (response: Response) => Effect.promise(() => response.json() as Promise<Record<string, unknown>>)

describe("GET /plan", () => {
  it.scopedLive("answers waits and throughput per training worker count; 400 for bad questions; 422 without history", () =>
    Effect.gen(function*() {
      const server = yield* startServer({
        engine: {
          config: { maxConcurrentResearches: 4 },
          handlers: {
            training: () => Effect.as(Effect.sleep(Duration.millis(400)), goodTraining),
            backtest: () => Effect.succeed(goodBacktest)
          }
        }
      })
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const api = yield* server.client()
      for (const brief of ["Explore RSI variations", "Test MACD strategies", "Bollinger bands", "Momentum on SPY"]) {
        yield* api.agent.trigger({ payload: { brief } })
      }
      yield* eventually(api.agent.status(), (s) => s.active.length === 0, 30)

      // A window of its own (`until`): without it, two requests on either side of a minute's end ask about
      // two windows (each ends at the end of its minute).
      const until = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 60_000).toISOString()
      const path = `/api/v1/plan?since=1h&until=${until}&type=training&counts=1..3&seeds=3`
      const [first, second] = yield* Effect.all([server.fetch(path), server.fetch(path)], { concurrency: 2 })
      assert.strictEqual(first.status, 200)
      const plan = yield* api.agent.plan({ urlParams: { since: "1h", type: "training", counts: "1..3", seeds: 3 } })
      assert.deepStrictEqual(yield* body(first), yield* body(second))
      assert.strictEqual(plan.type, "training")
      assert.strictEqual(plan.seeds, 3)
      assert.deepStrictEqual(plan.points.map((p) => p.workers), [1, 2, 3])
      assert.strictEqual(plan.observed.workers, 1)
      assert.strictEqual(plan.workers["training"], 1)
      assert.isAbove(plan.observed.waitP50Seconds, 0, "researches waited for the one training worker")
      assert.isAbove(plan.observed.researchesPerDay, 0)
      for (const p of plan.points) {
        for (const s of [p.waitP50Seconds, p.waitP95Seconds, p.researchesPerDay, p.utilisation]) {
          assert.isTrue(s.p5 <= s.p50 && s.p50 <= s.p95, JSON.stringify(s))
        }
        assert.isAbove(p.researchesPerDay.p50, 0)
      }
      const [one, , three] = plan.points
      assert.isAtMost(three!.waitP50Seconds.p50, one!.waitP50Seconds.p50)
      assert.isAbove(one!.waitP50Seconds.p50, 0, "one training worker makes the replay wait too")

      const refused = [
        ["since=yesterday", "since"],
        ["type=gpu", "unknown worker type \"gpu\""],
        ["counts=5..1", "backwards"],
        ["counts=1..13", "at most 12 worker counts"],
        ["seeds=21", "seeds"],
        ["counts=1..12&seeds=6", "at most 60"]
      ] as const
      for (const [query, says] of refused) {
        const response = yield* server.fetch(`/api/v1/plan?${query}`)
        assert.strictEqual(response.status, 400, query)
        const error = yield* body(response)
        assert.include(["InvalidInput", "HttpApiDecodeError"], error["_tag"], query)
        assert.include(String(error["message"]), says, `${query}: ${JSON.stringify(error)}`)
      }

      const empty = yield* server.fetch("/api/v1/plan?since=2020-01-01&until=2020-01-08&counts=1..2&seeds=1")
      assert.strictEqual(empty.status, 422)
      const none = yield* body(empty)
      assert.strictEqual(none["_tag"], "NoPlanHistory")
      assert.include(String(none["message"]), "No research was created in this window")
    }), { timeout: 120_000 })
})
