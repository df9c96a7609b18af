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
import { HttpApiBuilder, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { HttpApi, HttpServerError } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import {
  Coordinator,
  type CoordinatorEvents,
  type Domain,
  Errors,
  History,
  StrategyCatalogue,
  WorkerRegistry
} from "@foreman/core"
import {
  Cause,
  Clock,
  Either,
  Deferred,
  ConfigError,
  Data,
  Effect,
  Layer,
  Schema,
  Stream
} from "effect"
import * as Dashboard from "./Dashboard.js"
import * as DocsPage from "./internal/docsPage.js"
import * as EventLog from "./EventLog.js"
import * as Planning from "./internal/planning.js"
import { isOpen, layerAuthorization, requireOperator, tokensConfig } from "./internal/authorization.js"
import { lingeringServer } from "./internal/lingeringClose.js"
import { Stopping, WorkersLive } from "./internal/workersHandlers.js"
import { defaultMaxBodyBytes, defaultMaxConnectionsPerCredential, guard } from "./internal/requestGuard.js"
import {
  ForemanApi,
  idempotencyKeyHeader,
  researchFilter,
  Status,
  Unavailable,
} from "@foreman/api/Api"

/** What the API needs of the engine. */
export type EngineServices = Coordinator.Coordinator | WorkerRegistry.WorkerRegistry | CoordinatorEvents.CoordinatorEvents

export {
  type BoundToken,
  isOperator,
  layerAuthorization,
  matches,
  type Tokens,
  tokensConfig
} from "./internal/authorization.js"
export { defaultMaxBodyBytes, defaultMaxConnectionsPerCredential, maxNestingDepth } from "./internal/requestGuard.js"
export { Stopping } from "./internal/workersHandlers.js"

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

/**
 * The status view's JSON, written from the view as it is: its schema's encoded
 * form is the view itself (the parameter's type makes a view whose type is not
 * its encoded form fail to compile, and a test compares the two encodings), so
 * the schema's pass over every active research, which with 1,000 active cost
 * twice the JSON text, is left out. Concurrent calls share a view (see
 * `Coordinator.status`), and its bytes: they are written once per view.
 */
const statusJson = () => {
  const encoder = new TextEncoder()
  const bodies = new WeakMap<typeof Status.Encoded, Uint8Array>()
  return (view: typeof Status.Encoded): HttpServerResponse.HttpServerResponse => {
    let body = bodies.get(view)
    if (body === undefined) {
      body = encoder.encode(JSON.stringify(view))
      bodies.set(view, body)
    }
    return HttpServerResponse.uint8Array(body, { contentType: "application/json" })
  }
}

const AgentLive = HttpApiBuilder.group(ForemanApi, "agent", (handlers) =>
  Effect.gen(function*() {
    const coordinator = yield* Coordinator.Coordinator
    const planner = yield* Planning.plannerOption
    const log = yield* EventLog.EventLog
    const statusResponse = statusJson()
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
      .handle("status", () => Effect.map(Effect.zipRight(requireOperator, coordinator.status()), statusResponse))
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
      .handle("leaderboard", ({ urlParams }) =>
        Effect.zipRight(
          requireOperator,
          Effect.map(coordinator.strategies(), (all) => ({
            sort: urlParams.sort,
            ...StrategyCatalogue.leaderboard(all, urlParams)
          }))
        ))
      .handle("strategy", ({ path }) => Effect.zipRight(requireOperator, coordinator.strategy(path.name)))
      .handle("history", ({ urlParams }) =>
        Effect.gen(function*() {
          yield* requireOperator
          const until = urlParams.until?.getTime() ?? (yield* Clock.currentTimeMillis)
          const since = yield* Either.match(History.parseSince(urlParams.since, until), {
            onLeft: (reason) => Effect.fail(new Errors.InvalidInput({ reason })),
            onRight: Effect.succeed
          })
          return yield* coordinator.history(since, until)
        }))
      .handle("plan", ({ urlParams }) => Effect.zipRight(requireOperator, Planning.answer(coordinator, planner, urlParams)))
      .handle("autopilotStart", ({ payload }) => Effect.zipRight(requireOperator, coordinator.autopilot.start(payload)))
      .handle("autopilotStatus", () => Effect.zipRight(requireOperator, coordinator.autopilot.status()))
      .handle("autopilotStop", () => Effect.zipRight(requireOperator, coordinator.autopilot.stop()))
  }))

const HealthLive = HttpApiBuilder.group(ForemanApi, "health", (handlers) =>
  Effect.gen(function*() {
    const coordinator = yield* Coordinator.Coordinator
    return handlers.handle("health", () =>
      Effect.map(coordinator.leading, (leading) => ({ status: "ok" as const, leading })))
  }))

// --- layers ---------------------------------------------------------------------

export interface ApiOptions {
  /** Larger request bodies get 413; 1 MiB by default. */
  readonly maxBodyBytes?: number | undefined
  /**
   * How many requests one credential (a bearer token) may have open at once
   * on a Node server, long-polls and event streams included; more get 429
   * `TooManyConnections`. 256 by default.
   */
  readonly maxConnectionsPerCredential?: number | undefined
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
    HttpApiBuilder.middleware(
      ForemanApi,
      guard(
        options.maxBodyBytes ?? defaultMaxBodyBytes,
        options.maxConnectionsPerCredential ?? defaultMaxConnectionsPerCredential
      )
    )
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
  DocsPage.layer,
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
  /** How long a client may take to send a request's headers before its connection is closed; 10 s by default. */
  readonly headersTimeoutSeconds?: number | undefined
  /**
   * How long a client may take to send a whole request, headers and body, before
   * its connection is closed; 30 s by default. Only the request: a long-poll or
   * an event stream, whose request is sent at once, may then stay open.
   */
  readonly requestTimeoutSeconds?: number | undefined
}

/** The timeouts' defaults, in seconds. */
export const defaultTimeouts = { headersTimeoutSeconds: 10, requestTimeoutSeconds: 30 } as const

/**
 * Node's HTTP server with the timeouts: a connection still sending its request
 * past them is closed (Node answers 408 and closes it), checked every second
 * (Node's default is every 30 s, which let a slow client stay past 40 s). An
 * answer sent before the request's body arrived closes its connection with a
 * lingering close (see `lingeringServer`), so it reaches a client still sending.
 */
const nodeServer = (options: ServeOptions) => () => {
  const headersTimeout = (options.headersTimeoutSeconds ?? defaultTimeouts.headersTimeoutSeconds) * 1000
  const requestTimeout = (options.requestTimeoutSeconds ?? defaultTimeouts.requestTimeoutSeconds) * 1000
  return lingeringServer({
    headersTimeout,
    // Node wants the headers' timeout within the request's.
    requestTimeout: Math.max(requestTimeout, headersTimeout),
    connectionsCheckingInterval: Math.min(1000, headersTimeout / 2)
  })
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
      Layer.provideMerge(NodeHttpServer.layer(nodeServer(options), { host, port: options.port }))
    )
  }))

