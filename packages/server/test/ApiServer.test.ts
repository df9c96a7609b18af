/**
 * The coordinator's HTTP server over real HTTP on 127.0.0.1: every endpoint
 * through the typed client, malformed requests through raw fetch, tokens,
 * the binding rule, the docs, and the API mounted inside another server.
 */
import { assert, describe, it } from "@effect/vitest"
import { Memory } from "@foreman/adapter-memory"
import { Providers } from "@foreman/agents"
import { Coordinator, type Domain, ForemanConfig } from "@foreman/core"
import { HttpServer } from "@effect/platform"
import { ConfigProvider, Context, Effect, Layer } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { ApiServer, Server } from "../src/index.js"
import { goodTraining, instantHandlers } from "@foreman/adapter-memory/TestEngine"
import { client, eventually, json, quiet, startServer, tokenConfig } from "@foreman/testing/ApiHarness"
import * as FakeLlm from "@foreman/testing/FakeLlm"


/** Workers that finish at once, so researches complete in milliseconds. */
/** Workers that never finish on their own: their jobs wait for reports. */
const stuckWorkers: Memory.MemoryOptions["handlers"] = { training: () => Effect.never, backtest: () => Effect.never }

const bodyOf = (response: Response) => Effect.promise(() => response.json() as Promise<Record<string, unknown>>)

const trigger = "/api/v1/agent/trigger"

/** The list query with its defaults (the typed client sends decoded values). */
const firstPage = { limit: 50, offset: 0 }

/** A registration with its defaults, for a worker of a type no pipeline phase uses. */
const registration = (id: Domain.WorkerId) => ({
  id,
  type: "gpu",
  endpoint: "http://10.0.0.7:5005",
  capacity: 1,
  capabilities: {},
  runningJobs: [],
  finishedJobs: []
})

