/**
 * The coordinator's HTTP server: `ForemanApi` implemented over the
 * `Coordinator` and the `WorkerRegistry`, bearer-token authorization, a guard
 * on request bodies, OpenAPI with a docs page, and two ways to run it — served
 * by Node on a host and port, or as a web handler that another server mounts.
 *
 * Tokens come from `FOREMAN_API_TOKEN` (operators) and `FOREMAN_WORKER_TOKEN`
 * (workers). Without either, every caller is trusted as both, and `serve`
 * listens on loopback only.
 */
import {
  HttpApiBuilder,
  HttpApiError,
  HttpApiScalar,
  HttpIncomingMessage,
  HttpServer,
  HttpServerRequest,
  HttpServerRespondable,
  HttpServerResponse
} from "@effect/platform"
import { HttpApi, HttpServerError } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Coordinator, type CoordinatorEvents, type Domain, Errors, WorkerRegistry } from "@foreman/core"
import {
  Cause,
  Config,
  Context,
  Deferred,
  ConfigError,
  Data,
  Effect,
  Either,
  Layer,
  Option,
  Redacted,
  Schema,
  Stream
} from "effect"
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { createServer } from "node:http"
import * as Dashboard from "./Dashboard.js"
import * as EventLog from "./EventLog.js"
import {
  Authorization,
  type Caller,
  CurrentCaller,
  Forbidden,
  ForemanApi,
  idempotencyKeyHeader,
  PayloadTooLarge,
  type PollBody,
  pollRequest,
  researchFilter,
  Unauthorized,
  Unavailable,
  type WorkerCredential,
  workerProtocolVersion,
  workerSecretHeader
} from "@foreman/api/Api"

/** What the API needs of the engine. */
export type EngineServices = Coordinator.Coordinator | WorkerRegistry.WorkerRegistry | CoordinatorEvents.CoordinatorEvents

// --- authorization ------------------------------------------------------------

/** A worker token bound to the worker ids a pattern matches (`gpu-*`: a trailing `*` matches any rest). */
export interface BoundToken {
  readonly pattern: string
  readonly token: Redacted.Redacted
}

/** The bearer tokens the server accepts; none configured means an open server. */
export interface Tokens {
  readonly operator: Option.Option<Redacted.Redacted>
  readonly worker: Option.Option<Redacted.Redacted>
  /** `FOREMAN_WORKER_TOKENS`: tokens that speak only for the worker ids they are bound to. */
  readonly bound: ReadonlyArray<BoundToken>
}

/** Whether a binding's pattern matches a worker id. */
export const matches = (pattern: string, workerId: string): boolean =>
  pattern.endsWith("*") ? workerId.startsWith(pattern.slice(0, -1)) : workerId === pattern

const boundPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\*?$|^\*$/

/** `FOREMAN_WORKER_TOKENS`: `pattern=token` pairs separated by commas. */
const boundTokens: Config.Config<ReadonlyArray<BoundToken>> = Config.string("FOREMAN_WORKER_TOKENS").pipe(
  Config.withDefault(""),
  Config.mapOrFail((text) => {
    const bound: Array<BoundToken> = []
    for (const pair of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
      const eq = pair.indexOf("=")
      const pattern = pair.slice(0, Math.max(0, eq)).trim()
      const value = pair.slice(eq + 1).trim()
      if (eq < 1 || value === "" || !boundPattern.test(pattern)) {
        return Either.left(ConfigError.InvalidData(
          ["FOREMAN_WORKER_TOKENS"],
          `FOREMAN_WORKER_TOKENS must be worker-id=token pairs separated by commas (an id may end in * to match ` +
            `a prefix), e.g. "gpu-box-*=s3cret-a,backtest-1=s3cret-b"; "${pattern === "" ? pair.slice(0, 20) : pattern}" is not`
        ))
      }
      bound.push({ pattern, token: Redacted.make(value) })
    }
    return Either.right(bound)
  })
)

