/**
 * `GET /api/v1/history`: what the coordinator recorded over a window, read
 * over real HTTP on 127.0.0.1 from the engine in memory and on real
 * PostgreSQL — the researches, their jobs with queue, start and end, the LLM
 * calls, the worker slots and the budget — and the 400s for a window that
 * does not parse or is empty.
 */
import { HttpServer } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { MemoryWorkers } from "@foreman/adapter-memory"
import { createClient } from "@foreman/api"
import { instantHandlers } from "@foreman/adapter-memory/TestEngine"
import { Coordinator } from "@foreman/core"
import { client, eventually, quiet, startServer, tokenConfig } from "@foreman/testing/ApiHarness"
import { createDatabase } from "@foreman/testing/PgDatabase"
import { engine } from "@foreman/testing/PgEngine"
import { Context, Effect, Layer, type Scope } from "effect"
import { beforeAll } from "vitest"
import { ApiServer } from "../src/index.js"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_history")
})

interface Served {
  readonly baseUrl: string
  readonly workers: MemoryWorkers.MemoryWorkersShape
}

const inMemory = Effect.map(startServer({ engine: { handlers: instantHandlers } }), (s): Served => s)

const onPostgres = Effect.gen(function*() {
  const context = yield* Layer.build(
    ApiServer.serve({ host: "127.0.0.1", port: 0 }).pipe(Layer.provideMerge(Layer.fresh(engine(url, { handlers: instantHandlers }))))
  ).pipe(Effect.withConfigProvider(tokenConfig()), quiet)
  const address = Context.get(context, HttpServer.HttpServer).address
  if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
  yield* Effect.forkScoped(quiet(Context.get(context, Coordinator.Coordinator).run))
  return { baseUrl: `http://127.0.0.1:${address.port}`, workers: Context.get(context, MemoryWorkers.MemoryWorkers) } satisfies Served
})

const get = (baseUrl: string, path: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${baseUrl}${path}`)
    return { status: response.status, body: await response.json() as Record<string, unknown> }
  })

const suite = (name: string, serve: Effect.Effect<Served, unknown, Scope.Scope>) =>
  describe(`GET /history (${name})`, () => {
    it.scopedLive("answers the window's researches, jobs, calls, worker slots and budget; 400 for a bad window", () =>
      Effect.gen(function*() {
        const server = yield* serve
        yield* server.workers.spawn({ id: "training-1", type: "training" })
        yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
        const api = yield* client(server.baseUrl)
        const before = Date.now()
        for (const brief of ["first", "second"]) yield* api.agent.trigger({ payload: { brief } })
        yield* eventually(api.agent.list({ urlParams: { limit: 10, offset: 0 } }), (page) =>
          page.researches.length === 2 && page.researches.every((r) => r.status === "completed"), 30)

        const history = yield* api.agent.history({ urlParams: { since: "1h" } })
        assert.isAtMost(Math.abs(history.until - Date.now()), 60_000)
        assert.strictEqual(history.until - history.since, 3_600_000)
        assert.strictEqual(history.dailyBudgetUsd, 5)
        assert.strictEqual(history.maxConcurrentResearches, 0)
        assert.deepStrictEqual(history.workers, { training: 1, backtest: 1 })
        assert.deepStrictEqual(history.researches.map(([, , status]) => status), ["completed", "completed"])
        for (const [createdAt, finishedAt] of history.researches) {
          assert.isAtLeast(createdAt, before - 1000)
          assert.isAtLeast(finishedAt!, createdAt)
        }
        const kinds = history.jobs.map(([kind, workerType]) => `${kind}:${workerType}`).sort()
        assert.deepStrictEqual(kinds, [
          "assessment:null", "assessment:null", "backtest:backtest", "backtest:backtest",
          "design:null", "design:null", "training:training", "training:training"
        ])
        for (const [, , queuedAt, startedAt, finishedAt, status] of history.jobs) {
          assert.isAtMost(queuedAt, startedAt)
          assert.isAtLeast(finishedAt!, startedAt)
          assert.strictEqual(status, "completed")
        }
        const starts = history.jobs.map(([, , , startedAt]) => startedAt)
        assert.deepStrictEqual(starts, [...starts].sort((a, b) => a - b))
        // The offline agents' calls: charged, and marked simulated.
        assert.isAtLeast(history.llmCalls.length, 4)
        assert.isTrue(history.llmCalls.every(([at, usd, simulated]) => at >= before - 1000 && usd > 0 && simulated))

        const old = yield* api.agent.history({ urlParams: { since: "2026-01-01", until: new Date(before - 60_000) } })
        assert.deepStrictEqual([old.researches, old.jobs, old.llmCalls], [[], [], []])

        const bad = [
          ["/api/v1/history?since=yesterday", /since: expected a span such as 7d, 36h, 90m or 2w/],
          ["/api/v1/history?since=0d", /since: 0d is an empty window/],
          ["/api/v1/history?since=2999-01-01", /since: 2999-01-01 is not before the end of the window/],
          ["/api/v1/history?until=soon", /until/]
        ] as const
        for (const [path, message] of bad) {
          const answer = yield* get(server.baseUrl, path)
          assert.strictEqual(answer.status, 400, path)
          assert.match(JSON.stringify(answer.body), message, path)
        }
        const foreman = createClient({ url: server.baseUrl })
        const viaPromise = yield* Effect.promise(() => foreman.history({ since: "1h" }))
        yield* Effect.promise(() => foreman.dispose())
        assert.deepStrictEqual(viaPromise.researches, history.researches)

        const openApi = yield* get(server.baseUrl, "/openapi.json")
        assert.property((openApi.body as { paths: Record<string, unknown> }).paths, "/api/v1/history")
      }), 90_000)
  })

suite("memory", inMemory)
suite("PostgreSQL", onPostgres)
