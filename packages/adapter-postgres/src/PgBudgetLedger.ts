/** The budget ledger in PostgreSQL: one row per charged job, its moment a `timestamptz`. */
import { PgClient } from "@effect/sql-pg"
import { BudgetLedger, Domain } from "@foreman/core"
import { Effect, Layer, Schema } from "effect"
import { decode, toDate } from "./internal/rows.js"
import { storage } from "./internal/storage.js"

/** One research's total, as `recentCycleCosts` selects it. */
const decodeCycleCosts = decode(Schema.Array(Schema.Struct({
  research_id: Domain.BudgetEntry.fields.researchId,
  amount_usd: Domain.BudgetEntry.fields.amountUsd
})))

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  return BudgetLedger.BudgetLedger.of({
    record: (e) =>
      storage(Effect.asVoid(sql`
        INSERT INTO foreman_budget (job_id, research_id, model, input_tokens, output_tokens, amount_usd, at)
        VALUES (${e.jobId}, ${e.researchId}, ${e.model}, ${e.inputTokens}, ${e.outputTokens}, ${e.amountUsd}, ${toDate(e.at)})
        ON CONFLICT (job_id) DO NOTHING`)),
    spentBetween: (from, to) =>
      storage(Effect.map(
        sql<{ total: number }>`
          SELECT coalesce(sum(amount_usd), 0)::float8 AS total FROM foreman_budget
          WHERE at >= ${toDate(from)} AND at < ${toDate(to)}`,
        (rows) => rows[0]?.total ?? 0
      )),
    // `COLLATE "C"` breaks ties by code unit, as the memory ledger does.
    recentCycleCosts: (limit) =>
      storage(Effect.map(
        Effect.flatMap(
          sql`
            SELECT research_id, sum(amount_usd)::float8 AS amount_usd FROM foreman_budget
            GROUP BY research_id
            ORDER BY max(at) DESC, research_id COLLATE "C" DESC
            LIMIT ${Math.max(0, limit)}`,
          decodeCycleCosts
        ),
        (rows) => rows.map((row) => ({ researchId: row.research_id, amountUsd: row.amount_usd }))
      ))
  })
})

export const layer: Layer.Layer<BudgetLedger.BudgetLedger, never, PgClient.PgClient> = Layer.effect(
  BudgetLedger.BudgetLedger,
  make
)
