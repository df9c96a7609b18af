/**
 * Test helper: a TCP proxy in front of PostgreSQL that drops a connection at a
 * chosen COMMIT or ROLLBACK, or at the statement whose text contains a given
 * string, deterministically. `@effect/sql` sends COMMIT and ROLLBACK as simple
 * queries (a `Q` message holding only that text), and a statement with
 * parameters as a `Parse` message holding its text, so the proxy spots them in
 * the client's bytes. "after" forwards the statement and drops the connection
 * when the server answers (a statement outside a transaction is committed by
 * then: the server answers nothing before the `Sync` that ends it), so the
 * server did it and the client never hears; "before" drops it without
 * forwarding, so the server never did.
 */
import { Deferred, Effect } from "effect"
import { createConnection, createServer, type Socket } from "node:net"

/** COMMIT, ROLLBACK, or any statement whose text contains `containing`. */
export type Statement = "COMMIT" | "ROLLBACK" | { readonly containing: string }

/** The bytes of a simple query: `Q`, its length (itself included), the text and a NUL. */
const simpleQuery = (text: string): Buffer => {
  const body = Buffer.from(`${text}\0`, "utf8")
  const header = Buffer.alloc(5)
  header.write("Q", 0, "ascii")
  header.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([header, body])
}

interface Armed {
  readonly statement: Buffer
  readonly when: "before" | "after"
  readonly dropped: Deferred.Deferred<void>
}

/** Starts the proxy for the scope; `url` is `target` with the proxy's host and port. */
export const faultProxy = (target: string) =>
  Effect.gen(function*() {
    const upstream = new URL(target)
    let armed: Armed | undefined
    const sockets = new Set<Socket>()

    const server = createServer((client) => {
      const backend = createConnection({ host: upstream.hostname, port: Number(upstream.port || 5432) })
      sockets.add(client).add(backend)
      const drop = () => {
        client.destroy()
        backend.destroy()
      }
      let tail = Buffer.alloc(0)
      let dropOnReply: Deferred.Deferred<void> | undefined
      client.on("data", (chunk: Buffer) => {
        const seen = Buffer.concat([tail, chunk])
        tail = seen.subarray(Math.max(0, seen.length - 256))
        const fault = armed
        if (fault !== undefined && seen.includes(fault.statement)) {
          armed = undefined
          if (fault.when === "before") {
            drop()
            Deferred.unsafeDone(fault.dropped, Effect.void)
            return
          }
          dropOnReply = fault.dropped
        }
        backend.write(chunk)
      })
      backend.on("data", (chunk: Buffer) => {
        if (dropOnReply !== undefined) {
          drop()
          Deferred.unsafeDone(dropOnReply, Effect.void)
          return
        }
        client.write(chunk)
      })
      client.on("close", () => backend.destroy())
      backend.on("close", () => client.destroy())
      client.on("error", () => backend.destroy())
      backend.on("error", () => client.destroy())
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
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )

    const url = new URL(target)
    url.hostname = "127.0.0.1"
    url.port = String(port)

    return {
      url: url.toString(),
      /**
       * Drops the connection that next sends `statement`, `before` or `after`
       * the server runs it; the effect returned waits until that happened.
       */
      dropAt: (statement: Statement, when: "before" | "after") =>
        Effect.gen(function*() {
          const dropped = yield* Deferred.make<void>()
          const bytes = typeof statement === "string" ? simpleQuery(statement) : Buffer.from(statement.containing, "utf8")
          armed = { statement: bytes, when, dropped }
          return Deferred.await(dropped)
        })
    }
  })