describe("ApiServer", () => {
  it.scopedLive("accepts a trigger with 202 and shows it in the status", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { config: { maxConcurrentResearches: 5 } } })
      const api = yield* server.client()
      const raw = yield* server.fetch(trigger, json("POST", { brief: "Explore RSI variations" }))
      assert.strictEqual(raw.status, 202)
      const first = yield* bodyOf(raw)
      assert.strictEqual(first["status"], "pending")
      const accepted = yield* api.agent.trigger({ payload: { brief: "Test MACD strategies", model: "sonnet" } })
      assert.match(accepted.researchId, /^op_/)
      assert.strictEqual(accepted.status, "pending")
      const status = yield* api.agent.status()
      assert.deepStrictEqual(status.active.map((r) => r.id).sort(), [String(first["researchId"]), accepted.researchId].sort())
      assert.deepStrictEqual(status.capacity, { active: 2, limit: 5 })
      const budget = yield* api.agent.budget()
      assert.strictEqual(budget.limitUsd, 5)
      assert.isTrue(budget.canAfford)
      const health = yield* api.health.health()
      assert.deepStrictEqual(health, { status: "ok", leading: true })
    }))

  it.scopedLive("refuses at capacity with 409 and a typed body, unless forced", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const api = yield* server.client()
      yield* api.agent.trigger({ payload: { brief: "Explore RSI variations" } })
      const error = yield* Effect.flip(api.agent.trigger({ payload: { brief: "Another experiment" } }))
      assert.strictEqual(error._tag, "AtCapacity")
      assert.strictEqual(error.message, "Cannot trigger: at capacity (1 active researches, limit is 1)")
      const raw = yield* server.fetch(trigger, json("POST", { brief: "Another experiment" }))
      assert.strictEqual(raw.status, 409)
      assert.deepStrictEqual(yield* bodyOf(raw), {
        _tag: "AtCapacity",
        active: 1,
        limit: 1,
        message: "Cannot trigger: at capacity (1 active researches, limit is 1)"
      })
      const forced = yield* api.agent.trigger({ payload: { brief: "Another experiment", force: true } })
      assert.strictEqual(forced.status, "pending")
      const listed = yield* api.agent.list({ urlParams: firstPage })
      assert.strictEqual(listed.researches.length, 2)
      assert.isTrue(listed.researches.some((r) => r.id === forced.researchId && r.forced))
    }))

  it.scopedLive("refuses with 409 when the budget is exhausted, unless forced", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { config: { dailyBudgetUsd: 0.1, maxConcurrentResearches: 5 } } })
      const api = yield* server.client()
      const error = yield* Effect.flip(api.agent.trigger({ payload: { brief: "Explore RSI variations" } }))
      assert.strictEqual(error._tag, "BudgetExhausted")
      assert.strictEqual(error.message, "Cannot trigger: daily budget exhausted ($0.10 remaining)")
      const raw = yield* server.fetch(trigger, json("POST", { brief: "Explore RSI variations" }))
      assert.strictEqual(raw.status, 409)
      assert.strictEqual((yield* bodyOf(raw))["_tag"], "BudgetExhausted")
      const budget = yield* api.agent.budget()
      assert.isFalse(budget.canAfford)
      assert.strictEqual(budget.cyclesAffordable, 0)
      yield* api.agent.trigger({ payload: { brief: "Explore RSI variations", force: true } })
    }))

  it.scopedLive("answers 400 to invalid input and 413 to a body over the limit, changing nothing", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const cases: ReadonlyArray<readonly [string, RequestInit, string]> = [
        ["bad JSON", json("POST", "{\"brief\": "), "HttpApiDecodeError"],
        ["wrong type", json("POST", { brief: 42 }), "HttpApiDecodeError"],
        ["unknown strategy shape", json("POST", { strategy: { name: "" } }), "HttpApiDecodeError"],
        ["empty brief", json("POST", { brief: "" }), "InvalidInput"],
        ["blank brief", json("POST", { brief: "   \n" }), "InvalidInput"],
        ["nothing to do", json("POST", {}), "InvalidInput"],
        ["NUL in brief", json("POST", { brief: "rsi\u0000" }), "HttpApiDecodeError"],
        ["lone surrogate", json("POST", "{\"brief\": \"rsi \\ud800\"}"), "HttpApiDecodeError"],
        ["not an object", json("POST", "[1, 2]"), "HttpApiDecodeError"],
        ["no body", { method: "POST" }, "HttpApiDecodeError"],
        ["text", { method: "POST", body: "brief=rsi", headers: { "content-type": "text/plain" } }, "HttpApiDecodeError"],
        [
          "multipart",
          { method: "POST", body: "--x\r\n\r\n--x--", headers: { "content-type": "multipart/form-data; boundary=x" } },
          "HttpApiDecodeError"
        ]
      ]
      for (const [name, init, tag] of cases) {
        const response = yield* server.fetch(trigger, init)
        assert.strictEqual(response.status, 400, name)
        const body = yield* bodyOf(response)
        assert.strictEqual(body["_tag"], tag, name)
        assert.isString(body["message"], name)
      }
      const huge = yield* server.fetch(trigger, json("POST", { brief: "x".repeat(2 * 1024 * 1024) }))
      assert.strictEqual(huge.status, 413)
      assert.deepStrictEqual(yield* bodyOf(huge), {
        _tag: "PayloadTooLarge",
        message: "Request body is larger than 1048576 bytes"
      })
      const api = yield* server.client()
      assert.deepStrictEqual((yield* api.agent.list({ urlParams: firstPage })).researches, [])
      const badQuery = yield* server.fetch("/api/v1/agent/researches?limit=0")
      assert.strictEqual(badQuery.status, 400)
      const badId = yield* server.fetch("/api/v1/agent/researches/not-an-id")
      assert.strictEqual(badId.status, 400)
    }))

  it.scopedLive("answers 400 to a body nested deeper than 64 levels on every endpoint, changing nothing", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const nested = (levels: number) => "[".repeat(levels) + "]".repeat(levels)
      const deep = nested(5_000)
      const endpoints = [trigger, "/api/v1/workers/register", "/api/v1/workers/gpu-1/jobs/job_1/report"]
      const bodies: ReadonlyArray<readonly [string, string]> = [
        ["bare arrays", deep],
        ["arrays in a trigger field", `{"brief": "rsi", "strategy": ${deep}}`],
        ["arrays in a result", `{"_tag": "Completed", "result": ${deep}}`],
        ["objects in capabilities", `{"id": "gpu-1", "type": "gpu", "endpoint": "x", "capabilities": ${"{\"a\":".repeat(5_000)}1${"}".repeat(5_000)}}`],
        ["nesting hidden from a naive count", `{"brief": "${"]".repeat(100)}", "strategy": ${nested(65)}}`],
        ["one level too deep", `{"id": "gpu-1", "type": "gpu", "endpoint": "x", "capabilities": {"deep": ${nested(63)}}}`]
      ]
      for (const path of endpoints) {
        for (const [name, body] of bodies) {
          const response = yield* server.fetch(path, json("POST", body))
          assert.strictEqual(response.status, 400, `${path}: ${name}`)
          assert.deepStrictEqual(yield* bodyOf(response), {
            _tag: "HttpApiDecodeError",
            issues: [],
            message: "Request body nests deeper than 64 levels"
          }, `${path}: ${name}`)
        }
      }
      const api = yield* server.client()
      assert.deepStrictEqual((yield* api.agent.list({ urlParams: firstPage })).researches, [])
      assert.deepStrictEqual(yield* api.workers.list({ urlParams: {} }), [])
      // At the limit: brackets inside strings (escaped quotes and backslashes too) do not count.
      const endpoint = JSON.stringify("x\\\"[{\\")
      const atLimit = yield* server.fetch(
        "/api/v1/workers/register",
        json("POST", `{"id": "gpu-1", "type": "gpu", "endpoint": ${endpoint}, "capabilities": {"deep": ${nested(62)}}}`)
      )
      assert.strictEqual(atLimit.status, 200)
    }))

  it.scopedLive("shows, lists and cancels researches; 404 when unknown, 409 when finished", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: instantHandlers } })
      const api = yield* server.client()
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const done = yield* api.agent.trigger({ payload: { brief: "Explore RSI variations" } })
      const finished = yield* eventually(
        api.agent.show({ path: { id: done.researchId } }),
        (detail) => detail.research.status === "completed"
      )
      assert.deepStrictEqual(finished.jobs.map((j) => j.kind), ["design", "training", "backtest", "assessment"])
      assert.strictEqual(finished.progress, 1)

      // Without a training worker, new researches wait after design.
      yield* server.workers.crash("training-1")
      yield* api.workers.deregister({ path: { workerId: "training-1" as Domain.WorkerId }, headers: {} })
      const waiting = yield* api.agent.trigger({ payload: { brief: "Test MACD strategies" } })
      const aliased = yield* api.agent.trigger({ payload: { brief: "Try Bollinger bands", force: true } })

      const everything = yield* api.agent.list({ urlParams: firstPage })
      assert.deepStrictEqual(everything.researches.map((r) => r.id).sort(), [done, waiting, aliased].map((r) => r.researchId).sort())
      const completed = yield* api.agent.list({ urlParams: { ...firstPage, status: "completed" } })
      assert.deepStrictEqual(completed.researches.map((r) => r.id), [done.researchId])
      const page = yield* api.agent.list({ urlParams: { limit: 1, offset: 1 } })
      assert.strictEqual(page.researches.length, 1)
      assert.strictEqual(page.limit, 1)
      assert.strictEqual(page.offset, 1)

      const unknown = "op_doesnotexist" as Domain.ResearchId
      const notFound = yield* Effect.flip(api.agent.show({ path: { id: unknown } }))
      assert.strictEqual(notFound._tag, "ResearchNotFound")
      assert.strictEqual((yield* Effect.flip(api.agent.cancel({ path: { id: unknown } })))._tag, "ResearchNotFound")
      assert.strictEqual((yield* Effect.flip(api.agent.cancelAlias({ path: { id: unknown } })))._tag, "ResearchNotFound")

      const cancelled = yield* api.agent.cancel({ path: { id: waiting.researchId } })
      assert.strictEqual(cancelled.status, "cancelled")
      const again = yield* api.agent.cancel({ path: { id: waiting.researchId } })
      assert.strictEqual(again.status, "cancelled")
      const viaAlias = yield* api.agent.cancelAlias({ path: { id: aliased.researchId } })
      assert.strictEqual(viaAlias.status, "cancelled")
      assert.deepStrictEqual((yield* api.agent.status()).active, [])

      const refused = yield* Effect.flip(api.agent.cancel({ path: { id: done.researchId } }))
      assert.strictEqual(refused._tag, "NotCancellable")
      const raw = yield* server.fetch(`/api/v1/agent/cancel/${done.researchId}`, { method: "DELETE" })
      assert.strictEqual(raw.status, 409)
      assert.strictEqual(
        (yield* bodyOf(raw))["message"],
        `Research ${done.researchId} is completed and cannot be cancelled`
      )
    }))

  it.scopedLive("registers, heartbeats, lists, gets and deregisters workers", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const api = yield* server.client()
      const id = "gpu-box-1" as Domain.WorkerId
      const registered = yield* api.workers.register({
        payload: { ...registration(id), capacity: 2, capabilities: { gpu: true } }
      })
      assert.strictEqual(registered.worker.status, "available")
      assert.deepStrictEqual(registered.cancel, [])
      const headers = { "x-foreman-worker-secret": registered.secret }
      const beat = yield* api.workers.heartbeat({ path: { workerId: id }, headers, payload: { healthy: false } })
      assert.strictEqual(beat.status, "error")
      yield* api.workers.heartbeat({ path: { workerId: id }, headers, payload: { healthy: true } })
      assert.strictEqual((yield* api.workers.get({ path: { workerId: id } })).status, "available")
      assert.deepStrictEqual((yield* api.workers.list({ urlParams: { type: "gpu" } })).map((w) => w.id), [id])
      assert.deepStrictEqual(yield* api.workers.list({ urlParams: { type: "training" } }), [])
      assert.deepStrictEqual(yield* api.workers.list({ urlParams: { status: "busy" } }), [])

      const ghost = "ghost" as Domain.WorkerId
      const missing = yield* Effect.flip(
        api.workers.heartbeat({ path: { workerId: ghost }, headers: {}, payload: { healthy: true } })
      )
      assert.strictEqual(missing._tag, "WorkerNotFound")
      assert.strictEqual(missing.message, "Worker not registered: ghost (register again)")
      const raw = yield* server.fetch("/api/v1/workers/ghost/heartbeat", json("POST", {}))
      assert.strictEqual(raw.status, 404)
      assert.strictEqual((yield* Effect.flip(api.workers.get({ path: { workerId: ghost } })))._tag, "WorkerNotFound")

      const gone = yield* server.fetch(`/api/v1/workers/${id}`, { method: "DELETE", headers })
      assert.strictEqual(gone.status, 204)
      assert.strictEqual((yield* Effect.flip(api.workers.deregister({ path: { workerId: id }, headers })))._tag, "WorkerNotFound")
      assert.deepStrictEqual(yield* api.workers.list({ urlParams: {} }), [])
    }))

  it.scopedLive("a worker speaks only for itself: heartbeats, reports and goodbyes need its registration's secret", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ tokens: { operator: "op-token", worker: "shared-worker-token" } })
      const api = yield* server.client("shared-worker-token")
      const a = yield* api.workers.register({ payload: registration("worker-a" as Domain.WorkerId) })
      const b = yield* api.workers.register({ payload: registration("worker-b" as Domain.WorkerId) })
      assert.notStrictEqual(a.secret, b.secret)
      const as = (secret: string) => ({ "x-foreman-worker-secret": secret })
      const workerId = "worker-a" as Domain.WorkerId
      const jobId = "job_of_a" as Domain.JobId

      // worker-b knows the shared token but not worker-a's secret.
      const impostor = yield* Effect.flip(api.workers.heartbeat({ path: { workerId }, headers: as(b.secret), payload: { healthy: true } }))
      assert.strictEqual(impostor._tag, "WorkerNotAuthenticated")
      const bare = yield* Effect.flip(api.workers.heartbeat({ path: { workerId }, headers: {}, payload: { healthy: true } }))
      assert.strictEqual(bare._tag, "WorkerNotAuthenticated")
      const forged = yield* Effect.flip(api.workers.report({
        path: { workerId, jobId },
        headers: as(b.secret),
        payload: { _tag: "Completed", result: goodTraining }
      }))
      assert.strictEqual(forged._tag, "WorkerNotAuthenticated")
      const raw = yield* server.fetch(
        `/api/v1/workers/worker-a/jobs/${jobId}/report`,
        json("POST", { _tag: "Failed", error: "forged" }, {
          authorization: "Bearer shared-worker-token",
          "x-foreman-worker-secret": b.secret
        })
      )
      assert.strictEqual(raw.status, 403)
      assert.match(String((yield* bodyOf(raw))["message"]), /credential of its current registration/)
      assert.strictEqual((yield* Effect.flip(api.workers.deregister({ path: { workerId }, headers: as(b.secret) })))._tag,
        "WorkerNotAuthenticated")

      // worker-a itself gets through; a new registration replaces its secret.
      assert.strictEqual((yield* api.workers.heartbeat({ path: { workerId }, headers: as(a.secret), payload: { healthy: true } })).id, workerId)
      const unknownJob = yield* Effect.flip(api.workers.report({
        path: { workerId, jobId },
        headers: as(a.secret),
        payload: { _tag: "Progress", progress: 0.5 }
      }))
      assert.strictEqual(unknownJob._tag, "JobNotFound", "past the credential check")
      const renewed = yield* api.workers.register({ payload: registration(workerId) })
      const stale = yield* Effect.flip(api.workers.heartbeat({ path: { workerId }, headers: as(a.secret), payload: { healthy: true } }))
      assert.strictEqual(stale._tag, "WorkerNotAuthenticated")
      yield* api.workers.deregister({ path: { workerId }, headers: as(renewed.secret) })
    }))

  it.scopedLive("takes reports from the worker running a job and wakes the coordinator; 403 for any other", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuckWorkers } })
      const api = yield* server.client()
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      const { researchId } = yield* api.agent.trigger({ payload: { brief: "Explore RSI variations" } })
      const status = yield* eventually(api.agent.status(), (s) => s.active[0]?.job?.kind === "training")
      const job = status.active[0]!.job!
      assert.strictEqual(job.workerId, "training-1")
      const jobId = job.id
      const own = "training-1" as Domain.WorkerId

      const stranger = yield* Effect.flip(api.workers.report({
        headers: {},
        path: { workerId: "training-2" as Domain.WorkerId, jobId },
        payload: { _tag: "Completed", result: goodTraining }
      }))
      assert.strictEqual(stranger._tag, "JobNotAssigned")
      const raw = yield* server.fetch(
        `/api/v1/workers/training-2/jobs/${jobId}/report`,
        json("POST", { _tag: "Progress", progress: 0.9 })
      )
      assert.strictEqual(raw.status, 403)
      assert.strictEqual((yield* bodyOf(raw))["_tag"], "JobNotAssigned")
      const unknownJob = yield* Effect.flip(api.workers.report({
        headers: {},
        path: { workerId: own, jobId: "job_nope" as Domain.JobId },
        payload: { _tag: "Progress", progress: 0.1 }
      }))
      assert.strictEqual(unknownJob._tag, "JobNotFound")
      const badProgress = yield* server.fetch(
        `/api/v1/workers/training-1/jobs/${jobId}/report`,
        json("POST", { _tag: "Progress", progress: 2 })
      )
      assert.strictEqual(badProgress.status, 400)

      const progressed = yield* api.workers.report({
        headers: {},
        path: { workerId: own, jobId },
        payload: { _tag: "Progress", progress: 0.5, message: "epoch 5/10" }
      })
      assert.strictEqual(progressed.progress, 0.5)
      assert.strictEqual(progressed.message, "epoch 5/10")
      const completed = yield* api.workers.report({
        headers: {},
        path: { workerId: own, jobId },
        payload: { _tag: "Completed", result: goodTraining }
      })
      assert.strictEqual(completed.status, "completed")
      const moved = yield* eventually(
        api.agent.show({ path: { id: researchId } }),
        (detail) => detail.research.phase === "backtesting"
      )
      assert.isTrue(moved.research.gates["training"]?.passed)
      assert.deepStrictEqual((yield* api.workers.get({ path: { workerId: own } })).currentJobs, [])
    }))

  it.scopedLive("answers 400 naming the field to a report storage cannot keep (NUL, lone surrogate), changing nothing", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuckWorkers } })
      const api = yield* server.client()
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      const { researchId } = yield* api.agent.trigger({ payload: { brief: "Explore RSI variations" } })
      const status = yield* eventually(api.agent.status(), (s) => s.active[0]?.job?.kind === "training")
      const jobId = status.active[0]!.job!.id
      const before = yield* api.agent.show({ path: { id: researchId } })
      const report = `/api/v1/workers/training-1/jobs/${jobId}/report`
      const cases: ReadonlyArray<readonly [string, string, string]> = [
        ["NUL in a result", JSON.stringify({ _tag: "Completed", result: { log: "epoch\u00001" } }), "result"],
        ["NUL in a result's key", JSON.stringify({ _tag: "Completed", result: { "a\u0000": 1 } }), "result"],
        ["lone surrogate in a result", "{\"_tag\": \"Completed\", \"result\": [\"\\ud800\"]}", "result"],
        ["NUL in a progress message", JSON.stringify({ _tag: "Progress", progress: 0.5, message: "\u0000" }), "message"],
        ["lone surrogate in a progress message", "{\"_tag\": \"Progress\", \"progress\": 0.5, \"message\": \"\\udc00x\"}", "message"],
        ["NUL in an error", JSON.stringify({ _tag: "Failed", error: "out of memory\u0000" }), "error"],
        ["lone surrogate in an error", "{\"_tag\": \"Failed\", \"error\": \"\\ud83d\"}", "error"]
      ]
      for (const [name, body, field] of cases) {
        const response = yield* server.fetch(report, json("POST", body))
        assert.strictEqual(response.status, 400, name)
        const answer = yield* bodyOf(response)
        assert.strictEqual(answer["_tag"], "HttpApiDecodeError", name)
        assert.strictEqual(answer["message"], `Invalid request: ${field}: text must be valid Unicode without NUL characters`, name)
      }
      const after = yield* api.agent.show({ path: { id: researchId } })
      assert.deepStrictEqual(after.jobs, before.jobs)
      // A paired surrogate (an emoji) is fine.
      const completed = yield* server.fetch(report, json("POST", { _tag: "Completed", result: { ...goodTraining, note: "📈" } }))
      assert.strictEqual(completed.status, 200)
      assert.strictEqual((yield* bodyOf(completed))["status"], "completed")
    }))
})

