/**
 * The coordinator's HTTP server on real PostgreSQL, for what only a real
 * database shows: text PostgreSQL cannot store (NUL, lone surrogates) in a
 * worker's report is refused with 400 naming the field, never a 503 from the
 * failed write (which a worker would retry forever).
 */
import { HttpServer } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { MemoryWorkers } from "@foreman/adapter-memory"
import { Coordinator } from "@foreman/core"
import { Context, Effect, Layer } from "effect"
import { beforeAll } from "vitest"
import { engine } from "@foreman/testing/PgEngine"
import { createDatabase } from "@foreman/testing/PgDatabase"
import { ApiServer } from "../src/index.js"
import { goodTraining } from "@foreman/adapter-memory/TestEngine"
import { client, eventually, json, quiet, tokenConfig } from "@foreman/testing/ApiHarness"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_api_server")
})

/** Workers that never finish on their own: their jobs wait for reports. */
const stuckWorkers: MemoryWorkers.MemoryWorkersOptions["handlers"] = {
  training: () => Effect.never,
  backtest: () => Effect.never
}

/** The API on 127.0.0.1 (a port the system chooses) over the engine on PostgreSQL, in the caller's scope. */
const startServer = Effect.gen(function*() {
  const context = yield* Layer.build(
    ApiServer.serve({ host: "127.0.0.1", port: 0 }).pipe(
      Layer.provideMerge(Layer.fresh(engine(url, { handlers: stuckWorkers })))
    )
  ).pipe(Effect.withConfigProvider(tokenConfig()), quiet)
  const address = Context.get(context, HttpServer.HttpServer).address
  if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
  yield* Effect.forkScoped(quiet(Context.get(context, Coordinator.Coordinator).run))
  const baseUrl = `http://127.0.0.1:${address.port}`
  return {
    api: yield* client(baseUrl),
    workers: Context.get(context, MemoryWorkers.MemoryWorkers),
    fetch: (path: string, init?: RequestInit) => Effect.promise(() => fetch(`${baseUrl}${path}`, init))
  }
})

describe("ApiServer on PostgreSQL", () => {
  it.scopedLive("answers 400, not 503, to a report PostgreSQL cannot store, and stores nothing of it", () =>
    Effect.gen(function*() {
      const server = yield* startServer
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      const { researchId } = yield* server.api.agent.trigger({ payload: { brief: "Explore RSI variations" } })
      const status = yield* eventually(server.api.agent.status(), (s) => s.active[0]?.job?.kind === "training", 30)
      const jobId = status.active[0]!.job!.id
      const before = yield* server.api.agent.show({ path: { id: researchId } })
      const report = `/api/v1/workers/training-1/jobs/${jobId}/report`
      const cases: ReadonlyArray<readonly [string, string, string]> = [
        ["NUL in a result", JSON.stringify({ _tag: "Completed", result: { log: "epoch\u00001" } }), "result"],
        ["lone surrogate in a result", "{\"_tag\": \"Completed\", \"result\": \"\\ud800\"}", "result"],
        ["NUL in a progress message", JSON.stringify({ _tag: "Progress", progress: 0.5, message: "a\u0000" }), "message"],
        ["NUL in an error", JSON.stringify({ _tag: "Failed", error: "\u0000" }), "error"]
      ]
      for (const [name, body, field] of cases) {
        const response = yield* server.fetch(report, json("POST", body))
        const answer = yield* Effect.promise(() => response.json() as Promise<Record<string, unknown>>)
        assert.strictEqual(response.status, 400, `${name}: ${JSON.stringify(answer)}`)
        assert.include(answer["message"], `${field}: text must be valid Unicode without NUL characters`, name)
      }
      const after = yield* server.api.agent.show({ path: { id: researchId } })
      assert.deepStrictEqual(after.jobs, before.jobs)
      const completed = yield* server.fetch(report, json("POST", { _tag: "Completed", result: goodTraining }))
      assert.strictEqual(completed.status, 200)
    }))

  it.scopedLive("answers 400, not 503, to a registration PostgreSQL cannot store (found by the chaos suite)", () =>
    Effect.gen(function*() {
      const server = yield* startServer
      const base = { id: "odd-1", type: "training", endpoint: "http://127.0.0.1:5005" }
      const cases: ReadonlyArray<readonly [string, string, string]> = [
        ["NUL in a capability", JSON.stringify({ ...base, capabilities: { note: "a\u0000b" } }), "capabilities"],
        ["lone surrogate in a capability key", `{"id":"odd-1","type":"training","endpoint":"x","capabilities":{"k\\udfff":1}}`, "capabilities"],
        ["NUL in the endpoint", JSON.stringify({ ...base, endpoint: "http://h\u0000" }), "endpoint"],
        ["NUL in a running job", JSON.stringify({ ...base, runningJobs: ["job_\u0000"] }), "runningJobs"]
      ]
      for (const [name, body, field] of cases) {
        const response = yield* server.fetch("/api/v1/workers/register", json("POST", body))
        const answer = yield* Effect.promise(() => response.text())
        assert.strictEqual(response.status, 400, `${name}: ${answer}`)
        assert.include(answer, field, name)
      }
      const listed = yield* server.api.workers.list({ urlParams: {} })
      assert.isFalse(listed.some((w) => w.id === "odd-1"), "nothing registered")
    }))
})
