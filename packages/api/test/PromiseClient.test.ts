/**
 * The Promise client and the Effect client under it, against a real server on
 * 127.0.0.1: every method's answer, the typed errors it rejects with, tokens,
 * `AbortSignal`s, `dispose`, and the trigger's `Idempotency-Key` carried
 * through a 503 or a lost connection (through a small server in front of the
 * coordinator that loses answers on purpose).
 */
import { FetchHttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { type Domain, Errors } from "@foreman/core"
import { Duration, Effect, Layer, Redacted } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Api, Client, createClient } from "../src/index.js"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import { instantHandlers } from "@foreman/adapter-memory/TestEngine"

/** A Promise client, disposed with the test's scope. */
const promiseClient = (options: Client.ClientOptions) =>
  Effect.acquireRelease(Effect.sync(() => createClient(options)), (client) => Effect.promise(() => client.dispose()))

/** What a call resolves with. */
const call = <A>(f: () => Promise<A>) => Effect.promise(f)

/** What a call rejects with (fails the test when it resolves). */
const rejection = (f: () => Promise<unknown>) => Effect.flip(Effect.tryPromise({ try: f, catch: (error) => error }))

/** Polls a Promise client until `done` holds. */
const until = <A>(f: () => Promise<A>, done: (a: A) => boolean) => eventually(call(f), done)

/** What the server in front does with one request. */
type Plan =
  /** Passes it on and answers what the coordinator answered. */
  | "forward"
  /** Answers 503 with the coordinator's JSON body, without passing it on. */
  | "unavailable"
  /** Passes it on, then answers 503 with a gateway's HTML page instead of the coordinator's answer. */
  | "lose-answer"
  /** Passes it on, then closes the connection without answering. */
  | "cut"
  /** Never answers. */
  | "hang"

interface Seen {
  readonly method: string
  readonly url: string
  readonly key: string | undefined
}

const forwarded = new Set(["authorization", "content-type", "idempotency-key", "accept"])

/**
 * A raw HTTP server on 127.0.0.1 in front of `target`: the n-th request (from
 * 0) is handled as `plan(n, request)` says; every request is recorded.
 */
const front = (target: string, plan: (n: number, request: Seen) => Plan) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly seen: Array<Seen>; readonly close: () => Promise<void> }>((resume) => {
      const seen: Array<Seen> = []
      const pass = async (request: IncomingMessage, body: Buffer) => {
        const headers = new Headers()
        for (const [name, value] of Object.entries(request.headers)) {
          if (typeof value === "string" && forwarded.has(name)) headers.set(name, value)
        }
        const answer = await fetch(`${target}${request.url ?? "/"}`, {
          method: request.method ?? "GET",
          headers,
          ...(body.length > 0 ? { body } : {})
        })
        return { status: answer.status, type: answer.headers.get("content-type"), text: await answer.text() }
      }
      const handle = async (request: IncomingMessage, response: ServerResponse, body: Buffer) => {
        const key = request.headers["idempotency-key"]
        const entry = { method: request.method ?? "", url: request.url ?? "", key: typeof key === "string" ? key : undefined }
        const what = plan(seen.length, entry)
        seen.push(entry)
        switch (what) {
          case "forward": {
            const answer = await pass(request, body)
            response.writeHead(answer.status, answer.type === null ? {} : { "content-type": answer.type })
            return void response.end(answer.text)
          }
          case "unavailable":
            response.writeHead(503, { "content-type": "application/json" })
            return void response.end(JSON.stringify({ _tag: "Unavailable", message: "try again" }))
          case "lose-answer":
            await pass(request, body)
            response.writeHead(503, { "content-type": "text/html" })
            return void response.end("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")
          case "cut":
            await pass(request, body)
            return void request.socket.destroy()
          case "hang":
            return
        }
      }
      const server = createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => void handle(request, response, Buffer.concat(chunks)).catch(() => request.socket.destroy()))
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(Effect.succeed({
          url: `http://127.0.0.1:${port}`,
          seen,
          close: () =>
            new Promise<void>((done) => {
              server.closeAllConnections()
              server.close(() => done())
            })
        }))
      })
    }),
    (proxy) => Effect.promise(proxy.close)
  )

