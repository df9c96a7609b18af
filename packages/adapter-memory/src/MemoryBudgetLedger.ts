/** In-memory budget ledger: one entry per job, summed by time window. */
import { BudgetLedger, type Domain } from "@foreman/core"
import { Effect, Layer } from "effect"

export const make = Effect.sync(() => {
  const entries = new Map<Domain.JobId, Domain.BudgetEntry>()
  return BudgetLedger.BudgetLedger.of({
    record: (entry) =>
      Effect.sync(() => {
        if (!entries.has(entry.jobId)) entries.set(entry.jobId, entry)
      }),
    spentBetween: (from, to) =>
      Effect.sync(() => {
        let total = 0
        for (const e of entries.values()) if (e.at >= from && e.at < to) total += e.amountUsd
        return total
      })
  })
})

export const layer: Layer.Layer<BudgetLedger.BudgetLedger> = Layer.effect(BudgetLedger.BudgetLedger, make)
