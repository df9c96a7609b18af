/**
 * The API's limits over raw HTTP on 127.0.0.1: a body over the limit gets 413
 * however it is framed (declared with Content-Length or sent in chunks); slow
 * clients are closed within the header and request timeouts while the API
 * keeps answering others, long-polls and event streams outlive the request
 * timeout, and one credential holds at most so many open requests.
 */
import { HttpServer } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Memory } from "@foreman/adapter-memory"
import { Clock, Context, Duration, Effect, Fiber, Layer } from "effect"
import { connect, type Socket } from "node:net"
import { ApiServer } from "../src/index.js"
import { eventually, json, quiet, startServer, tokenConfig } from "@foreman/testing/ApiHarness"

const trigger = "/api/v1/agent/trigger"

/** A raw connection to the server at `baseUrl`, closed with the scope. */
const open = (baseUrl: string) =>
  Effect.acquireRelease(
    Effect.async<Socket, Error>((resume) => {
      const { hostname, port } = new URL(baseUrl)
      const socket = connect({ host: hostname, port: Number(port) })
      socket.once("connect", () => resume(Effect.succeed(socket)))
      socket.once("error", (error) => resume(Effect.fail(error)))
    }),
    (socket) => Effect.sync(() => socket.destroy())
  )

/** What the server sent until it closed the connection, or the error that ended it. */
const received = (socket: Socket) =>
  Effect.async<{ readonly text: string; readonly error: string | null }>((resume) => {
    const chunks: Array<Buffer> = []
    let error: string | null = null
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    socket.on("error", (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message
    })
    socket.once("close", () => resume(Effect.succeed({ text: Buffer.concat(chunks).toString("utf8"), error })))
  })

/** Writes `data`, resolving once the socket took it (or failing when the server closed the connection). */
const write = (socket: Socket, data: string) =>
  Effect.async<void>((resume) => {
    socket.write(data, () => resume(Effect.void))
  })

