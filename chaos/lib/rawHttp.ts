/**
 * Raw HTTP/1.1 over a TCP socket, for malformed requests a normal client
 * refuses to send (NUL in a header, a wrong Content-Length, broken chunking).
 * Answers the status code of the reply, or what happened instead.
 */
import { connect } from "node:net"

export interface RawRequest {
  readonly method: string
  /** The request target as sent (percent-encode what should be encoded). */
  readonly target: string
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly body?: Buffer | undefined
  /** Send the body chunked (no Content-Length). */
  readonly chunked?: boolean
  /** Added to the true Content-Length (a lie about the body's size). */
  readonly lengthDelta?: number
  /** Send these bytes instead of a well-formed head and body. */
  readonly raw?: Buffer
}

export type RawOutcome =
  | { readonly _tag: "Status"; readonly status: number; readonly body: string }
  | { readonly _tag: "Closed" }
  | { readonly _tag: "Timeout" }
  | { readonly _tag: "Error"; readonly message: string }

const encode = (request: RawRequest, host: string): Buffer => {
  if (request.raw !== undefined) return request.raw
  const body = request.body ?? Buffer.alloc(0)
  const lines = [`${request.method} ${request.target} HTTP/1.1`, `Host: ${host}`, "Connection: close"]
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`)
  if (request.chunked === true) lines.push("Transfer-Encoding: chunked")
  else if (request.body !== undefined || request.lengthDelta !== undefined) {
    lines.push(`Content-Length: ${Math.max(0, body.length + (request.lengthDelta ?? 0))}`)
  }
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1")
  if (request.chunked !== true) return Buffer.concat([head, body])
  const chunks: Array<Buffer> = [head]
  for (let offset = 0; offset < body.length; offset += 65_536) {
    const part = body.subarray(offset, offset + 65_536)
    chunks.push(Buffer.from(`${part.length.toString(16)}\r\n`, "latin1"), part, Buffer.from("\r\n", "latin1"))
  }
  chunks.push(Buffer.from("0\r\n\r\n", "latin1"))
  return Buffer.concat(chunks)
}

/** Sends one request on a fresh connection and reads the status of the reply. */
export const send = (port: number, request: RawRequest, timeoutMs = 15_000): Promise<RawOutcome> =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port })
    const received: Array<Buffer> = []
    let settled = false
    const finish = (outcome: RawOutcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const parse = (): RawOutcome | undefined => {
      let all = Buffer.concat(received)
      // Skip interim answers (100 Continue) to the final one.
      while (/^HTTP\/1\.[01] 1\d\d/.test(all.subarray(0, 16).toString("latin1")) && all.includes("\r\n\r\n")) {
        all = all.subarray(all.indexOf("\r\n\r\n") + 4)
      }
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(all.subarray(0, 64).toString("latin1"))
      if (match === null || match[1]!.startsWith("1")) return undefined
      const bodyAt = all.indexOf("\r\n\r\n")
      return {
        _tag: "Status",
        status: Number(match[1]),
        body: bodyAt < 0 ? "" : all.subarray(bodyAt + 4, bodyAt + 4 + 2048).toString("utf8")
      }
    }
    /** Whether the whole reply is in (its head, and as much body as Content-Length says). */
    const complete = (): boolean => {
      let all = Buffer.concat(received)
      while (/^HTTP\/1\.[01] 1\d\d/.test(all.subarray(0, 16).toString("latin1")) && all.includes("\r\n\r\n")) {
        all = all.subarray(all.indexOf("\r\n\r\n") + 4)
      }
      const bodyAt = all.indexOf("\r\n\r\n")
      if (bodyAt < 0) return false
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(all.subarray(0, bodyAt).toString("latin1"))
      return length !== null && all.length - bodyAt - 4 >= Number(length[1])
    }
    const timer = setTimeout(() => finish(parse() ?? { _tag: "Timeout" }), timeoutMs)
    socket.on("connect", () => {
      socket.write(encode(request, `127.0.0.1:${port}`), () => {
        // A body shorter than announced: say we are done sending, so the server must decide now.
        if ((request.lengthDelta ?? 0) > 0) socket.end()
      })
    })
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk)
      if (complete()) finish(parse() ?? { _tag: "Closed" })
    })
    socket.on("end", () => finish(parse() ?? { _tag: "Closed" }))
    socket.on("close", () => finish(parse() ?? { _tag: "Closed" }))
    socket.on("error", (error) => finish(parse() ?? { _tag: "Error", message: error.message }))
  })

/**
 * What an outcome says about the server, when it did not answer: `reset` (it
 * closed or reset the connection with no status line), `timeout` (nothing in
 * time); undefined when it answered.
 */
export const silenceOf = (outcome: RawOutcome): "reset" | "timeout" | undefined =>
  outcome._tag === "Status" ? undefined : outcome._tag === "Timeout" ? "timeout" : "reset"
