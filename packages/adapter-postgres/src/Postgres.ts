/**
 * The PostgreSQL adapter as layers: a client, the migrations, and every
 * storage port (researches and jobs, workers, budget ledger, leader lease,
 * cross-process wakeups).
 */
import { PgClient } from "@effect/sql-pg"
import { type Migrator, SqlClient, type SqlError } from "@effect/sql"
import type { Assignments, Autopilot, BudgetLedger, CoordinatorLease, Jobs, Researches, ResearchStore, Strategies, Wakeup, WorkerStore } from "@foreman/core"
import { Config, type ConfigError, Effect, Layer, Option, Redacted, type Scope } from "effect"
import * as EmbeddedPostgres from "./EmbeddedPostgres.js"
import * as Migrations from "./Migrations.js"
import * as PgAssignments from "./PgAssignments.js"
import * as PgBudgetLedger from "./PgBudgetLedger.js"
import * as PgLease from "./PgLease.js"
import * as PgAutopilotStore from "./PgAutopilotStore.js"
import * as PgResearchStore from "./PgResearchStore.js"
import * as PgWakeup from "./PgWakeup.js"
import * as PgWorkerStore from "./PgWorkerStore.js"

export type Ports =
  | Researches.Researches
  | Jobs.Jobs
  | Strategies.Strategies
  /** @deprecated Made of `Researches`, `Jobs` and `Strategies`; provided for one release. */
  | ResearchStore.ResearchStore
  | WorkerStore.WorkerStore
  | BudgetLedger.BudgetLedger
  | CoordinatorLease.CoordinatorLease
  | Wakeup.Wakeup
  | Assignments.Assignments
  | Autopilot.AutopilotStore

export interface PostgresOptions {
  /** A `postgres://` connection URL. */
  readonly url: string | Redacted.Redacted<string>
  readonly maxConnections?: number
  readonly lease?: PgLease.LeaseOptions
}

/** A connection pool. */
export const client = (
  options: PostgresOptions
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, SqlError.SqlError> =>
  PgClient.layer({
    url: typeof options.url === "string" ? Redacted.make(options.url) : options.url,
    maxConnections: options.maxConnections ?? 10,
    applicationName: "foreman"
  })

/** Every storage port on an existing client, after running the migrations. */
export const ports = (options: Pick<PostgresOptions, "lease"> = {}): Layer.Layer<Ports, never, PgClient.PgClient> =>
  Layer.mergeAll(
    PgResearchStore.layer,
    PgWorkerStore.layer,
    PgBudgetLedger.layer,
    PgLease.layer(options.lease),
    PgWakeup.layer,
    PgAssignments.layer,
    PgAutopilotStore.layer
  )

/** Runs the migrations when built. */
export const migrated: Layer.Layer<never, Migrator.MigrationError | SqlError.SqlError, SqlClient.SqlClient> = Layer
  .effectDiscard(Migrations.run)

/** Client, migrations and every storage port. */
export const layer = (
  options: PostgresOptions
): Layer.Layer<Ports | PgClient.PgClient | SqlClient.SqlClient, Migrator.MigrationError | SqlError.SqlError> =>
  ports(options).pipe(Layer.provide(migrated), Layer.provideMerge(client(options)))

/**
 * The database to use: `FOREMAN_DATABASE_URL`, else `DATABASE_URL`, else an
 * embedded PostgreSQL started for the scope, with its data under
 * `FOREMAN_DATA_DIR` (default `./.foreman/pg`).
 */
export const databaseUrl: Effect.Effect<
  Redacted.Redacted<string>,
  ConfigError.ConfigError | EmbeddedPostgres.EmbeddedPostgresError,
  Scope.Scope
> = Effect.gen(function*() {
  const configured = yield* Config.option(Config.redacted("FOREMAN_DATABASE_URL")).pipe(
    Effect.flatMap(Option.match({
      onSome: (url) => Effect.succeed(Option.some(url)),
      onNone: () => Config.option(Config.redacted("DATABASE_URL"))
    }))
  )
  if (Option.isSome(configured) && Redacted.value(configured.value).trim() !== "") return configured.value
  const dataDir = yield* Config.string("FOREMAN_DATA_DIR").pipe(Config.withDefault(EmbeddedPostgres.defaultDataDir))
  yield* Effect.logInfo(`no DATABASE_URL set: starting an embedded PostgreSQL with its data in ${dataDir}`)
  const server = yield* EmbeddedPostgres.start({ dataDir })
  return Redacted.make(server.url)
})

/** Every storage port on the configured database, or on an embedded one. */
export const layerFromEnv = (
  options: Omit<PostgresOptions, "url"> = {}
): Layer.Layer<
  Ports | PgClient.PgClient | SqlClient.SqlClient,
  Migrator.MigrationError | SqlError.SqlError | ConfigError.ConfigError | EmbeddedPostgres.EmbeddedPostgresError
> => Layer.unwrapScoped(Effect.map(databaseUrl, (url) => layer({ ...options, url })))

/**
 * Drops and creates database `name` on the server at `url`, and returns the
 * new database's URL: a clean database per test file or benchmark run.
 */
export const recreateDatabase = (url: string, name: string): Effect.Effect<string, SqlError.SqlError> =>
  Effect.gen(function*() {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) return yield* Effect.dieMessage(`not a plain database name: ${name}`)
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    // By copying the template's files (PostgreSQL 15 and later), at half the CPU of the default strategy,
    // which writes every page to the WAL; a server that does not know the option creates it its own way.
    yield* sql.unsafe(`CREATE DATABASE ${name} STRATEGY = FILE_COPY`).pipe(
      Effect.catchAll(() => sql.unsafe(`CREATE DATABASE ${name}`))
    )
    const parsed = new URL(url)
    parsed.pathname = `/${name}`
    return parsed.toString()
  }).pipe(Effect.provide(client({ url, maxConnections: 1 })))
