/**
 * The API's limits over raw HTTP on 127.0.0.1: a body over the limit gets 413
 * however it is framed (declared with Content-Length or sent in chunks).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { connect, type Socket } from "node:net"
import { startServer } from "@foreman/testing/ApiHarness"

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
})
