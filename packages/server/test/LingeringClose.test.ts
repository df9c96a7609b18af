/**
 * An answer decided on the request's head (413 for a declared or chunked body
 * over the limit, 404, 405) reaches a client that is still sending a large
 * body: the server half-closes after the answer and reads what still comes
 * (a lingering close), so no reset for unread bytes can discard the answer.
 * The drain is bounded in bytes and time, holds no slot of the credential's
 * open requests, and does not hold the server's stop.
 */
import { HttpServer } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Memory } from "@foreman/adapter-memory"
import { Clock, Context, Deferred, Duration, Effect, Exit, Layer, Scope } from "effect"
import { connect } from "node:net"
import { ApiServer } from "../src/index.js"
import { quiet, tokenConfig } from "@foreman/testing/ApiHarness"

const mib = 1024 * 1024
const trigger = "/api/v1/agent/trigger"
const operator = "operator-secret"

interface Exchange {
  /** Everything the server sent, as text. */
  readonly text: string
  /** The error that ended the connection (ECONNRESET, EPIPE), or null when it closed cleanly. */
  readonly error: string | null
  /** Body bytes the client handed to its socket. */
  readonly sent: number
  /** When the first byte of the answer came and when the connection closed (ms since the start). */
  readonly answeredAfter: number | null
  readonly closedAfter: number
}

interface Sending {
  readonly head: string
  /** Body bytes to send, at full speed in 64 KiB pieces. */
  readonly bytes: number
  /** Frame the body in chunks (the head says `Transfer-Encoding: chunked`). */
  readonly chunked?: boolean
  /** After this many bytes, send only 4 KiB every 50 ms (a slow client that would go on for long). */
  readonly trickleAfter?: number
  /** Read nothing until the body is sent (or sending failed), as a client that writes, then reads (Python's http.client). */
  readonly readAfterSending?: boolean
}

/**
 * Sends `head`, then the body as fast as the socket takes it, whatever the
 * server answers meanwhile (a half-open client, as curl or a proxy behaves),
 * until all is sent or the connection breaks; reads everything until the close
 * (from the start, or once done sending).
 */
const exchange = (port: number, sending: Sending, onAnswer: () => void = () => {}) =>
  Effect.async<Exchange>((resume) => {
    const started = Date.now()
    const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true })
    const received: Array<Buffer> = []
    let error: string | null = null
    let sent = 0
    let answeredAfter: number | null = null
    const piece = Buffer.alloc(64 * 1024, 0x78)
    const limit = Math.min(sending.bytes, sending.trickleAfter ?? Infinity)
    const trickle = setInterval(() => {
      if (sent < limit || sent >= sending.bytes || socket.destroyed || !socket.writable) return
      sent += 4096
      socket.write(piece.subarray(0, 4096))
    }, 50)
    const pump = () => {
      while (sent < limit && !socket.destroyed && socket.writable) {
        const part = piece.subarray(0, Math.min(piece.length, limit - sent))
        sent += part.length
        const framed = sending.chunked === true
          ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from("\r\n")])
          : part
        if (!socket.write(framed)) return void socket.once("drain", pump)
      }
      if (sent >= sending.bytes && !socket.destroyed && socket.writable) socket.end(sending.chunked === true ? "0\r\n\r\n" : "")
      if (sent >= limit || !socket.writable) socket.resume()
    }
    socket.on("data", (chunk: Buffer) => {
      if (answeredAfter === null) {
        answeredAfter = Date.now() - started
        onAnswer()
      }
      received.push(chunk)
    })
    socket.on("error", (e: NodeJS.ErrnoException) => {
      socket.resume()
      error ??= e.code ?? e.message
    })
    socket.once("close", () => {
      clearInterval(trickle)
      resume(Effect.succeed({
        text: Buffer.concat(received).toString("utf8"),
        error,
        sent,
        answeredAfter,
        closedAfter: Date.now() - started
      }))
    })
    if (sending.readAfterSending === true) socket.pause()
    socket.once("connect", () => {
      socket.write(sending.head)
      pump()
    })
    return Effect.sync(() => {
      clearInterval(trickle)
      socket.destroy()
    })
  })

