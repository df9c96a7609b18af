/**
 * @foreman/adapter-postgres — durable storage on PostgreSQL: every core port,
 * forward-only migrations, the leader lease, LISTEN/NOTIFY wakeups, and an
 * embedded server for when no database is configured.
 */
export * as PgAssignments from "./PgAssignments.js"
export * as PgAutopilotStore from "./PgAutopilotStore.js"
export * as EmbeddedPostgres from "./EmbeddedPostgres.js"
export * as Migrations from "./Migrations.js"
export * as PgBudgetLedger from "./PgBudgetLedger.js"
export * as PgLease from "./PgLease.js"
export * as PgResearchStore from "./PgResearchStore.js"
export * as PgWakeup from "./PgWakeup.js"
export * as PgWorkerStore from "./PgWorkerStore.js"
export * as SqlFunctions from "./SqlFunctions.js"
export * as Postgres from "./Postgres.js"