describe("ApiServer text storage cannot keep", () => {
  const storable = "text must be valid Unicode without NUL characters"

  it.scopedLive("answers 400 naming the field in every request body and parameter, changing nothing", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { config: { maxConcurrentResearches: 5 } } })
      const api = yield* server.client()
      const registered = yield* server.fetch("/api/v1/workers/register", json("POST", { id: "gpu-1", type: "gpu" }))
      const secret = String((yield* bodyOf(registered))["secret"])
      const worker = { "x-foreman-worker-secret": secret }
      const cases: ReadonlyArray<readonly [string, string, RequestInit, ReadonlyArray<string | number>]> = [
        ["NUL in a brief", trigger, json("POST", { brief: "rsi\u0000" }), ["brief"]],
        ["lone surrogate in a brief", trigger, json("POST", "{\"brief\": \"rsi \\ud800\"}"), ["brief"]],
        ["NUL in a model", trigger, json("POST", { brief: "rsi", model: "sonnet\u0000" }), ["model"]],
        ["NUL in a strategy's name", trigger, json("POST", { strategy: "rsi\u0000" }), ["strategy"]],
        ["NUL in a strategy's spec", trigger, json("POST", { strategy: { name: "rsi", spec: { a: "\u0000" } } }), [
          "strategy"
        ]],
        ["NUL in a strategy's name in the path", "/api/v1/strategies/rsi%00", {}, ["name"]],
        ["NUL in the strategy a list asks for", "/api/v1/agent/researches?strategy=rsi%00", {}, ["strategy"]],
        ["NUL in a runtime", "/api/v1/workers/register", json("POST", { id: "gpu-2", type: "gpu", runtime: "\u0000" }), [
          "runtime"
        ]],
        ["NUL in a held job", "/api/v1/workers/gpu-1/heartbeat", json("POST", { running: ["job_\u0000"] }, worker), [
          "running",
          0
        ]],
        ["NUL in a polled job", "/api/v1/workers/gpu-1/poll", json("POST", { waitSeconds: 0, running: ["\u0000"] }, worker), [
          "running",
          0
        ]]
      ]
      for (const [name, path, init, field] of cases) {
        const response = yield* server.fetch(path, init)
        assert.strictEqual(response.status, 400, name)
        const answer = yield* bodyOf(response)
        assert.strictEqual(answer["_tag"], "HttpApiDecodeError", name)
        const issues = answer["issues"] as ReadonlyArray<{ readonly path: ReadonlyArray<string | number> }>
        assert.isTrue(issues.some((issue) => issue.path.join(".") === field.join(".")), name)
        // An optional field also fails its "Expected undefined" member, at the field.
        for (const issue of issues) assert.deepStrictEqual(issue.path.slice(0, 1), field.slice(0, 1), name)
        assert.strictEqual(answer["message"], `Invalid request: ${field.join(".")}: ${storable}`, name)
      }
      assert.deepStrictEqual((yield* api.agent.list({ urlParams: firstPage })).researches, [])
      assert.deepStrictEqual((yield* api.workers.list({ urlParams: {} })).map((w) => w.id), ["gpu-1"])
    }))
})

