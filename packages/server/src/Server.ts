/**
 * The production coordinator as one layer: PostgreSQL (embedded unless a
 * `DATABASE_URL` is set) with its migrations, the engine, HTTP workers, the
 * coordinator loop under the leader lease, and the HTTP API with its docs.
 */
import type { HttpServer, HttpServerError } from "@effect/platform"
import type { Migrator, SqlError } from "@effect/sql"
import { MemoryAgents } from "@foreman/adapter-memory"
import { type EmbeddedPostgres, Postgres } from "@foreman/adapter-postgres"
import {
  type Agents,
  type Budget,
  Coordinator,
  type CoordinatorEvents,
  Engine,
  ForemanConfig,
  type WorkerRegistry,
  type WorkerTransport
} from "@foreman/core"
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
export const loop = Layer.scopedDiscard(Effect.flatMap(Coordinator.Coordinator, (c) => Effect.forkScoped(c.run)))

/** The storage ports the engine runs on (PostgreSQL's `Postgres.Ports`, or `Memory.storage`). */
export type Storage = Postgres.Ports

/** What the engine provides: every service and port. */
export type EngineServices =
  | Storage
  | Coordinator.Coordinator
  | WorkerRegistry.WorkerRegistry
  | Budget.Budget
  | CoordinatorEvents.CoordinatorEvents
  | ForemanConfig.ForemanConfig
  | WorkerTransport.WorkerTransport
  | Agents.Designer
  | Agents.Assessor

/** The engine with HTTP workers on the given storage and configuration (by default from the environment). */
export const engine = <E, R>(
  storage: Layer.Layer<Storage, E, R>,
  config: Layer.Layer<ForemanConfig.ForemanConfig, ConfigError.ConfigError> = ForemanConfig.layer
): Layer.Layer<EngineServices, E | ConfigError.ConfigError, R> =>
  Coordinator.Coordinator.Default.pipe(
    Layer.provideMerge(HttpWorkerTransport.layerNode),
    Layer.provideMerge(Engine.services),
    Layer.provideMerge(Layer.mergeAll(storage, config, MemoryAgents.layer()))
  )

/** Storage, engine, HTTP workers, the loop and the API; the engine's services stay available (events, status). */
export const layer = (
  options: ServerOptions
): Layer.Layer<
  HttpServer.HttpServer | EngineServices,
  | HttpServerError.ServeError
  | ApiServer.InsecureBind
  | ConfigError.ConfigError
  | Migrator.MigrationError
  | SqlError.SqlError
  | EmbeddedPostgres.EmbeddedPostgresError
> => Layer.merge(ApiServer.serve(options), loop).pipe(Layer.provideMerge(engine(Postgres.layerFromEnv())))