/** The status and the JSON body of the answer in `text`, asserted whole (its Content-Length's worth). */
const answerOf = (text: string, context: string): { readonly status: number; readonly body: { readonly _tag?: string } } => {
  const at = text.indexOf("\r\n\r\n")
  assert.isAbove(at, 0, `an answer's head arrived (${context}): ${JSON.stringify(text.slice(0, 120))}`)
  const head = text.slice(0, at)
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(head)
  assert.isNotNull(status, `a status line (${context}): ${JSON.stringify(head.slice(0, 120))}`)
  const length = /\r\ncontent-length: (\d+)/i.exec(head)
  assert.isNotNull(length, `a Content-Length (${context})`)
  const body = text.slice(at + 4)
  assert.isAtLeast(Buffer.byteLength(body), Number(length![1]), `the whole body arrived (${context})`)
  return { status: Number(status![1]), body: JSON.parse(body.slice(0, Number(length![1]))) as { _tag?: string } }
}

const head = (lines: ReadonlyArray<string>) => `${lines.join("\r\n")}\r\n\r\n`

/** The requests answered on their head, each with 8 MiB of body behind it. */
const early: ReadonlyArray<{ readonly name: string; readonly sending: Sending; readonly status: number; readonly tag: string }> = [
  {
    name: "declared body over the limit",
    status: 413,
    tag: "PayloadTooLarge",
    sending: {
      head: head([`POST ${trigger} HTTP/1.1`, "Host: 127.0.0.1", "Content-Type: application/json", `Content-Length: ${8 * mib}`, "Connection: close"]),
      bytes: 8 * mib
    }
  },
  {
    name: "chunked body over the limit",
    status: 413,
    tag: "PayloadTooLarge",
    sending: {
      head: head([`POST ${trigger} HTTP/1.1`, "Host: 127.0.0.1", "Content-Type: application/json", "Transfer-Encoding: chunked", "Connection: close"]),
      bytes: 8 * mib,
      chunked: true
    }
  },
  {
    name: "unknown route",
    status: 404,
    tag: "NotFound",
    sending: {
      head: head(["GET /nothing/here HTTP/1.1", "Host: 127.0.0.1", `Content-Length: ${8 * mib}`, "Connection: close"]),
      bytes: 8 * mib
    }
  },
  {
    name: "method the route does not take",
    status: 405,
    tag: "MethodNotAllowed",
    sending: {
      head: head([`PUT ${trigger} HTTP/1.1`, "Host: 127.0.0.1", "Content-Type: application/json", `Content-Length: ${8 * mib}`, "Connection: close"]),
      bytes: 8 * mib
    }
  }
]

/**
 * Asserts one exchange got its whole answer, and, when `clean`, a clean close
 * (the server read the rest of the body within the drain's 5 s; side by side on
 * a loaded machine a drain may take longer and be cut off after the answer).
 */
const answeredWhole = (exchange: Exchange, expected: (typeof early)[number], context: string, clean: boolean) => {
  const answer = answerOf(exchange.text, `${expected.name}, ${context}, error ${exchange.error}`)
  assert.strictEqual(answer.status, expected.status)
  assert.strictEqual(answer.body._tag, expected.tag)
  if (clean) assert.isNull(exchange.error, `no reset: the server read the body to its end (${expected.name}, ${context})`)
}

/** The API over a fresh in-memory engine with tokens, in `scope`; its port. */
const serveIn = (scope: Scope.Scope, options: Omit<ApiServer.ServeOptions, "host" | "port"> = {}) =>
  Effect.gen(function*() {
    const context = yield* Layer.buildWithScope(
      ApiServer.serve({ host: "127.0.0.1", port: 0, ...options }).pipe(Layer.provideMerge(Memory.layer())),
      scope
    ).pipe(Effect.withConfigProvider(tokenConfig({ operator, worker: "worker-secret" })), quiet)
    const address = Context.get(context, HttpServer.HttpServer).address
    return address._tag === "TcpAddress" ? address.port : yield* Effect.dieMessage("expected a TCP address")
  })