/** A token variable; set but empty (common in .env and compose files) counts as not set. */
const token = (name: string): Config.Config<Option.Option<Redacted.Redacted>> =>
  Config.option(Config.redacted(name)).pipe(Config.map(Option.filter((value) => Redacted.value(value) !== "")))

/** `FOREMAN_API_TOKEN` (operators), `FOREMAN_WORKER_TOKEN` (workers) and `FOREMAN_WORKER_TOKENS` (bound), all optional. */
export const tokensConfig: Config.Config<Tokens> = Config.all({
  operator: token("FOREMAN_API_TOKEN"),
  worker: token("FOREMAN_WORKER_TOKEN"),
  bound: boundTokens
})

const isOpen = (tokens: Tokens): boolean =>
  Option.isNone(tokens.operator) && Option.isNone(tokens.worker) && tokens.bound.length === 0

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest()

/** Equal digests, compared in constant time (hashing first makes the lengths equal). */
const sameToken = (given: Buffer, expected: Option.Option<Buffer>): boolean =>
  Option.isSome(expected) && timingSafeEqual(given, expected.value)

const everyone: Caller = { operator: true, worker: true, speaksFor: () => true }

/** The digest of the token that makes an operator: the operator token, or the worker token when it is the only one. */
const operatorDigest = (tokens: Tokens): Option.Option<Buffer> =>
  Option.map(Option.orElse(tokens.operator, () => tokens.worker), (t) => digest(Redacted.value(t)))

/**
 * Whether an `Authorization` header makes its sender an operator, as the API
 * judges it (for routes beside the API, such as `/metrics`); with no tokens,
 * everyone is.
 */
export const isOperator = (tokens: Tokens, authorization: string | undefined): boolean => {
  if (isOpen(tokens)) return true
  const presented = /^bearer /i.test(authorization ?? "") ? authorization!.slice("bearer ".length).trim() : ""
  return sameToken(digest(presented), operatorDigest(tokens))
}

/**
 * Turns the bearer token into a `Caller`. The operator token makes an operator,
 * the worker token a worker; when only one token is configured it serves both
 * roles. Without tokens every caller is both.
 */
export const layerAuthorization: Layer.Layer<Authorization, ConfigError.ConfigError> = Layer.effect(
  Authorization,
  Effect.gen(function*() {
    const tokens = yield* tokensConfig
    if (isOpen(tokens)) {
      yield* Effect.logWarning(
        "FOREMAN_API_TOKEN and FOREMAN_WORKER_TOKEN are not set: every caller is trusted as operator and worker"
      )
      return Authorization.of({ bearer: () => Effect.succeed(everyone) })
    }
    const operator = operatorDigest(tokens)
    const worker = Option.map(Option.orElse(tokens.worker, () => tokens.operator), (t) => digest(Redacted.value(t)))
    const bound = tokens.bound.map((b) => ({ pattern: b.pattern, digest: digest(Redacted.value(b.token)) }))
    /** The shared token speaks for the ids no binding claims. */
    const unbound = (workerId: string) => !bound.some((b) => matches(b.pattern, workerId))
    return Authorization.of({
      bearer: (bearer) =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const header = request.headers["authorization"]
          if (header === undefined || header.trim() === "") {
            return yield* new Unauthorized({ message: "Missing bearer token: send `Authorization: Bearer <token>`" })
          }
          if (!/^bearer /i.test(header)) {
            return yield* new Unauthorized({ message: "Unsupported authorization: send `Authorization: Bearer <token>`" })
          }
          const given = digest(Redacted.value(bearer))
          const patterns = bound.filter((b) => timingSafeEqual(given, b.digest)).map((b) => b.pattern)
          const shared = sameToken(given, worker)
          const caller: Caller = {
            operator: sameToken(given, operator),
            worker: shared || patterns.length > 0,
            speaksFor: (id) => (shared && unbound(id)) || patterns.some((pattern) => matches(pattern, id))
          }
          if (!caller.operator && !caller.worker) return yield* new Unauthorized({ message: "Invalid bearer token" })
          return caller
        })
    })
  })
)

