/**
 * The SQL functions' current definitions, kept in one place and re-applied
 * when they change (what Flyway's repeatable migrations and graphile-migrate's
 * `current.sql` do). Each function is one module under `functions/`, named
 * after it, with its reasoning beside its SQL; `all` lists them.
 *
 * Forward migrations (`migrations/`) are the history of released databases and
 * change only the schema. After them, in the same transaction under the same
 * advisory lock (see `Migrations.run`), `apply` compares each definition's
 * checksum with the one recorded in `foreman_functions` and re-applies those
 * that differ or are missing: `CREATE OR REPLACE`, or `DROP` of the recorded
 * signature first when the parameters or the result changed (`CREATE OR
 * REPLACE` cannot change either). A function recorded but no longer defined is
 * dropped. Migrations 0001–0008 still define the functions as each release
 * had them, so an old database passes through the same states it did; the
 * definitions here then replace them, on fresh and upgraded databases alike.
 *
 * Ordering: the functions are applied after the migrations, so a migration may
 * drop or retype a column a PL/pgSQL function reads (its body is bound when it
 * runs, not when it is created), and a definition may use a column its
 * migration adds. A `LANGUAGE sql` function with a `BEGIN ATOMIC` body records
 * its dependencies: a migration that drops a column it reads drops the
 * function first (`DROP FUNCTION IF EXISTS`), and `apply` creates it again
 * since it is missing. A migration never calls these functions: it would get
 * the previous definition.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import foreman_admit from "./functions/foreman_admit.js"
import foreman_claim from "./functions/foreman_claim.js"
import foreman_commit from "./functions/foreman_commit.js"
import foreman_commit_all from "./functions/foreman_commit_all.js"
import foreman_commit_claiming from "./functions/foreman_commit_claiming.js"
import foreman_mark_changed from "./functions/foreman_mark_changed.js"
import foreman_recent_cycle_costs from "./functions/foreman_recent_cycle_costs.js"
import foreman_try_commit from "./functions/foreman_try_commit.js"
import foreman_update_job from "./functions/foreman_update_job.js"
import type { SqlFunction } from "./internal/sqlFunction.js"

export type { SqlFunction } from "./internal/sqlFunction.js"

/** Every function, in the order they are applied (one that another calls first). */
export const all: ReadonlyArray<SqlFunction> = [
  foreman_mark_changed,
  foreman_update_job,
  foreman_commit,
  foreman_try_commit,
  foreman_commit_all,
  foreman_claim,
  foreman_commit_claiming,
  foreman_admit,
  foreman_recent_cycle_costs
]

/** The name and parameter types: what `DROP FUNCTION` and `to_regprocedure` take. */
export const identity = (f: SqlFunction): string => `${f.name}(${f.parameters.map(([, type]) => type).join(", ")})`

/** Name, parameters and result: when they change, the function is dropped and created anew. */
export const signature = (f: SqlFunction): string =>
  `${f.name}(${f.parameters.map(([name, type]) => `${name} ${type}`).join(", ")}) RETURNS ${f.returns}`

/** The statement that creates or replaces the function. */
export const statement = (f: SqlFunction): string => {
  if (f.body.includes("$$")) throw new Error(`the body of ${f.name} must not contain $$`)
  return `CREATE OR REPLACE FUNCTION ${signature(f)} LANGUAGE ${f.language} AS $$${f.body}$$`
}

/** The checksum recorded for a definition: SHA-256 of its statement. */
export const checksum = (f: SqlFunction): string => createHash("sha256").update(statement(f)).digest("hex")

/** What `apply` did: the functions it created or replaced, and those it dropped. */
export interface Applied {
  readonly applied: ReadonlyArray<string>
  readonly dropped: ReadonlyArray<string>
}

interface Recorded {
  readonly name: string
  readonly identity: string
  readonly signature: string
  readonly checksum: string
  readonly present: boolean
}

/**
 * Brings the database's functions to `functions`: each one whose checksum
 * differs from the recorded one, or that is missing, is (re)created; those
 * recorded but not in `functions` are dropped. Run inside the migrations'
 * transaction, after them (see `Migrations.run`).
 */
export const apply = (functions: ReadonlyArray<SqlFunction>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE IF NOT EXISTS foreman_functions (
      name text PRIMARY KEY,
      identity text NOT NULL,
      signature text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`
    const rows = yield* sql<Recorded>`
      SELECT name, identity, signature, checksum, to_regprocedure(identity) IS NOT NULL AS present
      FROM foreman_functions`
    const recorded = new Map(rows.map((row) => [row.name, row]))
    const defined = new Set(functions.map((f) => f.name))
    const dropped: Array<string> = []
    for (const row of rows) {
      if (defined.has(row.name)) continue
      yield* sql.unsafe(`DROP FUNCTION IF EXISTS ${row.identity}`)
      yield* sql`DELETE FROM foreman_functions WHERE name = ${row.name}`
      dropped.push(row.name)
    }
    const applied: Array<string> = []
    for (const f of functions) {
      const before = recorded.get(f.name)
      const sum = checksum(f)
      if (before !== undefined && before.present && before.checksum === sum) continue
      if (before !== undefined && before.present && before.signature !== signature(f)) {
        yield* sql.unsafe(`DROP FUNCTION ${before.identity}`)
      }
      yield* sql.unsafe(statement(f))
      yield* sql`
        INSERT INTO foreman_functions (name, identity, signature, checksum, applied_at)
        VALUES (${f.name}, ${identity(f)}, ${signature(f)}, ${sum}, now())
        ON CONFLICT (name) DO UPDATE SET identity = EXCLUDED.identity, signature = EXCLUDED.signature,
          checksum = EXCLUDED.checksum, applied_at = EXCLUDED.applied_at`
      applied.push(f.name)
    }
    if (applied.length + dropped.length > 0) {
      yield* Effect.logDebug(`SQL functions applied: ${applied.join(", ") || "none"}; dropped: ${dropped.join(", ") || "none"}`)
    }
    return { applied, dropped } satisfies Applied
  })
