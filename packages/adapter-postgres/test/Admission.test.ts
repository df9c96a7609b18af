/**
 * Admission on PostgreSQL: triggers arriving together are written by one
 * insert statement (counted by a statement-level trigger on the table), no
 * trigger lock is held while a batch reads, and two processes admitting at
 * once never admit past the capacity between them.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Coordinator, WorkerTransport } from "@foreman/core"
import { Context, Deferred, Effect, Either, Fiber, Layer, Logger, LogLevel, Schedule } from "effect"
import { beforeAll } from "vitest"
import { engine, replica } from "@foreman/testing/PgEngine"
import { createDatabase, truncate } from "@foreman/testing/PgDatabase"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_admission")
})

const quiet = Logger.withMinimumLogLevel(LogLevel.Error)

/** The advisory lock `foreman_admit` takes (src/functions/foreman_admit.ts). */
const TRIGGER_LOCK = 0x666f72656d6174

describe("admission on PostgreSQL", () => {
  it.live("triggers arriving together are written by one insert statement, with no lock held while they are decided", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const coordinator = yield* Coordinator.Coordinator
      yield* truncate
      yield* sql`CREATE TABLE IF NOT EXISTS test_insert_statements (n integer NOT NULL)`
      yield* sql`TRUNCATE test_insert_statements`
      yield* sql`INSERT INTO test_insert_statements VALUES (0)`
      yield* sql`
        CREATE OR REPLACE FUNCTION test_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE test_insert_statements SET n = n + 1; RETURN NULL; END $$`
      yield* sql`
        CREATE OR REPLACE TRIGGER test_count_insert AFTER INSERT ON foreman_researches
        FOR EACH STATEMENT EXECUTE FUNCTION test_count_insert()`

      // The table locked from another connection holds the first batch in its reads, while the
      // other triggers queue behind it.
      const release = yield* Deferred.make<void>()
      const locked = yield* Deferred.make<void>()
      const holder = yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`LOCK TABLE foreman_researches IN ACCESS EXCLUSIVE MODE`
        yield* Deferred.succeed(locked, undefined)
        yield* Deferred.await(release)
      })).pipe(Effect.fork)
      yield* Deferred.await(locked)
      const n = 20
      const triggers = yield* Effect.forEach(
        Array.from({ length: n }, (_, i) => i),
        (i) => coordinator.trigger({ brief: `research ${i}`, force: true }),
        { concurrency: "unbounded" }
      ).pipe(Effect.fork)
      yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.pipe(
        Effect.repeat({ schedule: Schedule.spaced("10 millis"), until: ([row]) => (row?.n ?? 0) > 0 })
      )
      const [held] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
        WHERE l.locktype = 'advisory' AND d.datname = current_database()
        AND ((l.classid::bigint << 32) | l.objid::bigint) = ${TRIGGER_LOCK}`
      assert.strictEqual(held!.n, 0, "a batch being decided holds no trigger lock")

      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      const admitted = yield* Fiber.join(triggers)
      assert.strictEqual(new Set(admitted.map((r) => r.id)).size, n)
      const [stored] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM foreman_researches`
      assert.strictEqual(stored!.n, n)
      const [statements] = yield* sql<{ n: number }>`SELECT n FROM test_insert_statements`
      assert.isAtMost(statements!.n, 2, `${n} triggers in at most two batches (the first held in its reads, the rest queued behind it)`)
      yield* sql`DROP TRIGGER test_count_insert ON foreman_researches`
    }).pipe(Effect.scoped, Effect.provide(Layer.fresh(engine(url, { config: { dailyBudgetUsd: 0 } }))), quiet))

  it.live("two processes admitting at once admit no more than the capacity between them", () =>
    Effect.gen(function*() {
      const options = { config: { dailyBudgetUsd: 0, maxConcurrentResearches: 5 } }
      const a = yield* Layer.build(Layer.fresh(engine(url, options)))
      yield* truncate.pipe(Effect.provide(a))
      const b = yield* Layer.build(Layer.fresh(replica(url, Context.get(a, WorkerTransport.WorkerTransport), options)))
      const each = (context: Context.Context<Coordinator.Coordinator>, name: string) =>
        Effect.forEach(
          Array.from({ length: 20 }, (_, i) => i),
          (i) => Effect.either(Context.get(context, Coordinator.Coordinator).trigger({ brief: `${name} ${i}` })),
          { concurrency: "unbounded" }
        )
      const [fromA, fromB] = yield* Effect.all([each(a, "a"), each(b, "b")], { concurrency: 2 })
      const answers = [...fromA, ...fromB]
      assert.strictEqual(answers.filter(Either.isRight).length, 5, "the capacity, and no more")
      assert.deepStrictEqual(new Set(answers.flatMap((x) => Either.isLeft(x) ? [x.left._tag] : [])), new Set(["AtCapacity"]))
      const sql = Context.get(a, SqlClient.SqlClient)
      const [stored] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM foreman_researches`
      assert.strictEqual(stored!.n, 5)
    }).pipe(Effect.scoped, quiet))
})