const requireOperator = Effect.flatMap(CurrentCaller, (caller) =>
  caller.operator ? Effect.void : Effect.fail(
    new Forbidden({ message: "This endpoint is for operators: use the operator token (FOREMAN_API_TOKEN)" })
  ))

const requireWorker = Effect.flatMap(CurrentCaller, (caller) =>
  caller.worker ? Effect.void : Effect.fail(
    new Forbidden({ message: "This endpoint is for workers: use the worker token (FOREMAN_WORKER_TOKEN)" })
  ))

/** A worker token that may speak for `workerId` (a bound token speaks only for its ids). */
const speakingFor = (workerId: string) =>
  Effect.flatMap(CurrentCaller, (caller) =>
    !caller.worker ? requireWorker : caller.speaksFor(workerId) ? Effect.void : Effect.fail(
      new Forbidden({ message: `This worker token may not speak for worker ${workerId}: see FOREMAN_WORKER_TOKENS` })
    ))

const requireAnyone = Effect.flatMap(CurrentCaller, (caller) =>
  caller.operator || caller.worker ? Effect.void : Effect.fail(
    new Forbidden({ message: "This endpoint needs the operator or the worker token" })
  ))

// --- handlers -------------------------------------------------------------------

/** The trigger with the `Idempotency-Key` header as its request id; 400 when it is invalid or the body's differs. */
const withIdempotencyKey = (payload: Coordinator.TriggerRequest) =>
  Effect.gen(function*() {
    const header = (yield* HttpServerRequest.HttpServerRequest).headers[idempotencyKeyHeader]
    if (header === undefined) return payload
    const requestId = yield* Schema.decodeUnknown(Coordinator.RequestId)(header).pipe(
      Effect.mapError((error) =>
        new Errors.InvalidInput({ reason: `Idempotency-Key header: ${Errors.describeParseError(error)}` })
      )
    )
    if (payload.requestId !== undefined && payload.requestId !== requestId) {
      return yield* new Errors.InvalidInput({ reason: "the Idempotency-Key header and requestId differ" })
    }
    return { ...payload, requestId }
  })

const AgentLive = HttpApiBuilder.group(ForemanApi, "agent", (handlers) =>
  Effect.gen(function*() {
    const coordinator = yield* Coordinator.Coordinator
    const log = yield* EventLog.EventLog
    const cancel = ({ path }: { readonly path: { readonly id: Domain.ResearchId } }) =>
      Effect.zipRight(requireOperator, coordinator.cancel(path.id))
    return handlers
      .handle("trigger", ({ payload }) =>
        requireOperator.pipe(
          Effect.zipRight(withIdempotencyKey(payload)),
          Effect.flatMap(coordinator.trigger),
          Effect.map((research) => ({ researchId: research.id, status: research.status })),
          Effect.catchAllDefect((defect) =>
            Effect.zipRight(
              Effect.logError("trigger failed unexpectedly", Cause.die(defect)),
              Effect.fail(
                new Unavailable({
                  message: "The trigger failed unexpectedly: send it again (with the same Idempotency-Key it is safe)"
                })
              )
            )
          )
        ))
      .handle("status", () => Effect.zipRight(requireOperator, coordinator.status()))
      .handle("budget", () =>
        requireOperator.pipe(
          Effect.zipRight(coordinator.status()),
          Effect.map((status) => status.budget)
        ))
      .handle("budgetToday", () => Effect.zipRight(requireOperator, coordinator.budgetToday()))
      .handle("workers", () => Effect.zipRight(requireOperator, coordinator.workerActivity()))
      .handle("list", ({ urlParams: q }) => {
        const filter = researchFilter(q)
        return requireOperator.pipe(
          Effect.zipRight(Effect.all([
            coordinator.list({ ...filter, limit: q.limit, offset: q.offset }),
            coordinator.totals(filter)
          ], { concurrency: 2 })),
          Effect.map(([researches, totals]) => ({
            researches,
            limit: q.limit,
            offset: q.offset,
            total: totals.count,
            costUsd: totals.costUsd
          }))
        )
      })
      .handle("show", ({ path }) => Effect.zipRight(requireOperator, coordinator.show(path.id)))
      .handle("cancel", cancel)
      .handle("cancelAlias", cancel)
      .handleRaw("events", ({ headers }) =>
        Effect.as(
          requireOperator,
          HttpServerResponse.stream(Stream.encodeText(log.stream(headers["last-event-id"])), {
            contentType: "text/event-stream",
            headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
          })
        ))
      .handle("strategies", () => Effect.zipRight(requireOperator, coordinator.strategies()))
      .handle("strategy", ({ path }) => Effect.zipRight(requireOperator, coordinator.strategy(path.name)))
  }))

