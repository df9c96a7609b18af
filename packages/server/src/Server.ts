/**
 * The production coordinator as one layer: PostgreSQL (embedded unless a
 * `DATABASE_URL` is set) with its migrations, the engine, HTTP workers, the
 * coordinator loop under the leader lease, and the HTTP API with its docs.
 */
import type { HttpServer, HttpServerError } from "@effect/platform"
import type { Migrator, SqlError } from "@effect/sql"
import { MemoryAgents } from "@foreman/adapter-memory"
import { type EmbeddedPostgres, Postgres } from "@foreman/adapter-postgres"
import { Coordinator, Engine, ForemanConfig } from "@foreman/core"
import { Config, type ConfigError, Effect, Layer } from "effect"
import * as ApiServer from "./ApiServer.js"
import * as HttpWorkerTransport from "./HttpWorkerTransport.js"

export interface ServerOptions extends ApiServer.ServeOptions {}

/** Where to listen: `FOREMAN_HOST` (default chosen by the token rule) and `FOREMAN_PORT` (8000). */
export const optionsFromEnv: Config.Config<ServerOptions> = Config.all({
  host: Config.option(Config.string("FOREMAN_HOST")),
  port: Config.port("FOREMAN_PORT").pipe(Config.withDefault(8000))
}).pipe(Config.map(({ host, port }) => ({ host: host._tag === "Some" ? host.value : undefined, port })))

/** Runs the coordinator loop for the layer's lifetime (it stands by while another process leads). */
const loop = Layer.scopedDiscard(Effect.flatMap(Coordinator.Coordinator, (c) => Effect.forkScoped(c.run)))

/** The engine on PostgreSQL with HTTP workers. */
const engine = Coordinator.Coordinator.Default.pipe(
  Layer.provideMerge(HttpWorkerTransport.layerNode),
  Layer.provideMerge(Engine.services),
  Layer.provideMerge(Layer.mergeAll(Postgres.layerFromEnv(), ForemanConfig.layer, MemoryAgents.layer()))
)

/** Storage, engine, HTTP workers, the loop and the API. */
export const layer = (
  options: ServerOptions
): Layer.Layer<
  HttpServer.HttpServer,
  | HttpServerError.ServeError
  | ApiServer.InsecureBind
  | ConfigError.ConfigError
  | Migrator.MigrationError
  | SqlError.SqlError
  | EmbeddedPostgres.EmbeddedPostgresError
> => Layer.merge(ApiServer.serve(options), loop).pipe(Layer.provide(engine))