describe("RequestLimits", () => {
  it.scopedLive("answers 413 to a chunked body over the limit, as to a declared one", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const socket = yield* open(server.baseUrl)
      const answer = yield* Effect.fork(received(socket))
      yield* write(
        socket,
        `POST ${trigger} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      )
      const chunk = "x".repeat(64 * 1024)
      // 2 MiB in 64 KiB chunks; the server may stop reading (and close) before the end.
      for (let i = 0; i < 32 && !socket.destroyed && socket.writable; i++) {
        yield* write(socket, `${chunk.length.toString(16)}\r\n${chunk}\r\n`)
      }
      if (socket.writable) socket.end("0\r\n\r\n")
      const { error, text } = yield* answer
      assert.match(text, /^HTTP\/1\.1 413 /, `got ${JSON.stringify(text.slice(0, 200))} (${error})`)
      assert.include(text, "\"_tag\":\"PayloadTooLarge\"")
      // The API keeps answering.
      assert.strictEqual((yield* server.fetch("/api/v1/health")).status, 200)
    }))

  it.scopedLive("closes slow clients within the timeouts, and keeps answering others meanwhile", () =>
    Effect.gen(function*() {
      const baseUrl = yield* serveLimited({ headersTimeoutSeconds: 1, requestTimeoutSeconds: 2 })
      const started = yield* Clock.currentTimeMillis
      // Headers a byte every 50 ms: 40 of them, or a body a byte at a time after whole headers.
      const headers = `GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${"x".repeat(500)}\r\n\r\n`
      const bodyFirst = `POST ${trigger} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: 500\r\n\r\n`
      const slow = yield* Effect.forEach(Array.from({ length: 40 }, (_, i) => i), (i) =>
        Effect.gen(function*() {
          const socket = yield* open(baseUrl)
          const closed = yield* Effect.fork(received(socket))
          if (i % 4 === 3) yield* write(socket, bodyFirst)
          yield* Effect.fork(dribble(socket, i % 4 === 3 ? "x".repeat(500) : headers))
          return closed
        }))
      // Others are answered while the slow ones hold their connections.
      for (let i = 0; i < 5; i++) {
        const response = yield* Effect.promise(() => fetch(`${baseUrl}/api/v1/health`))
        assert.strictEqual(response.status, 200)
      }
      const answers = yield* Effect.forEach(slow, Fiber.join).pipe(
        Effect.timeoutFail({ duration: Duration.seconds(6), onTimeout: () => new Error("slow clients still connected after 6 s") })
      )
      const closedAfter = (yield* Clock.currentTimeMillis) - started
      assert.isAtMost(closedAfter, 5000, `every slow connection closed within the timeout (${closedAfter} ms)`)
      for (const { text } of answers) assert.notMatch(text, /^HTTP\/1\.1 200/, "no slow request was served")
      assert.strictEqual((yield* Effect.promise(() => fetch(`${baseUrl}/api/v1/health`))).status, 200)
    }))

  it.scopedLive("a long-poll and the event stream stay open past the request timeout", () =>
    Effect.gen(function*() {
      const baseUrl = yield* serveLimited({ headersTimeoutSeconds: 1, requestTimeoutSeconds: 1 })
      const events = yield* Effect.promise(() =>
        fetch(`${baseUrl}/api/v1/events`, { headers: { authorization: "Bearer operator-secret" } })
      )
      assert.strictEqual(events.status, 200)
      const reader = events.body!.getReader()
      yield* Effect.addFinalizer(() => Effect.promise(() => reader.cancel()))
      const register = yield* Effect.promise(() =>
        fetch(
          `${baseUrl}/api/v1/workers/register`,
          json("POST", { id: "slow-poller", type: "training" }, { authorization: "Bearer worker-secret" })
        ).then((r) => r.json() as Promise<{ secret: string }>)
      )
      const started = yield* Clock.currentTimeMillis
      const poll = yield* Effect.promise(() =>
        fetch(
          `${baseUrl}/api/v1/workers/slow-poller/poll`,
          json("POST", { waitSeconds: 3 }, { authorization: "Bearer worker-secret", "x-foreman-worker-secret": register.secret })
        )
      )
      assert.strictEqual(poll.status, 200)
      assert.isAtLeast((yield* Clock.currentTimeMillis) - started, 2900, "the poll waited its 3 s")
      // The stream, open for more than 3 s, still delivers: a trigger's event arrives.
      yield* Effect.promise(() =>
        fetch(`${baseUrl}${trigger}`, json("POST", { brief: "Explore RSI" }, { authorization: "Bearer operator-secret" }))
      )
      const decoder = new TextDecoder()
      let seen = ""
      yield* eventually(
        Effect.promise(async () => {
          const chunk = await reader.read()
          seen += chunk.value === undefined ? "" : decoder.decode(chunk.value)
          return seen
        }),
        (text) => text.includes("event: Triggered")
      )
    }))

  it.scopedLive("one credential holds at most so many open requests; other credentials are still answered", () =>
    Effect.gen(function*() {
      const baseUrl = yield* serveLimited({ maxConnectionsPerCredential: 3 })
      const operator = { authorization: "Bearer operator-secret" }
      const streams = yield* Effect.forEach([1, 2, 3], () =>
        Effect.promise(() => fetch(`${baseUrl}/api/v1/events`, { headers: operator })))
      yield* Effect.addFinalizer(() =>
        Effect.forEach(streams, (stream) => Effect.promise(() => stream.body!.cancel().catch(() => undefined)))
      )
      for (const stream of streams) assert.strictEqual(stream.status, 200)
      const refused = yield* Effect.promise(() => fetch(`${baseUrl}/api/v1/agent/status`, { headers: operator }))
      assert.strictEqual(refused.status, 429)
      assert.deepStrictEqual(yield* Effect.promise(() => refused.json()), {
        _tag: "TooManyConnections",
        message: "This credential already has 3 requests open: finish some, then send again"
      })
      const worker = yield* Effect.promise(() =>
        fetch(`${baseUrl}/api/v1/workers`, { headers: { authorization: "Bearer worker-secret" } })
      )
      assert.strictEqual(worker.status, 200, "another credential is answered")
      yield* Effect.promise(() => streams[0]!.body!.cancel())
      yield* eventually(
        Effect.promise(() => fetch(`${baseUrl}/api/v1/agent/status`, { headers: operator }).then((r) => r.status)),
        (status) => status === 200
      )
    }))
})

/** Sends `text` a byte every 50 ms until it is sent or the server closes the connection. */
const dribble = (socket: Socket, text: string) =>
  Effect.gen(function*() {
    for (const byte of text) {
      if (socket.destroyed || !socket.writable) return
      socket.write(byte)
      yield* Effect.sleep(Duration.millis(50))
    }
  })

/** The API over a fresh in-memory engine with tokens and the given limits, in the test's scope; its base URL. */
const serveLimited = (limits: Omit<ApiServer.ServeOptions, "host" | "port">) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      ApiServer.serve({ host: "127.0.0.1", port: 0, ...limits }).pipe(Layer.provideMerge(Memory.layer()))
    ).pipe(Effect.withConfigProvider(tokenConfig({ operator: "operator-secret", worker: "worker-secret" })), quiet)
    const address = Context.get(context, HttpServer.HttpServer).address
    return address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
  })
