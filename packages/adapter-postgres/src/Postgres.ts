/**
 * The PostgreSQL adapter as layers: a client, the migrations, and every
 * storage port (researches and jobs, workers, budget ledger, leader lease,
 * cross-process wakeups).
 */
import { PgClient } from "@effect/sql-pg"
import type { Migrator, SqlClient, SqlError } from "@effect/sql"
import type { BudgetLedger, CoordinatorLease, ResearchStore, Wakeup, WorkerStore } from "@foreman/core"
import { Layer, Redacted } from "effect"
import * as Migrations from "./Migrations.js"
import * as PgBudgetLedger from "./PgBudgetLedger.js"
import * as PgLease from "./PgLease.js"
import * as PgResearchStore from "./PgResearchStore.js"
import * as PgWakeup from "./PgWakeup.js"
import * as PgWorkerStore from "./PgWorkerStore.js"

export type Ports =
  | ResearchStore.ResearchStore
  | WorkerStore.WorkerStore
  | BudgetLedger.BudgetLedger
  | CoordinatorLease.CoordinatorLease
  | Wakeup.Wakeup

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
    PgWakeup.layer
  )

/** Runs the migrations when built. */
export const migrated: Layer.Layer<never, Migrator.MigrationError | SqlError.SqlError, SqlClient.SqlClient> = Layer
  .effectDiscard(Migrations.run)

/** Client, migrations and every storage port. */
export const layer = (
  options: PostgresOptions
): Layer.Layer<Ports | PgClient.PgClient | SqlClient.SqlClient, Migrator.MigrationError | SqlError.SqlError> =>
  ports(options).pipe(Layer.provide(migrated), Layer.provideMerge(client(options)))
