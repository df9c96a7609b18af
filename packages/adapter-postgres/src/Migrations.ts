/**
 * Forward-only migrations (the PostgreSQL dialect of `@effect/sql`'s Migrator),
 * bundled as static imports (file-system loaders break
 * under bundling), then the SQL functions' current definitions
 * (`SqlFunctions`, one module each under `functions/`), re-applied when they
 * changed. Migrations are the history of released databases and change only
 * the schema; the definitions are where a function's current SQL lives. Safe
 * when several processes start at once: the run holds a transaction-level
 * advisory lock, so they take turns and the later ones find nothing left to do.
 */
import { Migrator, SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { sqlDefectsAsFailures } from "./internal/storage.js"
import * as SqlFunctions from "./SqlFunctions.js"
import m0001 from "./migrations/0001_create_tables.js"
import m0002 from "./migrations/0002_worker_credentials.js"
import m0003 from "./migrations/0003_trigger_request_ids.js"
import m0004 from "./migrations/0004_typed_columns.js"
import m0005 from "./migrations/0005_strategies.js"
import m0006 from "./migrations/0006_llm_calls.js"
import m0007 from "./migrations/0007_change_marks.js"
import m0008 from "./migrations/0008_pull_workers.js"
import m0009 from "./migrations/0009_idempotency_keys.js"
import m0010 from "./migrations/0010_simulated_llm_calls.js"
import m0011 from "./migrations/0011_research_lineage.js"
import m0012 from "./migrations/0012_autopilot.js"

/** Advisory lock key for migrations ("foreman" in ASCII, fits in int8). */
const MIGRATION_LOCK = 0x666f72656d616e

export const migrations = Migrator.fromRecord({
  "0001_create_tables": m0001,
  "0002_worker_credentials": m0002,
  "0003_trigger_request_ids": m0003,
  "0004_typed_columns": m0004,
  "0005_strategies": m0005,
  "0006_llm_calls": m0006,
  "0007_change_marks": m0007,
  "0008_pull_workers": m0008,
  "0009_idempotency_keys": m0009,
  "0010_simulated_llm_calls": m0010,
  "0011_research_lineage": m0011,
  "0012_autopilot": m0012
})

/** The migrator, without schema dumps (they need a file system and pg_dump). */
const migrate = Migrator.make({})

/** What a run did: the migrations it ran, and the functions it (re)applied or dropped. */
export interface Report {
  readonly migrations: ReadonlyArray<readonly [id: number, name: string]>
  readonly functions: SqlFunctions.Applied
}

/**
 * Runs every migration of `loader` not yet run, then, when `functions` are
 * given, brings the SQL functions to them (`SqlFunctions.apply`), all in one
 * transaction under the advisory lock. Without `functions` the functions stay
 * as the migrations left them: a loader holding a prefix of `migrations`
 * builds a database as an older release left it (the upgrade tests do).
 */
export const runReporting = (loader: Migrator.Loader, functions?: ReadonlyArray<SqlFunctions.SqlFunction>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sqlDefectsAsFailures(sql.withTransaction(Effect.gen(function*() {
      yield* sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`
      // Created here, under the lock: the migrator's own probe for the table would
      // fail and abort this transaction when it is missing.
      yield* sql`CREATE TABLE IF NOT EXISTS foreman_migrations (
        migration_id integer PRIMARY KEY,
        created_at timestamp with time zone NOT NULL DEFAULT now(),
        name text NOT NULL
      )`
      const ran = yield* migrate({ loader, table: "foreman_migrations" })
      // After the migrations: a definition may use what they add, and they may drop what an old one used.
      const applied = functions === undefined
        ? { applied: [], dropped: [] }
        : yield* SqlFunctions.apply(functions)
      return { migrations: ran, functions: applied } satisfies Report
    })))
  })

/** Runs every migration of `loader` not yet run (the functions stay as they leave them); returns those it ran. */
export const runWith = (loader: Migrator.Loader) => Effect.map(runReporting(loader), (report) => report.migrations)

/** Runs every pending migration, then re-applies every changed SQL function; returns the migrations it ran. */
export const run = Effect.map(runReporting(migrations, SqlFunctions.all), (report) => report.migrations)
