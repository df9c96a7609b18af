/**
 * Test helpers: the server comes from the run's global setup (embedded
 * PostgreSQL, or DATABASE_URL when set); each test file gets a database of its
 * own, and each `fresh` layer starts from empty tables.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { inject } from "vitest"
import { Postgres } from "@foreman/adapter-postgres"

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string
  }
}

/** The server's URL, from the global setup. */
export const serverUrl = (): string => inject("databaseUrl")

/** Creates (or recreates) a database and returns its URL. */
export const createDatabase = (name: string): Promise<string> =>
  Effect.runPromise(Postgres.recreateDatabase(serverUrl(), name))

/** Empties every table (the lease keeps its epoch, which only ever grows). */
export const truncate = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql`TRUNCATE foreman_strategies, foreman_jobs, foreman_researches, foreman_workers, foreman_budget, foreman_autopilot`
)

/** Client, migrations and ports on `url`, with empty tables. */
export const freshPorts = (url: string) =>
  Postgres.ports({ lease: { checkEvery: "100 millis" } }).pipe(
    Layer.provide(Layer.effectDiscard(truncate)),
    Layer.provide(Postgres.migrated),
    Layer.provideMerge(Postgres.client({ url, maxConnections: 10 }))
  )
