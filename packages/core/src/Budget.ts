/**
 * The shared daily LLM budget. The window is the UTC day; a limit of 0 means
 * unlimited and is reported with nulls (never Infinity) so it serialises as JSON.
 */
import { Clock, DateTime, Effect } from "effect"
import { BudgetLedger } from "./BudgetLedger.js"
import type { BudgetEntry } from "./Domain.js"
import { ForemanConfig } from "./ForemanConfig.js"

const DAY = 86_400_000

export interface BudgetStatus {
  /** The UTC day, `YYYY-MM-DD`. */
  readonly day: string
  readonly unlimited: boolean
  readonly limitUsd: number
  readonly spentUsd: number
  /** Null when unlimited. */
  readonly remainingUsd: number | null
  readonly estimateUsd: number
  /** `floor(remaining / estimate)`; null when unlimited. */
  readonly cyclesAffordable: number | null
  /** Whether a new cycle's estimate fits in what remains. */
  readonly canAfford: boolean
}

const round = (usd: number): number => Math.round(usd * 1e6) / 1e6

export class Budget extends Effect.Service<Budget>()("@foreman/core/Budget", {
  effect: Effect.gen(function*() {
    const ledger = yield* BudgetLedger
    const config = yield* ForemanConfig

    const status = Effect.fnUntraced(function*() {
      const now = yield* Clock.currentTimeMillis
      const dayStart = now - (now % DAY)
      const spent = round(yield* ledger.spentBetween(dayStart, dayStart + DAY))
      const day = DateTime.formatIsoDateUtc(DateTime.unsafeMake(dayStart))
      const estimate = config.cycleCostEstimateUsd
      if (config.dailyBudgetUsd === 0) {
        return {
          day,
          unlimited: true,
          limitUsd: 0,
          spentUsd: spent,
          remainingUsd: null,
          estimateUsd: estimate,
          cyclesAffordable: null,
          canAfford: true
        } satisfies BudgetStatus
      }
      const remaining = round(Math.max(0, config.dailyBudgetUsd - spent))
      return {
        day,
        unlimited: false,
        limitUsd: config.dailyBudgetUsd,
        spentUsd: spent,
        remainingUsd: remaining,
        estimateUsd: estimate,
        cyclesAffordable: estimate > 0 ? Math.floor(remaining / estimate + 1e-9) : null,
        canAfford: remaining >= estimate
      } satisfies BudgetStatus
    })

    /** Charges one LLM call; charging the same job twice counts once. */
    const charge = (entry: BudgetEntry) => ledger.record(entry)

    return { status, charge } as const
  })
}) {}
