/**
 * The shared daily LLM budget. The window is the UTC day; a limit of 0 means
 * unlimited and is reported with nulls (never Infinity) so it serialises as JSON.
 */
import { Clock, Context, DateTime, Effect, Layer, Schema } from "effect"
import { BudgetLedger } from "./BudgetLedger.js"
import type { BudgetEntry } from "./Domain.js"
import type { StorageError } from "./Errors.js"
import { ForemanConfig } from "./ForemanConfig.js"

const DAY = 86_400_000

/** Today's budget as reported (limit 0 = unlimited, with nulls so it serialises as JSON). */
export const BudgetStatus = Schema.Struct({
  /** The UTC day, `YYYY-MM-DD`. */
  day: Schema.String,
  unlimited: Schema.Boolean,
  limitUsd: Schema.Number,
  spentUsd: Schema.Number,
  /** Null when unlimited. */
  remainingUsd: Schema.NullOr(Schema.Number),
  estimateUsd: Schema.Number,
  /** `floor(remaining / estimate)`; null when unlimited. */
  cyclesAffordable: Schema.NullOr(Schema.Number),
  /** Whether a new cycle's estimate fits in what remains. */
  canAfford: Schema.Boolean
})
export type BudgetStatus = typeof BudgetStatus.Type

/** The budget: what the coordinator checks before a trigger and charges after each LLM call. */
export interface BudgetShape {
  /** Today's spending against the daily limit, and whether a new cycle fits. */
  readonly status: () => Effect.Effect<BudgetStatus, StorageError>
  /** Charges one LLM call; charging the same job twice counts once. */
  readonly charge: (entry: BudgetEntry) => Effect.Effect<void, StorageError>
}

/** The budget service. */
export class Budget extends Context.Tag("@foreman/core/Budget")<Budget, BudgetShape>() {}

const round = (usd: number): number => Math.round(usd * 1e6) / 1e6

/** Builds the budget over the ledger and the configured daily limit and cycle estimate. */
export const make = Effect.gen(function*() {
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

  const charge = (entry: BudgetEntry) => ledger.record(entry)

  return Budget.of({ status, charge })
})

/** The budget, over the ledger and the configuration. */
export const layer: Layer.Layer<Budget, never, BudgetLedger | ForemanConfig> = Layer.effect(Budget, make)
