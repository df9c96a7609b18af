/**
 * The budget ledger in PostgreSQL: one row per charged LLM call, its moment a
 * `timestamptz`. The researches' table is in the same database, so the recent
 * finished cycles (for the budget's estimate) are one read.
 */
import type { Statement } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { BudgetLedger, Domain } from "@foreman/core"
import { Effect, Layer, Schema } from "effect"
import { ACTIVE } from "./internal/researchRows.js"
import { decode, Timestamp, toDate } from "./internal/rows.js"
import { storage } from "./internal/storage.js"

const fields = Domain.BudgetEntry.fields

/** One research's total, as `recentCycleCosts` selects it. */
const decodeCycleCosts = decode(Schema.Array(Schema.Struct({
  research_id: fields.researchId,
  amount_usd: fields.costUsd
})))

const decodeEntries = decode(Schema.Array(Schema.Struct({
  research_id: fields.researchId,
  job_id: fields.jobId,
  call: fields.call,
  model: fields.model,
  input_tokens: fields.inputTokens,
  output_tokens: fields.outputTokens,
  cached_input_tokens: fields.cachedInputTokens,
  amount_usd: fields.costUsd,
  latency_ms: fields.latencyMs,
  error: fields.error,
  simulated: Schema.Boolean,
  at: Timestamp
})))

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient

  /** The entries `where` selects, in the order charged. */
  const entries = (where: Statement.Fragment) =>
    storage(Effect.map(
      Effect.flatMap(
        sql`
          SELECT research_id, job_id, call, model, input_tokens, output_tokens, cached_input_tokens, amount_usd,
            latency_ms, error, simulated, at
          FROM foreman_budget ${where}
          ORDER BY at, job_id COLLATE "C", call`,
        decodeEntries
      ),
      (rows) =>
        rows.map((row) => ({
          researchId: row.research_id,
          jobId: row.job_id,
          call: row.call,
          model: row.model,
          inputTokens: row.input_tokens,
          outputTokens: row.output_tokens,
          cachedInputTokens: row.cached_input_tokens,
          costUsd: row.amount_usd,
          latencyMs: row.latency_ms,
          error: row.error,
          ...(row.simulated ? { simulated: true } : {}),
          at: row.at.getTime()
        }))
    ))

  /**
   * The total charged to each of the `limit` researches charged most recently,
   * leaving out those whose status is in `excluded`; foreman_recent_cycle_costs
   * is defined in src/functions/foreman_recent_cycle_costs.ts (it reads the
   * newest entries, not the whole ledger).
   */
  const cycleCosts = (limit: number, excluded: ReadonlyArray<string>) =>
    storage(Effect.map(
      Effect.flatMap(
        sql`SELECT * FROM foreman_recent_cycle_costs(${Math.max(0, limit)}, ${[...excluded] as Array<string>}::text[])`,
        decodeCycleCosts
      ),
      (rows) => rows.map((row) => ({ researchId: row.research_id, amountUsd: row.amount_usd }))
    ))

  return BudgetLedger.BudgetLedger.of({
    record: (e) =>
      storage(Effect.asVoid(sql`
        INSERT INTO foreman_budget (job_id, call, research_id, model, input_tokens, output_tokens, cached_input_tokens,
          amount_usd, latency_ms, error, simulated, at)
        VALUES (${e.jobId}, ${e.call}, ${e.researchId}, ${e.model}, ${e.inputTokens}, ${e.outputTokens},
          ${e.cachedInputTokens}, ${e.costUsd}, ${e.latencyMs}, ${e.error}, ${e.simulated === true}, ${toDate(e.at)})
        ON CONFLICT (job_id, call) DO NOTHING`)),
    entriesBetween: (from, to) =>
      entries(sql`WHERE at >= ${toDate(from)} AND at < ${toDate(to)}`),
    entriesOf: (researchId) => entries(sql`WHERE research_id = ${researchId}`),
    spentBetween: (from, to) =>
      storage(Effect.map(
        sql<{ total: number }>`
          SELECT coalesce(sum(amount_usd), 0)::float8 AS total FROM foreman_budget
          WHERE at >= ${toDate(from)} AND at < ${toDate(to)}`,
        (rows) => rows[0]?.total ?? 0
      )),
    simulatedBetween: (from, to) =>
      storage(Effect.map(
        sql<{ total: number }>`
          SELECT coalesce(sum(amount_usd), 0)::float8 AS total FROM foreman_budget
          WHERE simulated AND at >= ${toDate(from)} AND at < ${toDate(to)}`,
        (rows) => rows[0]?.total ?? 0
      )),
    recentCycleCosts: (limit) => cycleCosts(limit, []),
    // The researches' table is beside the ledger: the active ones are left out in the same read.
    recentFinishedCycleCosts: (limit) => cycleCosts(limit, ACTIVE)
  })
})

export const layer: Layer.Layer<BudgetLedger.BudgetLedger, never, PgClient.PgClient> = Layer.effect(
  BudgetLedger.BudgetLedger,
  make
)
