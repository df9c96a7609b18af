/**
 * The guard on requests: open requests per credential, body size, JSON only,
 * nesting depth, and readable 404/405/400 answers, before the API's decoders
 * see anything.
 */
import {
  HttpApi,
  HttpApiBuilder,
  HttpApiError,
  HttpIncomingMessage,
  HttpServerError,
  HttpServerRequest,
  HttpServerRespondable,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Cause, Effect, Option, Predicate } from "effect"
import { createHash } from "node:crypto"
import { IncomingMessage } from "node:http"
import { ForemanApi, PayloadTooLarge, TooManyConnections } from "@foreman/api/Api"

// --- the request guard ----------------------------------------------------------

/** The default request body limit: 1 MiB. */
export const defaultMaxBodyBytes = 1024 * 1024

/**
 * The default number of requests one credential may have open at once: a
 * fleet sharing the worker token holds about one long-poll per worker.
 */
export const defaultMaxConnectionsPerCredential = 256

/**
 * Who a request speaks as, for counting its open requests: its bearer token,
 * as a digest (no token is kept). Not a worker's secret, which the guard
 * cannot check (a made-up one would be a fresh count each time). None for a
 * request without a token: a server with tokens refuses it at once.
 */
const credentialOf = (request: HttpServerRequest.HttpServerRequest): string | undefined => {
  const authorization = request.headers["authorization"]
  return authorization === undefined || authorization === ""
    ? undefined
    : createHash("sha256").update(authorization).digest("base64")
}

/**
 * Counts the requests each credential has open on a Node server (one per
 * connection at a time: HTTP/1.1 carries one request at a time), from the
 * guard to the response's close, which is when its connection is done with
 * it: a long-poll's answer, an event stream's end, or a dropped connection.
 * Credentials, not addresses: workers behind one NAT share an address.
 */
const openRequests = (limit: number) => {
  const open = new Map<string, number>()
  const release = (credential: string) => {
    const n = (open.get(credential) ?? 1) - 1
    if (n <= 0) open.delete(credential)
    else open.set(credential, n)
  }
  /** Takes a slot for the request, or says none is left. */
  return (request: HttpServerRequest.HttpServerRequest): boolean => {
    const credential = credentialOf(request)
    if (credential === undefined || !(request.source instanceof IncomingMessage)) return true
    const n = open.get(credential) ?? 0
    if (n >= limit) return false
    open.set(credential, n + 1)
    NodeHttpServerRequest.toServerResponse(request).once("close", () => release(credential))
    return true
  }
}

/**
 * How deep a request body may nest arrays and objects. Real payloads nest a
 * few levels (a result inside a report, held results inside a registration);
 * thousands of levels fit well under the size limit and overflow the stack of
 * the recursive decoders and error formatters, so deeper bodies get 400
 * before any of them runs.
 */
export const maxNestingDepth = 64

const badRequest = (message: string) => new HttpApiError.HttpApiDecodeError({ issues: [], message })

const hasPayload = (method: string): boolean => method === "POST" || method === "PUT" || method === "PATCH"

const isJson = (contentType: string): boolean => {
  const type = contentType.split(";")[0]!.trim().toLowerCase()
  // Only plain JSON: the platform's decoder waits forever on other `+json` types.
  return type === "application/json"
}

/**
 * Checks request bodies before the API decodes them: over `maxBodyBytes` is
 * 413, anything but JSON (or unreadable, or malformed, or nested deeper than
 * `maxNestingDepth`) is 400, so a bad body never reaches the platform's
 * decoders, which would turn it into a defect.
 * A defect that still happens is logged and answered 500 without details.
 */
/** Every API route: its method and its path as a pattern (a parameter matches one segment). */
const apiRoutes: ReadonlyArray<{ readonly method: string; readonly path: RegExp }> = (() => {
  const routes: Array<{ readonly method: string; readonly path: RegExp }> = []
  HttpApi.reflect(ForemanApi, {
    onGroup: () => {},
    onEndpoint: ({ endpoint }) =>
      routes.push({ method: endpoint.method, path: new RegExp(`^${endpoint.path.replace(/:[^/]+/g, "[^/]+")}/?$`) })
  })
  return routes
})()

/** The methods the API answers on `path`; empty when no API route has that path. */
const methodsOn = (path: string): ReadonlyArray<string> => [
  ...new Set(apiRoutes.filter((route) => route.path.test(path)).map((route) => route.method))
]

