/** Test helpers: the coordinator's API served on 127.0.0.1 over a fresh in-memory engine. */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest, HttpServer } from "@effect/platform"
import { Memory, MemoryWorkers, PlanCurves } from "@foreman/adapter-memory"
import * as OfflineAgents from "@foreman/agents/OfflineAgents"
import { instantHandlers } from "@foreman/adapter-memory/TestEngine"
import { Coordinator, Engine, ForemanConfig, Researches } from "@foreman/core"
import { ConfigProvider, Context, Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { Api } from "@foreman/api"
import { ApiServer } from "@foreman/server"

export interface TestTokens {
  readonly operator?: string
  readonly worker?: string
}

/** A config provider holding only the given tokens (the machine's environment stays out). */
export const tokenConfig = (tokens: TestTokens = {}, extra: Readonly<Record<string, string>> = {}): ConfigProvider.ConfigProvider =>
  ConfigProvider.fromMap(
    new Map([
      ...Object.entries(extra),
      ...(tokens.operator === undefined ? [] : [["FOREMAN_API_TOKEN", tokens.operator] as const]),
      ...(tokens.worker === undefined ? [] : [["FOREMAN_WORKER_TOKEN", tokens.worker] as const])
    ])
  )

/** Keeps the expected warnings (open server, refused triggers) out of the test output. */
export const quiet = <A, E, R>(self: Effect.Effect<A, E, R>) => Logger.withMinimumLogLevel(self, LogLevel.Error)

/**
 * A fresh in-memory engine whose `Researches` port is the memory one changed by
 * `change` (a store that loses every write, or fails a read), to see what the
 * coordinator and the API make of it. Start no loop: a test drives it.
 */
export const engineWithResearches = (change: (researches: Researches.ResearchesShape) => Researches.ResearchesShape) =>
  Engine.layer({
    storage: Layer.effect(Researches.Researches, Effect.map(Researches.Researches, change)).pipe(
      Layer.provideMerge(Memory.storage)
    ),
    agents: OfflineAgents.layer(),
    transport: MemoryWorkers.layer({ handlers: Memory.defaultHandlers }),
    config: ForemanConfig.layerWith()
  })

/** Serves the API over `engine` on 127.0.0.1 in the caller's scope, with no tokens; answers its base URL. */
export const serveOver = <E>(engine: Layer.Layer<ApiServer.EngineServices, E>) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(ApiServer.serve({ host: "127.0.0.1", port: 0 }).pipe(Layer.provide(engine))).pipe(
      Effect.withConfigProvider(tokenConfig())
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    return address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
  })

/** A typed client of `ForemanApi` at `baseUrl`, sending `token` as bearer when given. */
export const client = (baseUrl: string, token?: string) =>
  HttpApiClient.make(Api.ForemanApi, {
    baseUrl,
    transformClient: token === undefined ? undefined : HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
  }).pipe(Effect.provide(FetchHttpClient.layer))

export interface ServerOptions {
  readonly engine?: Memory.MemoryOptions
  readonly tokens?: TestTokens
  /** Further settings the server reads, by variable (`FOREMAN_WORKER_TOKENS`). */
  readonly config?: Readonly<Record<string, string>>
}

/**
 * Serves the API on 127.0.0.1 (port chosen by the system) over a fresh
 * in-memory engine, with the coordinator loop running and a planner
 * (`PlanCurves`, for `GET /plan`), in the caller's scope.
 */
export const startServer = (options: ServerOptions = {}) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      ApiServer.serve({ host: "127.0.0.1", port: 0 }).pipe(
        Layer.provideMerge(Memory.layer(options.engine)),
        Layer.provide(PlanCurves.layer())
      )
    ).pipe(Effect.withConfigProvider(tokenConfig(options.tokens, options.config)), quiet)
    const address = Context.get(context, HttpServer.HttpServer).address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
    const coordinator = Context.get(context, Coordinator.Coordinator)
    yield* Effect.forkScoped(quiet(coordinator.run))
    const baseUrl = `http://127.0.0.1:${address.port}`
    return {
      baseUrl,
      coordinator,
      workers: Context.get(context, MemoryWorkers.MemoryWorkers),
      client: (token?: string) => client(baseUrl, token),
      /** A raw request, for what the typed client cannot send. */
      fetch: (path: string, init?: RequestInit) => Effect.promise(() => fetch(`${baseUrl}${path}`, init))
    }
  })

/** A server whose workers answer at once (`instantHandlers`), with one training and one backtest worker. */
export const startLabServer = Effect.gen(function*() {
  const server = yield* startServer({ engine: { handlers: instantHandlers } })
  yield* server.workers.spawn({ id: "training-1", type: "training" })
  yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
  return server
})

/** Runs `self` until `done` holds for its result, every 20 ms, for at most `seconds`. */
export const eventually = <A, E, R>(self: Effect.Effect<A, E, R>, done: (a: A) => boolean, seconds = 5) =>
  Effect.gen(function*() {
    for (;;) {
      const result = yield* self
      if (done(result)) return result
      yield* Effect.sleep(Duration.millis(20))
    }
  }).pipe(
    Effect.timeoutFail({ duration: Duration.seconds(seconds), onTimeout: () => new Error("condition not reached in time") })
  )

/** A JSON request for raw fetch. */
export const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body)
})