const serve = (options: Omit<ApiServer.ServeOptions, "host" | "port"> = {}) =>
  Effect.flatMap(Effect.scope, (scope) => serveIn(scope, options))

describe("LingeringClose", () => {
  it.scopedLive("an answer on the head reaches a client still sending 8 MiB, every time (48 in a row, 48 side by side)", () =>
    Effect.gen(function*() {
      const port = yield* serve()
      // Every kind of early answer, to a client reading as it sends and to one reading once it has sent.
      const cases = early.flatMap((expected) =>
        [false, true].map((readAfterSending) => ({ expected, sending: { ...expected.sending, readAfterSending } }))
      )
      for (let i = 0; i < 48; i++) {
        const { expected, sending } = cases[i % cases.length]!
        answeredWhole(yield* exchange(port, sending), expected, `in a row #${i}, read after sending: ${sending.readAfterSending}`, true)
      }
      const side = yield* Effect.forEach(
        Array.from({ length: 48 }, (_, i) => cases[i % cases.length]!),
        ({ expected, sending }) => Effect.map(exchange(port, sending), (result) => ({ expected, sending, result })),
        { concurrency: 4 }
      )
      side.forEach(({ expected, result, sending }, i) =>
        answeredWhole(result, expected, `side by side #${i}, read after sending: ${sending.readAfterSending}`, false)
      )
    }), { timeout: 120_000 })

  it.scopedLive("Node's 400 to a request its parser refuses reaches a client still sending 8 MiB", () =>
    Effect.gen(function*() {
      const port = yield* serve()
      const broken = head(["POST /api/v1/agent/researches/op_a b HTTP/1.1", "Host: 127.0.0.1", `Content-Length: ${8 * mib}`, "Connection: close"])
      for (let i = 0; i < 16; i++) {
        const result = yield* exchange(port, { head: broken, bytes: 8 * mib, readAfterSending: i % 2 === 1 })
        assert.match(result.text, /^HTTP\/1\.1 400 Bad Request\r\n/, `#${i}: ${JSON.stringify(result.text.slice(0, 60))} (${result.error})`)
        assert.isNull(result.error, `#${i}: no reset`)
      }
    }))

  it.scopedLive("a kept-alive connection answered before its body is read closes once the body is drained, never reused", () =>
    Effect.gen(function*() {
      const port = yield* serve()
      const result = yield* exchange(port, {
        head: head([`POST ${trigger} HTTP/1.1`, "Host: 127.0.0.1", "Content-Type: application/json", `Content-Length: ${4 * mib}`]),
        bytes: 4 * mib
      }).pipe(Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error("the connection stayed open") }))
      assert.strictEqual(answerOf(result.text, "kept alive").status, 413)
      assert.match(result.text, /\r\nconnection: close\r\n/i, "the answer says the connection closes")
      assert.isNull(result.error)
      assert.isAtMost(result.closedAfter, 4_000, "closed once the body was read, not after an idle timeout")
      // Requests answered after their body was read keep their connection: three on one.
      const socket = connect({ host: "127.0.0.1", port })
      yield* Effect.addFinalizer(() => Effect.sync(() => socket.destroy()))
      const invalid = head([
        `POST ${trigger} HTTP/1.1`,
        "Host: 127.0.0.1",
        `Authorization: Bearer ${operator}`,
        "Content-Type: application/json",
        "Content-Length: 2"
      ]) + "{}"
      const answers = yield* Effect.async<string>((resume) => {
        let text = ""
        socket.on("data", (chunk: Buffer) => {
          text += chunk.toString()
          if ((text.match(/HTTP\/1\.1 \d{3} /g) ?? []).length === 3) resume(Effect.succeed(text))
        })
        socket.write(head(["GET /api/v1/health HTTP/1.1", "Host: 127.0.0.1"]) + invalid + invalid)
      }).pipe(Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error("not answered on one connection") }))
      assert.match(answers, /^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 400 [\s\S]*HTTP\/1\.1 400 /)
      assert.notMatch(answers, /connection: close/i)
    }))

  it.scopedLive("a client that keeps sending is cut off after the drain's cap, its answer read first", () =>
    Effect.gen(function*() {
      const port = yield* serve()
      const result = yield* exchange(port, {
        head: head([`POST ${trigger} HTTP/1.1`, "Host: 127.0.0.1", "Content-Type: application/json", `Content-Length: ${1024 * mib}`, "Connection: close"]),
        bytes: 1024 * mib
      }).pipe(Effect.timeoutFail({ duration: Duration.seconds(15), onTimeout: () => new Error("never cut off") }))
      assert.strictEqual(answerOf(result.text, "endless").status, 413)
      // The drain's cap (16 MiB) and what the kernels' buffers held.
      assert.isBelow(result.sent, 64 * mib, `cut off after ${result.sent} bytes`)
      assert.isNotNull(result.error, "the rest of the body was refused")
    }))

  it.scopedLive("a slow drain is cut off within its time, and holds no slot of the credential's open requests", () =>
    Effect.gen(function*() {
      const port = yield* serve({ maxConnectionsPerCredential: 1 })
      const answered = yield* Deferred.make<void>()
      const slow = yield* Effect.fork(exchange(port, {
        head: head([
          `POST ${trigger} HTTP/1.1`,
          "Host: 127.0.0.1",
          `Authorization: Bearer ${operator}`,
          "Content-Type: application/json",
          `Content-Length: ${8 * mib}`,
          "Connection: close"
        ]),
        bytes: 8 * mib,
        trickleAfter: 256 * 1024
      }, () => Deferred.unsafeDone(answered, Exit.void)).pipe(
        Effect.timeoutFail({ duration: Duration.seconds(15), onTimeout: () => new Error("the slow drain was never cut off") })
      ))
      yield* Deferred.await(answered)
      // While it lingers, the same credential's next request is answered (its only slot is free).
      const status = yield* Effect.promise(() =>
        fetch(`http://127.0.0.1:${port}/api/v1/agent/status`, { headers: { authorization: `Bearer ${operator}` } })
      )
      assert.strictEqual(status.status, 200)
      const result = yield* slow
      assert.strictEqual(answerOf(result.text, "slow").status, 413)
      const lingered = result.closedAfter - (result.answeredAfter ?? 0)
      assert.isAtLeast(lingered, 1_000, `the server went on reading the body after its answer (${lingered} ms)`)
      assert.isAtMost(lingered, 7_000, `cut off ${lingered} ms after its answer (a drain lasts 5 s at most)`)
      assert.isNotNull(result.error, "the rest of the body was refused")
    }))

  it.live("stopping the server closes a lingering connection at once", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const port = yield* serveIn(scope)
      const answered = yield* Deferred.make<void>()
      const slow = yield* Effect.fork(exchange(port, {
        head: head([`POST ${trigger} HTTP/1.1`, "Host: 127.0.0.1", "Content-Type: application/json", `Content-Length: ${8 * mib}`, "Connection: close"]),
        bytes: 8 * mib,
        trickleAfter: 256 * 1024
      }, () => Deferred.unsafeDone(answered, Exit.void)))
      // Once answered, stop: the lingering connection must not hold the server's close.
      yield* Deferred.await(answered)
      const stopping = yield* Clock.currentTimeMillis
      yield* Scope.close(scope, Exit.void)
      const stopped = (yield* Clock.currentTimeMillis) - stopping
      const result = yield* slow
      assert.strictEqual(answerOf(result.text, "stopped").status, 413)
      assert.isAtMost(stopped, 2_000, `the server stopped in ${stopped} ms (a drain may last 5 s)`)
      assert.isAtMost(result.closedAfter - (result.answeredAfter ?? 0), 3_000, "the lingering connection closed with it")
    }))
})