/** The digest a worker's secret is kept and compared as. */
const secretDigest = (secret: string): string => createHash("sha256").update(secret, "utf8").digest("hex")

/**
 * Completes when the server begins to stop: a waiting poll answers at once
 * (no job) instead of holding the server open until its wait ends. Provided by
 * `serve`; an API mounted elsewhere polls until its wait ends.
 */
export class Stopping extends Context.Tag("@foreman/server/ApiServer/Stopping")<Stopping, Deferred.Deferred<void>>() {}

const noWork: WorkerRegistry.PollAnswer = { jobs: [], stop: [] }

const WorkersLive = HttpApiBuilder.group(ForemanApi, "workers", (handlers) =>
  Effect.gen(function*() {
    const registry = yield* WorkerRegistry.WorkerRegistry
    const stopping = yield* Effect.serviceOption(Stopping)
    /** A poll that ends, with no job, when the server begins to stop. */
    const poll = (workerId: Domain.WorkerId, body: typeof PollBody.Type) =>
      Option.match(stopping, {
        onNone: () => registry.poll(workerId, pollRequest(body)),
        onSome: (stopped) =>
          Effect.raceFirst(registry.poll(workerId, pollRequest(body)), Effect.as(Deferred.await(stopped), noWork))
      })
    /** A worker speaking about itself: a worker token that may speak for it, and its registration's credential. */
    const asWorker = (workerId: Domain.WorkerId, headers: typeof WorkerCredential.Type) =>
      Effect.zipRight(
        speakingFor(workerId),
        registry.authenticate(workerId, Option.getOrNull(Option.map(Option.fromNullable(headers[workerSecretHeader]), secretDigest)))
      )
    return handlers
      .handle("register", ({ payload }) =>
        Effect.gen(function*() {
          yield* speakingFor(payload.id)
          const secret = randomBytes(32).toString("base64url")
          const answer = yield* registry.register(payload, secretDigest(secret))
          return { ...answer, secret, protocolVersion: workerProtocolVersion }
        }))
      .handle("heartbeat", ({ headers, path, payload }) =>
        Effect.gen(function*() {
          yield* asWorker(path.workerId, headers)
          const worker = yield* registry.heartbeat(path.workerId, payload.healthy)
          return { ...worker, stop: yield* registry.toStop(path.workerId, payload.running ?? []) }
        }))
      .handle("poll", ({ headers, path, payload }) =>
        Effect.zipRight(asWorker(path.workerId, headers), poll(path.workerId, payload)))
      .handle("deregister", ({ headers, path }) =>
        Effect.zipRight(asWorker(path.workerId, headers), registry.deregister(path.workerId)))
      .handle("list", ({ urlParams }) =>
        Effect.zipRight(requireAnyone, registry.list({ type: urlParams.type, status: urlParams.status })))
      .handle("get", ({ path }) => Effect.zipRight(requireAnyone, registry.get(path.workerId)))
      .handle("report", ({ headers, path, payload }) =>
        Effect.gen(function*() {
          yield* asWorker(path.workerId, headers)
          const { next, ...report } = "next" in payload ? payload : { ...payload, next: undefined }
          const job = yield* registry.report({ ...report, jobId: path.jobId, workerId: path.workerId })
          if (next === undefined) return job
          return { ...job, next: yield* poll(path.workerId, next) }
        }))
  }))

