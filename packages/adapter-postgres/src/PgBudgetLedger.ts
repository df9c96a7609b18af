/** The budget ledger in PostgreSQL: one row per charged job, its moment a `timestamptz`. */
import { PgClient } from "@effect/sql-pg"
import { BudgetLedger } from "@foreman/core"
import { Effect, Layer } from "effect"
import { toDate } from "./internal/rows.js"
import { storage } from "./internal/storage.js"

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
      ))
  })
})

export const layer: Layer.Layer<BudgetLedger.BudgetLedger, never, PgClient.PgClient> = Layer.effect(
  BudgetLedger.BudgetLedger,
  make
)
