/**
 * A coordinator with its HTTP API, composed from the parts it is given:
 * storage (PostgreSQL in production), the design and assessment agents, and
 * the engine's configuration. Workers are reached over HTTP; the coordinator
 * loop runs under the leader lease for the layer's lifetime. The server also
 * serves Prometheus metrics at `/metrics`, exports traces over OTLP when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set and logs in `FOREMAN_LOG_FORMAT`
 * (see `Observability`).
 */
import type { HttpServer, HttpServerError } from "@effect/platform"
import { Coordinator, Engine, ForemanConfig } from "@foreman/core"
import { Config, type ConfigError, Effect, Layer } from "effect"
import * as ApiServer from "./ApiServer.js"
import * as HttpWorkerTransport from "./HttpWorkerTransport.js"
import * as Observability from "./Observability.js"

export interface ServerOptions extends ApiServer.ServeOptions {}

/** A number of seconds above zero, or the default when unset. */
const positiveSeconds = (name: string, fallback: number) =>
  Config.number(name).pipe(
    Config.validate({ message: `${name} must be a number of seconds > 0`, validation: (n) => Number.isFinite(n) && n > 0 }),
    Config.withDefault(fallback)
  )

/**
 * The limits that keep slow or greedy clients from holding the API's
 * connections: `FOREMAN_HEADERS_TIMEOUT_SECONDS` (10), `FOREMAN_REQUEST_TIMEOUT_SECONDS`
 * (30) and `FOREMAN_MAX_CONNECTIONS_PER_CREDENTIAL` (256); see `ApiServer.ServeOptions`.
 */
export const limitsFromEnv: Config.Config<
  Required<Pick<ServerOptions, "headersTimeoutSeconds" | "requestTimeoutSeconds" | "maxConnectionsPerCredential">>
> = Config.all({
  headersTimeoutSeconds: positiveSeconds(
    "FOREMAN_HEADERS_TIMEOUT_SECONDS",
    ApiServer.defaultTimeouts.headersTimeoutSeconds
  ),
  requestTimeoutSeconds: positiveSeconds(
    "FOREMAN_REQUEST_TIMEOUT_SECONDS",
    ApiServer.defaultTimeouts.requestTimeoutSeconds
  ),
  maxConnectionsPerCredential: Config.integer("FOREMAN_MAX_CONNECTIONS_PER_CREDENTIAL").pipe(
    Config.validate({ message: "FOREMAN_MAX_CONNECTIONS_PER_CREDENTIAL must be an integer > 0", validation: (n) => n > 0 }),
    Config.withDefault(ApiServer.defaultMaxConnectionsPerCredential)
  )
})

/** Where to listen: `FOREMAN_HOST` (default chosen by the token rule) and `FOREMAN_PORT` (8000), and the limits (`limitsFromEnv`). */
export const optionsFromEnv: Config.Config<ServerOptions> = Config.all({
  host: Config.option(Config.string("FOREMAN_HOST")),
  port: Config.port("FOREMAN_PORT").pipe(Config.withDefault(8000)),
  limits: limitsFromEnv
}).pipe(Config.map(({ host, limits, port }) => ({ host: host._tag === "Some" ? host.value : undefined, port, ...limits })))

/** Runs the coordinator loop for the layer's lifetime (it stands by while another process leads). */
export const loop = Layer.scopedDiscard(Effect.flatMap(Coordinator.Coordinator, (c) => Effect.forkScoped(c.run)))

/** The parts a server is made of. */
export interface Parts<E, R> {
  /** Every storage port (`Postgres.layerFromEnv()`, `Memory.storage`, …). */
  readonly storage: Layer.Layer<Engine.Storage, E, R>
  /** The designer and the assessor. */
  readonly agents: Layer.Layer<Engine.Agents>
  /** The engine's configuration; by default read from the environment. */
  readonly config?: Layer.Layer<ForemanConfig.ForemanConfig, ConfigError.ConfigError>
}

/** The engine with HTTP workers, on the given parts. */
export const engine = <E, R>(
  parts: Parts<E, R>
): Layer.Layer<Engine.Services, E | ConfigError.ConfigError, R> =>
  Engine.layer({
    storage: parts.storage,
    agents: parts.agents,
    transport: HttpWorkerTransport.layerNode,
    config: parts.config ?? ForemanConfig.layer
  })

/**
 * The engine, the loop and the API with `/metrics`; the engine's services stay
 * available (events, status). Tracing and the log format are set first, so
 * that every fiber the other layers fork sees them.
 */
export const layer = <E, R>(
  options: ServerOptions & Parts<E, R>
): Layer.Layer<
  HttpServer.HttpServer | Engine.Services,
  HttpServerError.ServeError | ApiServer.InsecureBind | ConfigError.ConfigError | E,
  R
> =>
  Layer.merge(ApiServer.serve(options).pipe(Layer.provide(Observability.layerHttp)), loop).pipe(
    Layer.provideMerge(engine(options)),
    Layer.provide(Observability.layer)
  )