/** 405 with the methods the path takes, in JSON like every other error. */
const methodNotAllowed = (method: string, path: string, allowed: ReadonlyArray<string>) =>
  HttpServerResponse.unsafeJson(
    { _tag: "MethodNotAllowed", message: `${method} is not allowed on ${path}: use ${allowed.join(" or ")}` },
    { status: 405, headers: { allow: allowed.join(", ") } }
  )

/** 404 for a path nothing serves, in JSON. */
const notFound = (method: string, path: string) =>
  HttpServerResponse.unsafeJson(
    {
      _tag: "NotFound",
      message: `Nothing answers ${method} ${path}: the API is under /api/v1 (its reference is at /docs)`
    },
    { status: 404 }
  )

/**
 * A request that does not fit its schema, said in words: each problem with
 * where it is (`brief: Expected string, actual 5`), without the schema's own
 * text; the issues stay in `issues`.
 */
const inWords = (error: HttpApiError.HttpApiDecodeError): HttpApiError.HttpApiDecodeError => {
  if (error.issues.length === 0) return error
  // An optional field's "Expected undefined" says nothing the problem inside the field does not.
  const within = (inner: ReadonlyArray<PropertyKey>, outer: ReadonlyArray<PropertyKey>) =>
    inner.length >= outer.length && outer.every((key, i) => key === inner[i])
  const said = error.issues.filter((issue, _, all) =>
    !(issue.message.startsWith("Expected undefined") && all.some((other) => other !== issue && within(other.path, issue.path)))
  )
  const where = (issue: typeof HttpApiError.Issue.Type) => issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""
  // Some messages name their field already (`result: text must be …`).
  const lines = [
    ...new Set(said.map((issue) => issue.message.startsWith(where(issue)) ? issue.message : where(issue) + issue.message))
  ]
  return new HttpApiError.HttpApiDecodeError({ issues: error.issues, message: `Invalid request: ${lines.join("; ")}` })
}

/**
 * Whether reading a body failed because it passed the size limit. The Node
 * platform fails that read with a bare `new Error("maxBytes exceeded")` (no
 * tag, no code), so the whole message is all that tells it apart; a dropped
 * connection fails with a Node error that carries a `code`.
 */
const stoppedAtLimit = (error: HttpServerError.RequestError): boolean =>
  error.cause instanceof Error && !("code" in error.cause) && error.cause.message === "maxBytes exceeded"

export const guard = (
  maxBodyBytes: number,
  maxConnectionsPerCredential: number
): HttpApiBuilder.MiddlewareFn<HttpApiError.HttpApiDecodeError | PayloadTooLarge | TooManyConnections> => {
  const tooLarge = new PayloadTooLarge({ message: `Request body is larger than ${maxBodyBytes} bytes` })
  const tooMany = new TooManyConnections({
    message: `This credential already has ${maxConnectionsPerCredential} requests open: finish some, then send again`
  })
  const admit = openRequests(maxConnectionsPerCredential)
  return (app) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      if (!admit(request)) return yield* tooMany
      const path = new URL(request.url, "http://localhost").pathname
      const allowed = methodsOn(path)
      const method = request.method === "HEAD" ? "GET" : request.method
      if (allowed.length > 0 && !allowed.includes(method) && method !== "OPTIONS") {
        return methodNotAllowed(request.method, path, allowed)
      }
      if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS") return yield* app
      const declared = Number(request.headers["content-length"] ?? "0")
      if (!(declared <= maxBodyBytes)) return yield* tooLarge
      const contentType = request.headers["content-type"]
      if (hasPayload(request.method) && contentType !== undefined && !isJson(contentType)) {
        return yield* badRequest(`Unsupported content type ${contentType}: send JSON (application/json)`)
      }
      const node = request.source instanceof IncomingMessage ? request.source : undefined
      const body = node === undefined
        ? yield* request.text.pipe(
          Effect.mapError((error) => stoppedAtLimit(error) ? tooLarge : badRequest("Unreadable request body"))
        )
        : yield* readNode(node, maxBodyBytes, tooLarge)
      // Web requests are read whole; Node requests stop at the limit while reading.
      if (Buffer.byteLength(body, "utf8") > maxBodyBytes) return yield* tooLarge
      if (hasPayload(request.method)) {
        if (body.trim() === "") return yield* badRequest("Missing JSON request body")
        if (nestsDeeper(body, maxNestingDepth)) {
          return yield* badRequest(`Request body nests deeper than ${maxNestingDepth} levels`)
        }
        if (!isParsable(body)) return yield* badRequest("Request body is not valid JSON")
      }
      return yield* node === undefined
        ? app
        : Effect.provideService(app, HttpServerRequest.HttpServerRequest, withBody(request, body))
    }).pipe(
      Effect.catchAll((error) => {
        // The router's RouteNotFound passes through here too, though the middleware's type does not say so.
        const failure: unknown = error
        if (HttpServerError.isServerError(failure) && failure._tag === "RouteNotFound") {
          return Effect.succeed(notFound(failure.request.method, new URL(failure.request.url, "http://localhost").pathname))
        }
        if (Predicate.isTagged(failure, "StorageError")) {
          // Answered 503 with its reason; the log keeps what failed underneath (its cause).
          return Effect.zipRight(Effect.logError("storage failed; answered 503", Cause.fail(failure)), Effect.fail(error))
        }
        return Effect.fail(error instanceof HttpApiError.HttpApiDecodeError ? inWords(error) : error)
      }),
      HttpIncomingMessage.withMaxBodySize(Option.some(maxBodyBytes)),
      Effect.catchAllCause((cause) => {
        const defect = Cause.dieOption(cause)
        if (Option.isNone(defect) || HttpServerRespondable.isRespondable(defect.value)) return Effect.failCause(cause)
        return Effect.as(Effect.logError("request failed unexpectedly", cause), HttpServerResponse.empty({ status: 500 }))
      })
    )
}