const triggers = (seen: ReadonlyArray<Seen>) => seen.filter((s) => s.method === "POST" && s.url === "/api/v1/agent/trigger")

const brief = { brief: "Explore RSI variations" }

/** Workers that finish at once, so researches complete in milliseconds. */
describe("createClient", () => {
  it.scopedLive("trigger, then show, list, status, budget, workers and cancel answer the coordinator's data", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { config: { maxConcurrentResearches: 5 } } })
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      const foreman = yield* promiseClient({ url: server.baseUrl })

      const first = yield* call(() => foreman.trigger(brief))
      assert.match(first.researchId, /^op_/)
      assert.strictEqual(first.status, "pending")
      const second = yield* call(() => foreman.trigger({ brief: "Test MACD strategies", model: "sonnet" }))
      assert.notStrictEqual(second.researchId, first.researchId)

      const detail = yield* call(() => foreman.show(first.researchId))
      assert.strictEqual(detail.research.id, first.researchId)
      assert.strictEqual(detail.research.brief, brief.brief)
      assert.isArray(detail.jobs)

      const page = yield* call(() => foreman.list())
      assert.deepStrictEqual(page.researches.map((r) => r.id).sort(), [first.researchId, second.researchId].sort())
      assert.strictEqual(page.limit, 50)
      assert.strictEqual(page.offset, 0)
      const paged = yield* call(() => foreman.list({ limit: 1, offset: 1 }))
      assert.strictEqual(paged.researches.length, 1)
      assert.deepInclude(paged, { limit: 1, offset: 1 })
      assert.notStrictEqual(paged.researches[0]?.id, page.researches[0]?.id)

      const status = yield* call(() => foreman.status())
      assert.deepStrictEqual(status.active.map((r) => r.id).sort(), [first.researchId, second.researchId].sort())
      assert.deepStrictEqual(status.capacity, { active: 2, limit: 5 })
      assert.strictEqual(status.workers["training"]?.workers, 1)

      const budget = yield* call(() => foreman.budget())
      assert.strictEqual(budget.limitUsd, 5)
      assert.isTrue(budget.canAfford)

      yield* until(() => foreman.workers(), (workers) => workers.length === 1)
      const training = yield* call(() => foreman.workers({ type: "training" }))
      assert.deepStrictEqual(training.map((w) => w.id), ["training-1"])
      assert.deepStrictEqual(yield* call(() => foreman.workers({ type: "backtest" })), [])

      const cancelled = yield* call(() => foreman.cancel(first.researchId))
      assert.strictEqual(cancelled.id, first.researchId)
      assert.strictEqual(cancelled.status, "cancelled")
      assert.strictEqual((yield* call(() => foreman.show(first.researchId))).research.status, "cancelled")
      const onlyCancelled = yield* call(() => foreman.list({ status: "cancelled" }))
      assert.deepStrictEqual(onlyCancelled.researches.map((r) => r.id), [first.researchId])
      assert.deepStrictEqual(
        (yield* call(() => foreman.status())).active.map((r) => r.id),
        [second.researchId]
      )
    }))

  it.scopedLive("rejects with the typed errors: ResearchNotFound, NotCancellable", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: instantHandlers } })
      const foreman = yield* promiseClient({ url: server.baseUrl })
      const missing = yield* rejection(() => foreman.show("op_missing"))
      assert.instanceOf(missing, Errors.ResearchNotFound)
      assert.strictEqual((missing as Errors.ResearchNotFound).researchId, "op_missing")
      assert.strictEqual((missing as Errors.ResearchNotFound).message, "Research not found: op_missing")
      assert.instanceOf(yield* rejection(() => foreman.cancel("op_missing")), Errors.ResearchNotFound)

      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const { researchId } = yield* call(() => foreman.trigger(brief))
      yield* until(() => foreman.show(researchId), (detail) => detail.research.status === "completed")
      const finished = yield* rejection(() => foreman.cancel(researchId))
      assert.instanceOf(finished, Errors.NotCancellable)
      assert.strictEqual((finished as Errors.NotCancellable).message, `Research ${researchId} is completed and cannot be cancelled`)
    }))

  it.scopedLive("lists the strategy catalogue and reads one by name; an unknown name is StrategyNotFound", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: instantHandlers } })
      const foreman = yield* promiseClient({ url: server.baseUrl })
      assert.deepStrictEqual(yield* call(() => foreman.strategies()), [])
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const { researchId } = yield* call(() => foreman.trigger(brief))
      const done = yield* until(() => foreman.show(researchId), (detail) => detail.research.status === "completed")
      const name = done.research.strategy!.name
      const [listed] = yield* call(() => foreman.strategies())
      assert.strictEqual(listed!.name, name)
      assert.strictEqual(listed!.researchId, researchId)
      assert.deepStrictEqual((yield* call(() => foreman.strategy(name))).strategy, done.research.strategy)
      const board = yield* call(() => foreman.leaderboard())
      assert.strictEqual(board.sort, "sharpeRatio")
      assert.deepStrictEqual(board.strategies.map((s) => s.name), [name])
      assert.strictEqual((yield* call(() => foreman.leaderboard({ sort: "costUsd", limit: 1 }))).strategies[0]!.top!.researchId, researchId)
      assert.strictEqual((yield* call(() => foreman.leaderboard({ instrument: "NOWHERE" }))).total, 0)
      const unknown = yield* rejection(() => foreman.strategy(`${name}_unheard_of`))
      assert.instanceOf(unknown, Errors.StrategyNotFound)
      assert.include((unknown as Errors.StrategyNotFound).message, `Unknown strategy: ${name}_unheard_of`)
    }))

  it.scopedLive("starts, reads and stops the autopilot; a second start while it runs is InvalidInput", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const foreman = yield* promiseClient({ url: server.baseUrl })
      assert.deepStrictEqual(yield* call(() => foreman.autopilotStatus()), { autopilot: null, running: [] })
      const started = yield* call(() => foreman.autopilotStart({ brief: "Explore RSI variations", keep: 1 }))
      assert.deepStrictEqual([started.status, started.keep, started.max], ["running", 1, null])
      const again = yield* rejection(() => foreman.autopilotStart({ brief: "x", keep: 1 }))
      assert.instanceOf(again, Errors.InvalidInput)
      const stopped = yield* call(() => foreman.autopilotStop())
      assert.deepStrictEqual([stopped.autopilot?.status, stopped.autopilot?.stopReason], ["stopped", "operator"])
    }))

  it.scopedLive("rejects a trigger at capacity with AtCapacity, sent once", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { config: { maxConcurrentResearches: 1 } } })
      const proxy = yield* front(server.baseUrl, () => "forward")
      const foreman = yield* promiseClient({ url: proxy.url })
      yield* call(() => foreman.trigger(brief))
      const refused = yield* rejection(() => foreman.trigger({ brief: "Another experiment" }))
      assert.instanceOf(refused, Errors.AtCapacity)
      assert.deepInclude(refused, { active: 1, limit: 1 })
      assert.strictEqual((refused as Errors.AtCapacity).message, "Cannot trigger: at capacity (1 active researches, limit is 1)")
      assert.strictEqual(triggers(proxy.seen).length, 2, "a refusal is not sent again")
      assert.strictEqual((yield* call(() => foreman.list())).researches.length, 1)
      const forced = yield* call(() => foreman.trigger({ brief: "Another experiment", force: true }))
      assert.strictEqual(forced.status, "pending")
    }))

  it.scopedLive("sends the operator token: without it Unauthorized, with it (plain or redacted) answers", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ tokens: { operator: "operator-secret" } })
      const anonymous = yield* promiseClient({ url: server.baseUrl })
      const refused = yield* rejection(() => anonymous.status())
      assert.instanceOf(refused, Api.Unauthorized)
      assert.instanceOf(yield* rejection(() => anonymous.trigger(brief)), Api.Unauthorized)
      const wrong = yield* promiseClient({ url: server.baseUrl, token: "wrong" })
      assert.instanceOf(yield* rejection(() => wrong.list()), Api.Unauthorized)

      const operator = yield* promiseClient({ url: server.baseUrl, token: "operator-secret" })
      const { researchId } = yield* call(() => operator.trigger(brief))
      assert.strictEqual((yield* call(() => operator.show(researchId))).research.id, researchId)
      const redacted = yield* promiseClient({ url: `${server.baseUrl}/api/v1/`, token: Redacted.make("operator-secret") })
      assert.deepStrictEqual((yield* call(() => redacted.list())).researches.map((r) => r.id), [researchId])
    }))

  it.scopedLive("an already aborted signal rejects with its reason and sends nothing", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const proxy = yield* front(server.baseUrl, () => "forward")
      const foreman = yield* promiseClient({ url: proxy.url })
      const reason = new Error("not now")
      const signal = AbortSignal.abort(reason)
      assert.strictEqual(yield* rejection(() => foreman.status({ signal })), reason)
      assert.strictEqual(yield* rejection(() => foreman.trigger(brief, { signal })), reason)
      assert.strictEqual(yield* rejection(() => foreman.list({}, { signal })), reason)
      assert.strictEqual(yield* rejection(() => foreman.show("op_x", { signal })), reason)
      assert.deepStrictEqual(proxy.seen, [])
      // The client still works afterwards.
      assert.deepStrictEqual((yield* call(() => foreman.list())).researches, [])
    }))

  it.scopedLive("a signal aborted during a call rejects it with the reason", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const proxy = yield* front(server.baseUrl, (n) => (n === 0 ? "hang" : "forward"))
      const foreman = yield* promiseClient({ url: proxy.url })
      const controller = new AbortController()
      const pending = foreman.status({ signal: controller.signal }).then(() => "resolved", (error: unknown) => error)
      yield* eventually(Effect.sync(() => proxy.seen.length), (n) => n === 1)
      const reason = new Error("user gave up")
      controller.abort(reason)
      assert.strictEqual(yield* Effect.promise(() => pending), reason)
      // The next call, with no signal, goes through.
      assert.strictEqual((yield* call(() => foreman.status())).capacity.limit, 1)
    }))

  it.scopedLive("a signal aborted while a trigger waits to be sent again rejects with the reason, unsent", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const proxy = yield* front(server.baseUrl, () => "unavailable")
      const foreman = yield* promiseClient({ url: proxy.url })
      const controller = new AbortController()
      const pending = foreman.trigger(brief, { signal: controller.signal }).then(() => "resolved", (error: unknown) => error)
      yield* eventually(Effect.sync(() => proxy.seen.length), (n) => n === 1)
      controller.abort("stop")
      assert.strictEqual(yield* Effect.promise(() => pending), "stop")
      yield* Effect.sleep(Duration.times(Client.triggerRetryPause, 2))
      assert.strictEqual(proxy.seen.length, 1, "not sent again after the abort")
    }))

  it.scopedLive("after dispose, calls reject", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const foreman = createClient({ url: server.baseUrl })
      assert.deepStrictEqual((yield* call(() => foreman.list())).researches, [])
      yield* call(() => foreman.dispose())
      const methods: ReadonlyArray<readonly [string, () => Promise<unknown>]> = [
        ["trigger", () => foreman.trigger(brief)],
        ["status", () => foreman.status()],
        ["budget", () => foreman.budget()],
        ["list", () => foreman.list()],
        ["show", () => foreman.show("op_x")],
        ["cancel", () => foreman.cancel("op_x")],
        ["workers", () => foreman.workers()]
      ]
      for (const [name, f] of methods) {
        const error = yield* rejection(f)
        assert.instanceOf(error, Error, name)
        assert.include((error as Error).message, "disposed", name)
      }
      // Nothing was triggered after the dispose.
      const api = yield* server.client()
      assert.deepStrictEqual((yield* api.agent.list({ urlParams: { limit: 50, offset: 0 } })).researches, [])
      // Disposing again is harmless.
      yield* call(() => foreman.dispose())
    }))
})