describe("ApiServer trigger's model", () => {
  it.scopedLive("refuses a model the agents have no price for with 400 naming model and the priced ones, starting nothing", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLlm.scoped()
      const agents = yield* Providers.fromConfig().pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(
          new Map([["ANTHROPIC_API_KEY", "sk-ant"], ["FOREMAN_LLM_BASE_URL", fake.anthropicUrl]])
        ))
      )
      const context = yield* Layer.build(
        ApiServer.serve({ host: "127.0.0.1", port: 0 }).pipe(Layer.provideMerge(Server.engine({
          storage: Memory.storage,
          agents: agents.layer,
          config: ForemanConfig.layerWith({ maxConcurrentResearches: 5 })
        })))
      ).pipe(Effect.withConfigProvider(tokenConfig()), quiet)
      const address = Context.get(context, HttpServer.HttpServer).address
      const baseUrl = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
      const post = (body: unknown) => Effect.promise(() => fetch(`${baseUrl}${trigger}`, json("POST", body)))

      const refused = yield* post({ brief: "Explore RSI variations", model: "no-such-model" })
      assert.strictEqual(refused.status, 400)
      const body = yield* bodyOf(refused)
      assert.strictEqual(body["_tag"], "InvalidInput")
      const message = String(body["message"])
      assert.match(message, /^Invalid input: model: no price for model no-such-model/)
      assert.include(message, "claude-sonnet-4-5")
      assert.include(message, "FOREMAN_LLM_PRICES")
      const api = yield* client(baseUrl)
      assert.deepStrictEqual((yield* api.agent.list({ urlParams: firstPage })).researches, [])
      // A dated id takes the price of the model it names.
      const accepted = yield* post({ brief: "Explore RSI variations", model: "claude-haiku-4-5-20251001" })
      assert.strictEqual(accepted.status, 202)
    }))

  it.scopedLive("takes any model with the offline agents, which ignore it", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const accepted = yield* server.fetch(trigger, json("POST", { brief: "Explore RSI variations", model: "no-such-model" }))
      assert.strictEqual(accepted.status, 202)
    }))
})

