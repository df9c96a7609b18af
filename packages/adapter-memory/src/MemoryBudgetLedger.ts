/**
 * In-memory budget ledger: one entry per LLM call. Entries are kept in time order
 * with running totals, so the spend of any window is two binary searches;
 * each research's total and latest charge are kept beside them, most recent
 * first, so the recent cycles are a slice.
 */
import { BudgetLedger, type Domain } from "@foreman/core"
import { Effect, Layer } from "effect"
import { lowerBound } from "./internal/lowerBound.js"

/** By time, then job id (by code unit) and call: the order PostgreSQL's ledger lists them in. */
const inChargeOrder = (a: Domain.BudgetEntry, b: Domain.BudgetEntry): number =>
  a.at - b.at || (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0) || a.call - b.call

interface Cycle {
  readonly researchId: Domain.ResearchId
  readonly amountUsd: number
  readonly latest: number
}

/** Latest charge first, then research id descending: the order PostgreSQL's ledger lists cycles in. */
const mostRecentFirst = (a: Cycle, b: Cycle): number =>
  b.latest - a.latest || (a.researchId < b.researchId ? 1 : a.researchId > b.researchId ? -1 : 0)

export const make = Effect.sync(() => {
  /** `jobId/call` of every entry. */
  const charged = new Set<string>()
  const entries = new Map<Domain.ResearchId, Array<Domain.BudgetEntry>>()
  const times: Array<number> = []
  /** The entries, in the order of `times`. */
  const ordered: Array<Domain.BudgetEntry> = []
  /** `totals[i]` is the sum of the first `i` entries. */
  const totals: Array<number> = [0]
  /** `simulatedTotals[i]` is the sum of the simulated ones among them. */
  const simulatedTotals: Array<number> = [0]
  const cycles = new Map<Domain.ResearchId, Cycle>()
  /** The values of `cycles`, most recent first. */
  const recent: Array<Cycle> = []

  /** Index of the first cycle `cycle` comes before (or is) in `recent`. */
  const placeOf = (cycle: Cycle): number => lowerBound(recent.length, (i) => mostRecentFirst(recent[i]!, cycle) < 0)

  /** Index of the first entry at or after `at`. */
  const firstAtOrAfter = (at: number): number => lowerBound(times.length, (i) => times[i]! < at)

  return BudgetLedger.BudgetLedger.of({
    record: (entry) =>
      Effect.sync(() => {
        const key = `${entry.jobId}/${entry.call}`
        if (charged.has(key)) return
        charged.add(key)
        const own = entries.get(entry.researchId)
        if (own === undefined) entries.set(entry.researchId, [entry])
        else own.push(entry)
        const i = firstAtOrAfter(entry.at + 1)
        times.splice(i, 0, entry.at)
        ordered.splice(i, 0, entry)
        totals.splice(i + 1, 0, totals[i]! + entry.costUsd)
        for (let j = i + 2; j < totals.length; j++) totals[j] = totals[j]! + entry.costUsd
        const simulated = entry.simulated === true ? entry.costUsd : 0
        simulatedTotals.splice(i + 1, 0, simulatedTotals[i]! + simulated)
        if (simulated > 0) for (let j = i + 2; j < simulatedTotals.length; j++) simulatedTotals[j] = simulatedTotals[j]! + simulated
        const cycle = cycles.get(entry.researchId)
        if (cycle !== undefined) recent.splice(placeOf(cycle), 1)
        const next: Cycle = cycle === undefined
          ? { researchId: entry.researchId, amountUsd: entry.costUsd, latest: entry.at }
          : { researchId: entry.researchId, amountUsd: cycle.amountUsd + entry.costUsd, latest: Math.max(cycle.latest, entry.at) }
        cycles.set(entry.researchId, next)
        recent.splice(placeOf(next), 0, next)
      }),
    entriesBetween: (from, to) =>
      Effect.sync(() => ordered.slice(firstAtOrAfter(from), firstAtOrAfter(to)).sort(inChargeOrder)),
    entriesOf: (researchId) => Effect.sync(() => (entries.get(researchId) ?? []).slice().sort(inChargeOrder)),
    spentBetween: (from, to) => Effect.sync(() => totals[firstAtOrAfter(to)]! - totals[firstAtOrAfter(from)]!),
    simulatedBetween: (from, to) =>
      Effect.sync(() => simulatedTotals[firstAtOrAfter(to)]! - simulatedTotals[firstAtOrAfter(from)]!),
    recentCycleCosts: (limit) =>
      Effect.sync(() => recent.slice(0, Math.max(0, limit)).map(({ amountUsd, researchId }) => ({ researchId, amountUsd })))
  })
})

export const layer: Layer.Layer<BudgetLedger.BudgetLedger> = Layer.effect(BudgetLedger.BudgetLedger, make)