describe("trigger's Idempotency-Key", () => {
  const sendsOnceMore = (plan: Plan, what: string) =>
    it.scopedLive(`sends a trigger again under the same key after ${what}: one research`, () =>
      Effect.gen(function*() {
        const server = yield* startServer()
        const proxy = yield* front(server.baseUrl, (n) => (n === 0 ? plan : "forward"))
        const foreman = yield* promiseClient({ url: proxy.url })
        const accepted = yield* call(() => foreman.trigger(brief))
        const [first, second] = triggers(proxy.seen)
        assert.strictEqual(triggers(proxy.seen).length, 2)
        assert.match(first?.key ?? "", /^[0-9a-f-]{36}$/)
        assert.strictEqual(second?.key, first?.key)
        const page = yield* call(() => foreman.list())
        assert.deepStrictEqual(page.researches.map((r) => r.id), [accepted.researchId])
      }))

  sendsOnceMore("unavailable", "the coordinator's 503")
  sendsOnceMore("lose-answer", "a gateway's 503 that lost the answer")
  sendsOnceMore("cut", "a connection closed before the answer")

  it.scopedLive("gives up after one more 503, rejecting with Unavailable", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const proxy = yield* front(server.baseUrl, () => "unavailable")
      const foreman = yield* promiseClient({ url: proxy.url })
      const error = yield* rejection(() => foreman.trigger(brief))
      assert.instanceOf(error, Api.Unavailable)
      assert.strictEqual(triggers(proxy.seen).length, 2)
    }))

  it.scopedLive("a fresh key per trigger; a requestId given is the key", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { config: { maxConcurrentResearches: 5 } } })
      const proxy = yield* front(server.baseUrl, () => "forward")
      const foreman = yield* promiseClient({ url: proxy.url })
      const a = yield* call(() => foreman.trigger(brief))
      const b = yield* call(() => foreman.trigger(brief))
      assert.notStrictEqual(a.researchId, b.researchId)
      const [ka, kb] = triggers(proxy.seen).map((s) => s.key)
      assert.isString(ka)
      assert.notStrictEqual(ka, kb)

      const c = yield* call(() => foreman.trigger({ ...brief, requestId: "nightly-2024-06-01" }))
      const again = yield* call(() => foreman.trigger({ ...brief, requestId: "nightly-2024-06-01" }))
      assert.strictEqual(again.researchId, c.researchId)
      assert.deepStrictEqual(triggers(proxy.seen).slice(2).map((s) => s.key), ["nightly-2024-06-01", "nightly-2024-06-01"])
      assert.strictEqual((yield* call(() => foreman.list())).researches.length, 3)
    }))
})