describe("ApiServer authorization", () => {
  const tokens = { operator: "operator-secret", worker: "worker-secret" }

  it.scopedLive("answers 401 without a token or with a wrong one", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ tokens })
      const none = yield* server.fetch("/api/v1/agent/status")
      assert.strictEqual(none.status, 401)
      assert.deepStrictEqual(yield* bodyOf(none), {
        _tag: "Unauthorized",
        message: "Missing bearer token: send `Authorization: Bearer <token>`"
      })
      for (const authorization of ["Bearer wrong", "Bearer ", "Basic b3BlcmF0b3Itc2VjcmV0", "operator-secret"]) {
        const response = yield* server.fetch("/api/v1/workers", { headers: { authorization } })
        assert.strictEqual(response.status, 401, authorization)
        assert.strictEqual((yield* bodyOf(response))["_tag"], "Unauthorized")
      }
      const typed = yield* Effect.flip((yield* server.client("nope")).agent.status())
      assert.strictEqual(typed._tag, "Unauthorized")
      const registering = yield* server.fetch("/api/v1/workers/register", json("POST", { id: "w", type: "gpu", endpoint: "x" }))
      assert.strictEqual(registering.status, 401)
      assert.deepStrictEqual(yield* (yield* server.client(tokens.operator)).workers.list({ urlParams: {} }), [])
      const health = yield* server.fetch("/api/v1/health")
      assert.strictEqual(health.status, 200)
    }))

  it.scopedLive("answers 403 to a worker on operator endpoints and to an operator on worker endpoints", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ tokens })
      const operator = yield* server.client(tokens.operator)
      const worker = yield* server.client(tokens.worker)
      const forbidden = yield* Effect.flip(worker.agent.trigger({ payload: { brief: "Explore RSI variations" } }))
      assert.strictEqual(forbidden._tag, "Forbidden")
      assert.strictEqual((yield* Effect.flip(worker.agent.status()))._tag, "Forbidden")
      assert.strictEqual((yield* Effect.flip(worker.agent.list({ urlParams: firstPage })))._tag, "Forbidden")
      const raw = yield* server.fetch(trigger, json("POST", { brief: "rsi" }, { authorization: `Bearer ${tokens.worker}` }))
      assert.strictEqual(raw.status, 403)
      assert.strictEqual((yield* bodyOf(raw))["_tag"], "Forbidden")
      assert.deepStrictEqual((yield* operator.agent.list({ urlParams: firstPage })).researches, [])

      const id = "gpu-1" as Domain.WorkerId
      assert.strictEqual((yield* Effect.flip(operator.workers.register({ payload: registration(id) })))._tag, "Forbidden")
      yield* worker.workers.register({ payload: registration(id) })
      assert.strictEqual(
        (yield* Effect.flip(operator.workers.heartbeat({ path: { workerId: id }, headers: {}, payload: { healthy: true } })))
          ._tag,
        "Forbidden"
      )
      const report = operator.workers.report({
        headers: {},
        path: { workerId: id, jobId: "job_1" as Domain.JobId },
        payload: { _tag: "Progress", progress: 0.5 }
      })
      assert.strictEqual((yield* Effect.flip(report))._tag, "Forbidden")
      assert.strictEqual((yield* Effect.flip(operator.workers.deregister({ path: { workerId: id }, headers: {} })))._tag, "Forbidden")
      assert.deepStrictEqual((yield* operator.workers.list({ urlParams: {} })).map((w) => w.id), [id])
      assert.deepStrictEqual((yield* worker.workers.get({ path: { workerId: id } })).id, id)
      const accepted = yield* operator.agent.trigger({ payload: { brief: "Explore RSI variations" } })
      assert.strictEqual(accepted.status, "pending")
    }))

  it.scopedLive("lets a single configured token act for both roles", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ tokens: { operator: "only-secret" } })
      const api = yield* server.client("only-secret")
      yield* api.workers.register({ payload: registration("gpu-1" as Domain.WorkerId) })
      yield* api.agent.trigger({ payload: { brief: "Explore RSI variations" } })
      assert.strictEqual((yield* server.fetch("/api/v1/workers")).status, 401)
    }))
})

