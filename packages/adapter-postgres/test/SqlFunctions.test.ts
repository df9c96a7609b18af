/**
 * The SQL functions' current definitions (`src/functions/`, listed by
 * `SqlFunctions.all`) are what the database holds after migrating, and they
 * are re-applied on the next start exactly when they change: a changed body is
 * replaced, a changed signature dropped and created anew, a missing function
 * created again, one no longer defined dropped, and an unchanged one left alone
 * (its recorded checksum and time stay as they were).
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { beforeAll } from "vitest"
import { createDatabase } from "@foreman/testing/PgDatabase"
import * as Migrations from "../src/Migrations.js"
import * as Postgres from "../src/Postgres.js"
import * as SqlFunctions from "../src/SqlFunctions.js"
import { functions as storedFunctions } from "./fixtures/schema.js"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_sql_functions")
})

/** A fresh database for each test. */
const onFreshDatabase = <A, E>(name: string, self: Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.flatMap(
    Effect.promise(() => createDatabase(name)),
    (fresh) => Effect.provide(self, Postgres.client({ url: fresh, maxConnections: 2 }))
  )

interface Recorded {
  readonly name: string
  readonly identity: string
  readonly checksum: string
  readonly applied_at: Date
}

const recorded = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(
    sql<Recorded>`SELECT name, identity, checksum, applied_at FROM foreman_functions ORDER BY name`,
    (rows) => new Map(rows.map((row) => [row.name, row]))
  ))

/** The database holds exactly `definitions`: one function of each name, of its identity, language and body. */
const assertHolds = (definitions: ReadonlyArray<SqlFunctions.SqlFunction>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const stored = yield* storedFunctions
    assert.deepStrictEqual(stored.map((f) => f.name), definitions.map((f) => f.name).sort(), "one function of each name")
    for (const f of definitions) {
      const held = stored.find((s) => s.name === f.name)!
      const [expected] = yield* sql<{ identity: string | null }>`
        SELECT to_regprocedure(${SqlFunctions.identity(f)})::text AS identity`
      assert.strictEqual(held.identity, expected?.identity, `identity of ${f.name}`)
      assert.strictEqual(held.language, f.language, `language of ${f.name}`)
      assert.strictEqual(held.body, f.body, `body of ${f.name}`)
    }
    const checksums = yield* recorded
    assert.deepStrictEqual(
      [...checksums.values()].map((r) => [r.name, r.identity, r.checksum]),
      [...definitions].sort((a, b) => (a.name < b.name ? -1 : 1)).map((f) => [
        f.name,
        SqlFunctions.identity(f),
        SqlFunctions.checksum(f)
      ]),
      "recorded checksums"
    )
  })

const named = (name: string) => SqlFunctions.all.find((f) => f.name === name)!
const replacing = (f: SqlFunctions.SqlFunction) => SqlFunctions.all.map((g) => (g.name === f.name ? f : g))