describe("Client (Effect)", () => {
  it("baseUrl drops trailing slashes and /api/v1", () => {
    assert.strictEqual(Client.baseUrl("http://h:8000"), "http://h:8000")
    assert.strictEqual(Client.baseUrl("http://h:8000/"), "http://h:8000")
    assert.strictEqual(Client.baseUrl("http://h:8000/api/v1"), "http://h:8000")
    assert.strictEqual(Client.baseUrl("http://h:8000/api/v1/"), "http://h:8000")
  })

  it.scopedLive("make: every endpoint typed, the token sent, trigger keyed", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ tokens: { operator: "operator-secret" } })
      const proxy = yield* front(server.baseUrl, (n) => (n === 0 ? "unavailable" : "forward"))
      const client = yield* Client.make({ url: `${proxy.url}/api/v1`, token: Redacted.make("operator-secret") }).pipe(
        Effect.provide(FetchHttpClient.layer)
      )
      assert.strictEqual(client.url, proxy.url)
      const accepted = yield* client.trigger(brief)
      const keys = triggers(proxy.seen).map((s) => s.key)
      assert.strictEqual(keys.length, 2)
      assert.strictEqual(keys[0], keys[1])
      const detail = yield* client.api.agent.show({ path: { id: accepted.researchId } })
      assert.strictEqual(detail.research.id, accepted.researchId)
      assert.deepStrictEqual(yield* client.api.health.health(), { status: "ok", leading: true })

      const anonymous = yield* Client.make({ url: server.baseUrl }).pipe(Effect.provide(FetchHttpClient.layer))
      assert.strictEqual((yield* Effect.flip(anonymous.api.agent.status()))._tag, "Unauthorized")
      assert.strictEqual((yield* Effect.flip(anonymous.trigger(brief)))._tag, "Unauthorized")
    }))

  it.scopedLive("layer provides the Client", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const client = yield* Client.Client.pipe(
        Effect.provide(Client.layer({ url: server.baseUrl }).pipe(Layer.provide(FetchHttpClient.layer)))
      )
      const missing = yield* Effect.flip(client.api.agent.show({ path: { id: "op_missing" as Domain.ResearchId } }))
      assert.instanceOf(missing, Errors.ResearchNotFound)
    }))
})
