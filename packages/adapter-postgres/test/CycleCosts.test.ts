/**
 * The budget's cycle estimate reads the ledger's newest entries, not all of
 * them (`foreman_recent_cycle_costs`): its answer is the whole ledger's
 * grouping (checked against that grouping, kept here as the reference, on
 * ledgers with ties, long-lived researches and many active ones), and the
 * entries it reads follow what was charged recently, not how many entries
 * the ledger holds.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { BudgetLedger, type Domain, Researches } from "@foreman/core"
import { TestEngine } from "@foreman/adapter-memory"
import { Effect, Layer } from "effect"
import { beforeAll } from "vitest"
import { createDatabase } from "@foreman/testing/PgDatabase"
import * as Postgres from "../src/Postgres.js"

let databases = 0
const fresh = () => createDatabase(`foreman_cycle_costs_${process.pid}_${++databases}`)
beforeAll(async () => {
  await fresh()
})

const onFreshDatabase = <A, E>(self: Effect.Effect<A, E, SqlClient.SqlClient | Postgres.Ports>) =>
  Effect.flatMap(Effect.promise(fresh), (url) => Effect.provide(self, Postgres.layer({ url }).pipe(Layer.orDie)))

/** What the statement before the function read: the whole ledger grouped. */
const reference = (limit: number, excluded: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ research_id: string; amount_usd: number }>`
      SELECT b.research_id, sum(b.amount_usd)::float8 AS amount_usd FROM foreman_budget b
      WHERE NOT EXISTS (
        SELECT 1 FROM foreman_researches r WHERE r.id = b.research_id AND r.status = ANY(${[...excluded]}::text[]))
      GROUP BY b.research_id
      ORDER BY max(b.at) DESC, b.research_id COLLATE "C" DESC
      LIMIT ${limit}`.pipe(
        Effect.map((rows) => rows.map((row) => ({ researchId: row.research_id as Domain.ResearchId, amountUsd: row.amount_usd })))
      ))

/** Ledger entries written in one statement: research `op_<n>` charged `calls` times from `at` on. */
const charge = (rows: ReadonlyArray<{ readonly n: number; readonly at: number; readonly calls: number; readonly usd: number }>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      INSERT INTO foreman_budget (job_id, call, research_id, model, input_tokens, output_tokens, amount_usd, at)
      SELECT 'job_' || x.n || '_' || x.at || '_' || c, 0, 'op_' || x.n, 'model', 1, 1, x.usd, to_timestamp((x.at + c * x.gap) / 1000.0)
      FROM jsonb_to_recordset(${JSON.stringify(rows.map((r) => ({ ...r, gap: 1 })))}::jsonb)
        AS x(n int, at bigint, calls int, usd float8, gap int),
        generate_series(0, x.calls - 1) AS c`)

/** Stores research `op_<n>` with `status` (a research not stored counts as finished). */
const store = (n: number, status: "pending" | "running" | "completed") =>
  Effect.flatMap(Researches.Researches, (researches) =>
    researches.insert(TestEngine.research(`op_${n}`, { createdAt: n, status })))

describe("the budget's recent cycle costs on PostgreSQL", () => {
  it.live("are the whole ledger's grouping: ties, long-lived researches, many active ones", () =>
    onFreshDatabase(Effect.gen(function*() {
      const ledger = yield* BudgetLedger.BudgetLedger
      // 600 researches; times repeat (every 7th shares its time with the one before), some are
      // charged again much later (long-lived), the newest 300 are mostly active: the window must grow.
      const rows = Array.from({ length: 600 }, (_, n) => ({
        n,
        at: 1_000_000 + Math.floor(n / 7) * 7 * 1000 + (n % 7 === 0 ? 0 : n * 10),
        calls: 1 + (n % 3),
        usd: ((n * 37) % 11) / 8 + 0.125
      }))
      yield* charge(rows)
      yield* charge(Array.from({ length: 40 }, (_, k) => ({ n: k * 13, at: 9_000_000 + k * 5000, calls: 1, usd: 0.5 })))
      for (let n = 300; n < 600; n++) if (n % 10 !== 0) yield* store(n, n % 2 === 0 ? "pending" : "running")
      for (let n = 0; n < 300; n += 3) yield* store(n, "completed")
      for (const limit of [0, 1, 5, 20, 64, 100, 250, 1000]) {
        assert.deepStrictEqual(yield* ledger.recentFinishedCycleCosts!(limit), yield* reference(limit, ["pending", "running"]), `finished, limit ${limit}`)
        assert.deepStrictEqual(yield* ledger.recentCycleCosts(limit), yield* reference(limit, []), `all, limit ${limit}`)
      }
    })))

  it.live("read the newest entries, not the whole ledger", () =>
    onFreshDatabase(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const ledger = yield* BudgetLedger.BudgetLedger
      // Two months of a lab: 50,000 finished researches charged four times each, then 200 active ones.
      yield* charge(Array.from({ length: 50_000 }, (_, n) => ({ n, at: 1_000_000 + n * 20_000, calls: 4, usd: 0.01 })))
      yield* charge(Array.from({ length: 200 }, (_, k) => ({ n: 100_000 + k, at: 2_000_000_000 + k * 1000, calls: 2, usd: 0.02 })))
      for (let k = 0; k < 200; k++) yield* store(100_000 + k, "running")
      yield* sql`ANALYZE foreman_budget`
      const { learned, read } = yield* sql.withTransaction(Effect.gen(function*() {
        const learned = yield* ledger.recentFinishedCycleCosts!(20)
        const [stats] = yield* sql<{ read: number }>`
          SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::int AS read
          FROM pg_stat_xact_user_tables WHERE relname = 'foreman_budget'`
        return { learned, read: stats?.read ?? -1 }
      }))
      assert.deepStrictEqual(learned.map((c) => c.researchId), Array.from({ length: 20 }, (_, k) => `op_${49_999 - k}`))
      assert.deepStrictEqual(learned, yield* reference(20, ["pending", "running"]))
      // The ledger holds 200,400 entries; the newest 400 are the active ones' and 80 more are enough.
      assert.isAbove(read, 0, "the statistics counted the reads")
      assert.isBelow(read, 5_000, `read ${read} ledger entries`)
    })), 120_000)
})