describe("ApiServer serving", () => {
  const engine = Memory.layer()

  it.scopedLive("refuses to listen beyond loopback without tokens", () =>
    Effect.gen(function*() {
      const error = yield* Layer.build(ApiServer.serve({ host: "0.0.0.0", port: 0 }).pipe(Layer.provide(engine))).pipe(
        Effect.withConfigProvider(tokenConfig()),
        quiet,
        Effect.flip
      )
      assert.strictEqual(error._tag, "InsecureBind")
      assert.strictEqual(
        error.message,
        "Refusing to listen on 0.0.0.0 without tokens: set FOREMAN_API_TOKEN and FOREMAN_WORKER_TOKEN, or listen on 127.0.0.1"
      )
    }))

  it.scopedLive("listens on loopback by default without tokens, and anywhere asked with them", () =>
    Effect.gen(function*() {
      const open = yield* Layer.build(ApiServer.serve({ port: 0 }).pipe(Layer.provide(engine))).pipe(
        Effect.withConfigProvider(tokenConfig()),
        quiet
      )
      const local = Context.get(open, HttpServer.HttpServer).address
      assert.deepStrictEqual(local._tag === "TcpAddress" ? local.hostname : local._tag, "127.0.0.1")
      const guarded = yield* Layer.build(ApiServer.serve({ host: "0.0.0.0", port: 0 }).pipe(Layer.provide(engine))).pipe(
        Effect.withConfigProvider(tokenConfig({ operator: "a", worker: "b" })),
        quiet
      )
      const everywhere = Context.get(guarded, HttpServer.HttpServer).address
      assert.deepStrictEqual(everywhere._tag === "TcpAddress" ? everywhere.hostname : everywhere._tag, "0.0.0.0")
    }))

  it.scopedLive("serves OpenAPI at /openapi.json and a docs page at /docs", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ tokens: { operator: "a", worker: "b" } })
      const spec = yield* server.fetch("/openapi.json")
      assert.strictEqual(spec.status, 200)
      assert.match(spec.headers.get("content-type") ?? "", /application\/json/)
      const document = (yield* bodyOf(spec)) as { info: { title: string }; paths: Record<string, unknown> }
      assert.strictEqual(document.info.title, "Foreman coordinator API")
      for (
        const path of [
          "/api/v1/agent/trigger",
          "/api/v1/agent/status",
          "/api/v1/agent/researches/{id}",
          "/api/v1/agent/cancel/{id}",
          "/api/v1/workers/register",
          "/api/v1/workers/{workerId}/jobs/{jobId}/report",
          "/api/v1/health"
        ]
      ) assert.property(document.paths, path)
      const page = yield* server.fetch("/docs")
      assert.strictEqual(page.status, 200)
      assert.match(page.headers.get("content-type") ?? "", /text\/html/)
      const html = yield* Effect.promise(() => page.text())
      assert.match(html, /<html/i)
      // Scalar's page, loaded on the first request: the spec and the script inline, and the same page again.
      assert.include(html, '<script id="api-reference" type="application/json">')
      assert.include(html, "Foreman coordinator API")
      assert.isAbove(html.length, 1_000_000)
      const again = yield* server.fetch("/docs")
      assert.strictEqual(yield* Effect.promise(() => again.text()), html)
    }))

  it.scopedLive("works mounted under a prefix inside a plain node:http server", () =>
    Effect.gen(function*() {
      const running = Layer.scopedDiscard(
        Effect.flatMap(Coordinator.Coordinator, (coordinator) => Effect.forkScoped(quiet(coordinator.run)))
      )
      const engineWithLoop = running.pipe(
        Layer.provideMerge(Memory.layer({ config: { maxConcurrentResearches: 3 } })),
        Layer.provide(Layer.setConfigProvider(tokenConfig()))
      )
      const { dispose, handler } = ApiServer.webHandler(engineWithLoop, { prefix: "/foreman" })
      yield* Effect.addFinalizer(() => Effect.promise(dispose))
      const host = createServer((request, response) => {
        void forward(handler, request, response)
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => {
          host.listen(0, "127.0.0.1", () => resume(Effect.void))
        }),
        () =>
          Effect.async<void>((resume) => {
            host.close(() => resume(Effect.void))
          })
      )
      const base = `http://127.0.0.1:${(host.address() as AddressInfo).port}`
      const api = yield* client(`${base}/foreman`)
      const accepted = yield* api.agent.trigger({ payload: { brief: "Explore RSI variations" } })
      const status = yield* api.agent.status()
      assert.deepStrictEqual(status.active.map((r) => r.id), [accepted.researchId])
      assert.strictEqual((yield* Effect.flip(api.agent.show({ path: { id: "op_missing" as Domain.ResearchId } })))._tag, "ResearchNotFound")
      const raw = yield* Effect.promise(() => fetch(`${base}/foreman${trigger}`, json("POST", "{oops")))
      assert.strictEqual(raw.status, 400)
      const huge = yield* Effect.promise(() => fetch(`${base}/foreman${trigger}`, json("POST", "x".repeat(1024 * 1024 + 1))))
      assert.strictEqual(huge.status, 413)
      assert.strictEqual((yield* Effect.promise(() => fetch(`${base}/foreman/openapi.json`))).status, 200)
      assert.strictEqual((yield* Effect.promise(() => fetch(`${base}/api/v1/health`))).status, 404)
      assert.strictEqual((yield* Effect.promise(() => fetch(`${base}/foremanx/api/v1/health`))).status, 404)
    }))
})

/** The glue any node:http host writes: IncomingMessage to Request, Response back. */
const forward = async (
  handler: (request: Request) => Promise<Response>,
  incoming: IncomingMessage,
  outgoing: ServerResponse
) => {
  const chunks: Array<Buffer> = []
  for await (const chunk of incoming) chunks.push(chunk as Buffer)
  const headers = new Headers()
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (typeof value === "string") headers.set(name, value)
  }
  const method = incoming.method ?? "GET"
  const response = await handler(
    new Request(`http://${incoming.headers.host}${incoming.url}`, {
      method,
      headers,
      ...(method === "GET" || method === "HEAD" ? {} : { body: Buffer.concat(chunks) })
    })
  )
  outgoing.writeHead(response.status, Object.fromEntries(response.headers))
  outgoing.end(Buffer.from(await response.arrayBuffer()))
}