describe("SQL functions: one current definition each, re-applied when it changes", () => {
  it.live("a fresh database holds the definitions after migrating; a second start applies nothing", () =>
    onFreshDatabase(
      "foreman_sql_functions_fresh",
      Effect.gen(function*() {
        const first = yield* Migrations.runReporting(Migrations.migrations, SqlFunctions.all)
        // Every migration there is, in order (a fresh database runs them all).
        const ids = first.migrations.map(([id]) => id)
        assert.isAtLeast(ids.length, 10)
        assert.deepStrictEqual(ids, ids.map((_, i) => i + 1))
        assert.deepStrictEqual(first.functions, { applied: SqlFunctions.all.map((f) => f.name), dropped: [] })
        yield* assertHolds(SqlFunctions.all)
        const before = yield* recorded

        const second = yield* Migrations.runReporting(Migrations.migrations, SqlFunctions.all)
        assert.deepStrictEqual(second, { migrations: [], functions: { applied: [], dropped: [] } })
        assert.deepStrictEqual(yield* recorded, before, "nothing re-applied: checksums and times unchanged")
        yield* assertHolds(SqlFunctions.all)
      })
    ))

  it.live("a changed body is replaced on the next start, and only it", () =>
    onFreshDatabase(
      "foreman_sql_functions_body",
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* Migrations.run
        const before = yield* recorded
        const updateJob = named("foreman_update_job")
        // The same function, but answering the opposite of whether it wrote.
        const changed: SqlFunctions.SqlFunction = { ...updateJob, body: updateJob.body.replace("RETURN FOUND;", "RETURN NOT FOUND;") }
        assert.notStrictEqual(changed.body, updateJob.body)
        const definitions = replacing(changed)

        const report = yield* Migrations.runReporting(Migrations.migrations, definitions)
        assert.deepStrictEqual(report.functions, { applied: ["foreman_update_job"], dropped: [] })
        yield* assertHolds(definitions)
        const after = yield* recorded
        assert.notStrictEqual(after.get("foreman_update_job")!.checksum, before.get("foreman_update_job")!.checksum)
        for (const f of SqlFunctions.all) {
          if (f.name !== "foreman_update_job") assert.deepStrictEqual(after.get(f.name), before.get(f.name), f.name)
        }
        // The new body runs: a job that does not exist is "written".
        const [row] = yield* sql<{ written: boolean }>`
          SELECT foreman_update_job('{"id": "job_none"}'::jsonb, ARRAY['running']) AS written`
        assert.isTrue(row!.written)

        // Unchanged since: nothing applied. Back to the file's definition: applied again.
        assert.deepStrictEqual((yield* Migrations.runReporting(Migrations.migrations, definitions)).functions.applied, [])
        assert.deepStrictEqual(
          (yield* Migrations.runReporting(Migrations.migrations, SqlFunctions.all)).functions.applied,
          ["foreman_update_job"]
        )
        yield* assertHolds(SqlFunctions.all)
      })
    ))

  it.live("a changed signature is dropped and created anew; a missing function is created again; one no longer defined is dropped", () =>
    onFreshDatabase(
      "foreman_sql_functions_signature",
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* Migrations.run
        const claim = named("foreman_claim")
        // Another parameter, and another result: neither can be changed by CREATE OR REPLACE.
        const widened: SqlFunctions.SqlFunction = {
          ...claim,
          parameters: [...claim.parameters, ["reason", "text"]]
        }
        assert.deepStrictEqual(
          (yield* Migrations.runReporting(Migrations.migrations, replacing(widened))).functions.applied,
          ["foreman_claim"]
        )
        yield* assertHolds(replacing(widened))
        const counted: SqlFunctions.SqlFunction = {
          ...named("foreman_commit_all"),
          returns: "integer",
          body: "\nBEGIN\n  RETURN jsonb_array_length(ts);\nEND\n"
        }
        const definitions = replacing(widened).map((f) => (f.name === counted.name ? counted : f))
        assert.deepStrictEqual(
          (yield* Migrations.runReporting(Migrations.migrations, definitions)).functions.applied,
          ["foreman_commit_all"]
        )
        yield* assertHolds(definitions)

        // Dropped behind the runner's back (as a migration must drop a BEGIN ATOMIC function
        // whose column it drops): the checksum still matches, but the function is created again.
        yield* sql`DROP FUNCTION foreman_commit_all(jsonb)`
        assert.deepStrictEqual(
          (yield* Migrations.runReporting(Migrations.migrations, definitions)).functions.applied,
          ["foreman_commit_all"]
        )
        yield* assertHolds(definitions)

        // No longer defined: dropped, and its record forgotten.
        const fewer = definitions.filter((f) => f.name !== "foreman_commit_all")
        assert.deepStrictEqual(
          (yield* Migrations.runReporting(Migrations.migrations, fewer)).functions,
          { applied: [], dropped: ["foreman_commit_all"] }
        )
        yield* assertHolds(fewer)

        // Back to the file: every function as it defines them.
        assert.deepStrictEqual(
          (yield* Migrations.runReporting(Migrations.migrations, SqlFunctions.all)).functions.applied,
          ["foreman_commit_all", "foreman_claim"]
        )
        yield* assertHolds(SqlFunctions.all)
      })
    ))

  it.live("several processes starting at once apply each change once", () =>
    Effect.gen(function*() {
      const runs = yield* Effect.all(
        Array.from({ length: 4 }, () => Migrations.runReporting(Migrations.migrations, SqlFunctions.all)),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(
        runs.flatMap((r) => r.functions.applied).sort(),
        SqlFunctions.all.map((f) => f.name).sort()
      )
      yield* assertHolds(SqlFunctions.all)
    }).pipe(Effect.provide(Postgres.client({ url, maxConnections: 4 }))))
})