/**
 * Reads a Node request's body, up to `maxBytes`. The platform's own reader
 * destroys the request when it passes its limit, which resets the connection
 * before any answer (a chunked body declares no length to refuse it by): past
 * the limit this one stops keeping the bytes and lets the rest flow by, so the
 * 413 is sent; the server's lingering close (`lingeringClose.ts`) then drains
 * the rest, bounded, so that no reset discards the answer.
 */
const readNode = <E>(incoming: IncomingMessage, maxBytes: number, tooLarge: E) =>
  Effect.async<string, E | HttpApiError.HttpApiDecodeError>((resume) => {
    const chunks: Array<Buffer> = []
    let bytes = 0
    const stop = () => {
      incoming.off("data", onData)
      incoming.off("end", onEnd)
      incoming.off("error", onError)
      incoming.off("aborted", onError)
    }
    const onData = (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes <= maxBytes) {
        chunks.push(chunk)
        return
      }
      stop()
      // Flowing with no listener: the rest of the body is read and dropped.
      incoming.resume()
      resume(Effect.fail(tooLarge))
    }
    const onEnd = () => {
      stop()
      resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
    }
    const onError = () => {
      stop()
      resume(Effect.fail(badRequest("Unreadable request body")))
    }
    incoming.on("data", onData)
    incoming.once("end", onEnd)
    incoming.once("error", onError)
    incoming.once("aborted", onError)
    return Effect.sync(stop)
  })

/**
 * `request` with its body already read as `body`: the API's decoders read it
 * from here (a Node request's stream can be read once), through `modify` too.
 */
const withBody = (
  request: HttpServerRequest.HttpServerRequest,
  body: string
): HttpServerRequest.HttpServerRequest =>
  Object.create(request, {
    text: { value: Effect.succeed(body) },
    arrayBuffer: { value: Effect.sync(() => new TextEncoder().encode(body).buffer) },
    modify: { value: (options: Parameters<typeof request.modify>[0]) => withBody(request.modify(options), body) }
  }) as HttpServerRequest.HttpServerRequest

const isParsable = (text: string): boolean => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

const quote = 0x22
const backslash = 0x5c
const opening = new Set([0x5b, 0x7b]) // [ {
const closing = new Set([0x5d, 0x7d]) // ] }

/** Whether JSON text opens more than `limit` arrays and objects at once (brackets in strings do not count); one pass. */
const nestsDeeper = (text: string, limit: number): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (inString) {
      if (code === backslash) i++
      else if (code === quote) inString = false
    } else if (code === quote) {
      inString = true
    } else if (opening.has(code)) {
      if (++depth > limit) return true
    } else if (closing.has(code)) {
      depth--
    }
  }
  return false
}

