/**
 * A lingering close for the API's Node HTTP server, as Apache and nginx do it:
 * an answer sent before the request's body has arrived (413 on a declared or
 * chunked body over the limit, 404, 405, 429 decided on the head, or Node's
 * own 400 or 431 to a request its parser refuses) reaches a client that is
 * still sending that body.
 *
 * Node closes such a connection as soon as the answer is written (its request
 * said `Connection: close`, or the answer did), with body bytes still unread:
 * the kernel then answers them with a reset, and a reset that reaches the
 * client before it read the answer discards the answer (a kept-alive one it
 * drains with no bound but the request timeout, then reuses). Here the answer says
 * `Connection: close` (the connection is never reused for another request),
 * the server half-closes after it (a FIN behind the answer) and reads and drops
 * what the client still sends, until the body ends, `maxBytes` more arrived or
 * `maxMillis` passed; then it closes. The drain holds no request open (the
 * response is done), and a server that stops closes draining connections at once.
 */
import { type IncomingMessage, Server, type ServerOptions, ServerResponse } from "node:http"
import { Socket } from "node:net"

/** How much more of a body the server reads after answering before it was read, and for how long. */
export interface LingerLimits {
  readonly maxBytes: number
  readonly maxMillis: number
}

/** 16 MiB and 5 s: time for any client to read its answer, not enough to hold the server's sockets. */
export const defaultLingerLimits: LingerLimits = { maxBytes: 16 * 1024 * 1024, maxMillis: 5_000 }

/** Node's answers to a request its parser refuses, as its HTTP server writes them. */
const refusals: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: "431 Request Header Fields Too Large",
  HPE_CHUNK_EXTENSIONS_OVERFLOW: "413 Payload Too Large",
  ERR_HTTP_REQUEST_TIMEOUT: "408 Request Timeout"
}
const refusal = (code: string | undefined): string =>
  `HTTP/1.1 ${refusals[code ?? ""] ?? "400 Bad Request"}\r\nConnection: close\r\n\r\n`

/** Whether `error` is the parser refusing what the client sent (the client may still be sending), not a timeout or a broken socket. */
const isParseError = (error: NodeJS.ErrnoException): boolean => error.code?.startsWith("HPE_") === true

/** Whether body bytes of `request` may still be on their way: it has a body and its message is not complete. */
const bodyStillComing = (request: IncomingMessage): boolean =>
  !request.complete &&
  (request.headers["transfer-encoding"] !== undefined || Number(request.headers["content-length"] ?? "0") > 0)

/** Node's HTTP server with `options`, closing connections answered before their body arrived with a lingering close. */
export const lingeringServer = (options: ServerOptions, limits: LingerLimits = defaultLingerLimits): Server => {
  const draining = new Set<Socket>()
  let stopping = false

  /** Half-closes `socket` after what was written and keeps it reading for `maxMillis` at most; answers how to close it sooner. */
  const drain = (socket: Socket): () => void => {
    socket.end()
    draining.add(socket)
    const close = () => socket.destroy()
    const timer = setTimeout(close, limits.maxMillis)
    socket.once("close", () => {
      clearTimeout(timer)
      draining.delete(socket)
    })
    return close
  }

  /** In place of Node's close after the last answer: drain the body, close at its end or the limits. */
  const linger = (socket: Socket, request: IncomingMessage) => {
    if (stopping || request.complete) return Socket.prototype.destroySoon.call(socket)
    request.once("end", drain(socket))
  }

  /** A response that, sent while its request's body is still coming, closes its connection with a lingering close. */
  class AnswerBeforeBody<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
    override writeHead(...args: Array<unknown>): this {
      const request = this.req
      const socket = this.socket
      if (!this.headersSent && socket !== null && bodyStillComing(request)) {
        this.setHeader("connection", "close")
        // Read from here on (Node would drop the rest unread), counted against the cap.
        let read = 0
        request.on("data", (chunk: Buffer) => {
          read += chunk.length
          if (read > limits.maxBytes) socket.destroy()
        })
        // Node calls it once the last answer is written.
        socket.destroySoon = () => linger(socket, request)
      }
      return super.writeHead(...(args as Parameters<ServerResponse["writeHead"]>))
    }
  }

  class LingeringServer extends Server {
    /** Stops listening, as Node's does, and closes the draining connections at once. */
    override close(callback?: (error?: Error) => void): this {
      stopping = true
      for (const socket of draining) socket.destroy()
      return super.close(callback)
    }
  }

  const server = new LingeringServer({ ...options, ServerResponse: AnswerBeforeBody })
  /** For each connection whose request the parser refused: how many bytes it had read then. */
  const refused = new WeakMap<Socket, number>()
  // Node's own handling, but a refused request's connection drains instead of closing at once.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    const since = refused.get(socket)
    if (since !== undefined) {
      // The parser reports its error again on each piece it drops; a timeout or a broken socket ends the drain.
      if (!isParseError(error) || socket.bytesRead - since > limits.maxBytes) socket.destroy()
      return
    }
    // Never into a response already under way (Node's rule; the response in flight is its `_httpMessage`).
    const inFlight = (socket as Socket & { readonly _httpMessage?: ServerResponse | null })._httpMessage
    const answer = socket.writable && inFlight?.headersSent !== true
    if (answer) socket.write(refusal(error.code))
    if (!answer || stopping || !isParseError(error)) return void socket.destroy(error)
    refused.set(socket, socket.bytesRead)
    drain(socket)
  })
  return server
}
