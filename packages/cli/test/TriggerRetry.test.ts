/**
 * `foreman agent trigger` when the answer is lost: an HTTP proxy in front of
 * the coordinator lets the trigger through, then drops the connection (or
 * answers 503) instead of passing the answer on. The CLI sends the trigger
 * once more with the same `Idempotency-Key` and prints the research the first
 * attempt started; exactly one research exists. A coordinator that takes the
 * connection and never answers: the research may have started, and nothing
 * says to start a coordinator that is there.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Memory } from "@foreman/adapter-memory"
import { Effect } from "effect"
import { createServer, type IncomingMessage } from "node:http"
import { createServer as createTcpServer, type Socket } from "node:net"
import { startServer } from "@foreman/testing/ApiHarness"
import { against } from "./cliHarness.js"

/** Workers that never finish: researches stay where they are. */
const stuck: Memory.MemoryOptions["handlers"] = { training: () => Effect.never, backtest: () => Effect.never }

/** What the proxy does with the coordinator's answer to the nth trigger (from 1). */
type Fault = "pass" | "drop" | "503"

const readBody = (request: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => resolve(Buffer.concat(chunks)))
    request.on("error", reject)
  })

/**
 * A proxy to `upstream` that passes every request on and hands each trigger's
 * answer to `fault`; records the `Idempotency-Key` of every trigger.
 */
const lossyProxy = (upstream: string, fault: (attempt: number) => Fault) =>
  Effect.gen(function*() {
    const keys: Array<string | undefined> = []
    const server = createServer((request, response) => {
      void (async () => {
        const body = await readBody(request)
        const headers = new Headers()
        for (const [name, value] of Object.entries(request.headers)) {
          if (typeof value === "string" && !["host", "connection", "content-length"].includes(name)) headers.set(name, value)
        }
        const answer = await fetch(`${upstream}${request.url}`, {
          method: request.method ?? "GET",
          headers,
          ...(body.length > 0 ? { body } : {})
        })
        const text = await answer.text()
        const isTrigger = request.method === "POST" && request.url === "/api/v1/agent/trigger"
        const what = isTrigger ? fault(keys.push(request.headers["idempotency-key"] as string | undefined)) : "pass"
        if (what === "drop") {
          request.socket.destroy()
        } else if (what === "503") {
          response.writeHead(503, { "content-type": "application/json" })
          response.end(JSON.stringify({ _tag: "StorageError", reason: "connection lost", message: "Storage failure: connection lost" }))
        } else {
          response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "text/plain" })
          response.end(text)
        }
      })()
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    return { url: `http://127.0.0.1:${port}`, keys }
  })

/** A TCP server that accepts every connection and never answers. */
const silentServer = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly close: () => Promise<void> }>((resume) => {
    const sockets = new Set<Socket>()
    const server = createTcpServer((socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const close = () =>
        new Promise<void>((done) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => done())
        })
      resume(Effect.succeed({ url: `http://127.0.0.1:${port}`, close }))
    })
  }),
  (server) => Effect.promise(server.close)
)

const triggeredId = (stdout: string) => /^Research triggered: (op_\w+)$/.exec(stdout)?.[1]

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe("foreman agent trigger, when the answer is lost", () => {
  for (const lost of ["drop", "503"] as const) {
    it.scopedLive(`${lost === "drop" ? "a dropped connection" : "a 503"}: the retry prints the research, one exists`, () =>
      Effect.gen(function*() {
        const server = yield* startServer({ engine: { handlers: stuck } })
        const proxy = yield* lossyProxy(server.baseUrl, (attempt) => (attempt === 1 ? lost : "pass"))
        const out = yield* against(proxy.url)(["agent", "trigger", "--brief", "Explore RSI variations"])
        assert.strictEqual(out.stderr, "")
        assert.strictEqual(out.code, 0)
        const api = yield* server.client()
        const stored = (yield* api.agent.list({ urlParams: { limit: 50, offset: 0 } })).researches
        assert.deepStrictEqual(stored.map((r) => r.id), [triggeredId(out.stdout)])
        assert.strictEqual(proxy.keys.length, 2)
        assert.match(proxy.keys[0] ?? "", uuid)
        assert.strictEqual(proxy.keys[1], proxy.keys[0], "the retry carries the same key")
      }))
  }

  it.scopedLive("retries once only, then says the research may have started", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuck } })
      const proxy = yield* lossyProxy(server.baseUrl, () => "503")
      const out = yield* against(proxy.url)(["agent", "trigger", "--brief", "Explore RSI variations"])
      assert.strictEqual(out.code, 1)
      assert.deepStrictEqual(out.stderr.split("\n"), [
        "Storage failure: connection lost",
        "The coordinator's storage is unavailable or busy: try again in a moment.",
        "The research may have started: check `foreman agent status` before triggering again."
      ])
      assert.strictEqual(proxy.keys.length, 2)
      const api = yield* server.client()
      assert.strictEqual((yield* api.agent.list({ urlParams: { limit: 50, offset: 0 } })).researches.length, 1)
    }))

  it.scopedLive("every invocation sends a key of its own", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuck, config: { maxConcurrentResearches: 5 } } })
      const proxy = yield* lossyProxy(server.baseUrl, () => "pass")
      const run = against(proxy.url)
      assert.strictEqual((yield* run(["agent", "trigger", "--brief", "one"])).code, 0)
      assert.strictEqual((yield* run(["agent", "trigger", "--brief", "two"])).code, 0)
      assert.strictEqual(proxy.keys.length, 2)
      assert.notStrictEqual(proxy.keys[0], proxy.keys[1])
      const api = yield* server.client()
      assert.strictEqual((yield* api.agent.list({ urlParams: { limit: 50, offset: 0 } })).researches.length, 2)
    }))

  it.scopedLive("a coordinator that never answers: the research may have started; no advice to start one", () =>
    Effect.gen(function*() {
      const silent = yield* silentServer
      const env = { FOREMAN_REQUEST_TIMEOUT_SECONDS: "0.5" }
      const started = Date.now()
      const out = yield* against(silent.url)(["agent", "trigger", "--brief", "Explore RSI variations"], env)
      assert.isBelow(Date.now() - started, 5_000, "FOREMAN_REQUEST_TIMEOUT_SECONDS bounds the whole trigger")
      assert.strictEqual(out.code, 1)
      assert.strictEqual(out.stdout, "")
      assert.deepStrictEqual(out.stderr.split("\n"), [
        `No answer from the coordinator at ${silent.url} within 500ms`,
        "The research may have started: check `foreman agent status` before triggering again."
      ])
      const status = yield* against(silent.url)(["agent", "status"], env)
      assert.strictEqual(status.code, 1)
      assert.notInclude(status.stderr, "Start it with")
      assert.deepStrictEqual(status.stderr.split("\n"), [
        `No answer from the coordinator at ${silent.url} within 500ms`,
        "It accepted the connection but did not answer: it may be overloaded or stuck (its log says why); " +
        "FOREMAN_REQUEST_TIMEOUT_SECONDS waits longer."
      ])
    }), 60_000)
})