const HealthLive = HttpApiBuilder.group(ForemanApi, "health", (handlers) =>
  Effect.gen(function*() {
    const coordinator = yield* Coordinator.Coordinator
    return handlers.handle("health", () =>
      Effect.map(coordinator.leading, (leading) => ({ status: "ok" as const, leading })))
  }))

// --- the request guard ----------------------------------------------------------

/** The default request body limit: 1 MiB. */
export const defaultMaxBodyBytes = 1024 * 1024

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
  // An optional field's "Expected undefined" says nothing the field's own problem does not.
  const said = error.issues.filter((issue, _, all) =>
    !(issue.message.startsWith("Expected undefined") && all.some((other) => other !== issue && other.path.join(".") === issue.path.join(".")))
  )
  const lines = [...new Set(said.map((issue) => `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`))]
  return new HttpApiError.HttpApiDecodeError({ issues: error.issues, message: `Invalid request: ${lines.join("; ")}` })
}

const guard = (maxBodyBytes: number): HttpApiBuilder.MiddlewareFn<HttpApiError.HttpApiDecodeError | PayloadTooLarge> => {
  const tooLarge = new PayloadTooLarge({ message: `Request body is larger than ${maxBodyBytes} bytes` })
  return (app) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
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
      const body = yield* request.text.pipe(
        Effect.mapError((error) => String(error.cause).includes("maxBytes") ? tooLarge : badRequest("Unreadable request body"))
      )
      // Web requests are read whole; Node requests stop at the limit while reading.
      if (Buffer.byteLength(body, "utf8") > maxBodyBytes) return yield* tooLarge
      if (hasPayload(request.method)) {
        if (body.trim() === "") return yield* badRequest("Missing JSON request body")
        if (nestsDeeper(body, maxNestingDepth)) {
          return yield* badRequest(`Request body nests deeper than ${maxNestingDepth} levels`)
        }
        if (!isParsable(body)) return yield* badRequest("Request body is not valid JSON")
      }
      return yield* app
    }).pipe(
      Effect.catchAll((error) => {
        // The router's RouteNotFound passes through here too, though the middleware's type does not say so.
        const failure: unknown = error
        if (HttpServerError.isServerError(failure) && failure._tag === "RouteNotFound") {
          return Effect.succeed(notFound(failure.request.method, new URL(failure.request.url, "http://localhost").pathname))
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

// --- layers ---------------------------------------------------------------------

export interface ApiOptions {
  /** Larger request bodies get 413; 1 MiB by default. */
  readonly maxBodyBytes?: number | undefined
}

/** `ForemanApi` with every group, the authorization middleware and the body guard. */
export const layerWith = (
  options: ApiOptions = {}
): Layer.Layer<HttpApi.Api, ConfigError.ConfigError, EngineServices> =>
  Layer.merge(
    HttpApiBuilder.api(ForemanApi).pipe(
      Layer.provide([AgentLive, WorkersLive, HealthLive]),
      Layer.provide([layerAuthorization, EventLog.layer()])
    ),
    HttpApiBuilder.middleware(ForemanApi, guard(options.maxBodyBytes ?? defaultMaxBodyBytes))
  )

/** `ForemanApi` with the default body limit; needs the coordinator and the registry. */
export const layer: Layer.Layer<
  HttpApi.Api,
  ConfigError.ConfigError,
  EngineServices
> = layerWith()

/** OpenAPI at `/openapi.json` and a readable docs page at `/docs`. */
export const docs: Layer.Layer<never, never, HttpApi.Api> = Layer.mergeAll(
  HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" }),
  HttpApiScalar.layer({ path: "/docs" }),
  Dashboard.layer
)

// --- running it -----------------------------------------------------------------

export interface WebHandlerOptions extends ApiOptions {
  /** Where the host mounts the API, e.g. `/foreman`; requests outside it get 404. */
  readonly prefix?: `/${string}` | undefined
  /** Share layers (the engine) with the host's own runtime. */
  readonly memoMap?: Layer.MemoMap | undefined
}

/**
 * The API (with its docs) as a web handler, `Request → Response`, for another
 * server to mount. `engine` provides the coordinator and the registry; call
 * `dispose` when the host shuts down.
 */
export const webHandler = <E>(
  engine: Layer.Layer<EngineServices, E>,
  options: WebHandlerOptions = {}
): {
  readonly handler: (request: Request) => Promise<Response>
  readonly dispose: () => Promise<void>
} => {
  const { dispose, handler } = HttpApiBuilder.toWebHandler(
    Layer.mergeAll(docs, HttpServer.layerContext).pipe(
      Layer.provideMerge(layerWith(options)),
      Layer.provide(engine)
    ),
    options.memoMap === undefined ? undefined : { memoMap: options.memoMap }
  )
  const prefix = options.prefix
  if (prefix === undefined) return { handler: (request) => handler(request), dispose }
  return {
    handler: (request) => {
      const url = new URL(request.url)
      if (!url.pathname.startsWith(`${prefix}/`)) return Promise.resolve(new Response(null, { status: 404 }))
      url.pathname = url.pathname.slice(prefix.length)
      return handler(new Request(url, request))
    },
    dispose
  }
}

/** `serve` was asked to listen beyond loopback while any caller would be trusted. */
export class InsecureBind extends Data.TaggedError("InsecureBind")<{ readonly host: string }> {
  override get message(): string {
    return `Refusing to listen on ${this.host} without tokens: set FOREMAN_API_TOKEN and FOREMAN_WORKER_TOKEN, ` +
      `or listen on 127.0.0.1`
  }
}

const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(host)

export interface ServeOptions extends ApiOptions {
  /**
   * The interface to listen on: all of them (`0.0.0.0`) by default when tokens
   * are configured, else `127.0.0.1`; a non-loopback host without tokens is refused.
   */
  readonly host?: string | undefined
  /** 0 lets the system choose. */
  readonly port: number
}

/**
 * Serves the API and its docs with Node's HTTP server; provides the
 * `HttpServer` (its address) and needs the coordinator and the registry.
 */
export const serve = (
  options: ServeOptions
): Layer.Layer<
  HttpServer.HttpServer,
  HttpServerError.ServeError | InsecureBind | ConfigError.ConfigError,
  EngineServices
> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const tokens = yield* tokensConfig
    const open = isOpen(tokens)
    const host = options.host ?? (open ? "127.0.0.1" : "0.0.0.0")
    if (open && !isLoopback(host)) return yield* new InsecureBind({ host })
    if (open) yield* Effect.logWarning(`no API tokens configured: listening on ${host} only`)
    const stopping = yield* Deferred.make<void>()
    // Torn down before the HTTP server (it depends on it), whose close waits for open requests.
    const stopPolls = Layer.scopedDiscard(Effect.addFinalizer(() => Deferred.succeed(stopping, undefined)))
    return Layer.merge(HttpApiBuilder.serve(), stopPolls).pipe(
      Layer.provide(docs),
      Layer.provide(layerWith(options).pipe(Layer.provide(Layer.succeed(Stopping, stopping)))),
      HttpServer.withLogAddress,
      Layer.provideMerge(NodeHttpServer.layer(createServer, { host, port: options.port }))
    )
  }))

