/**
 * The shared daily LLM budget. The window is the UTC day; a limit of 0 means
 * unlimited and is reported with nulls (never Infinity) so it serialises as JSON.
 * A trigger needs a cycle's estimate left, learned from the ledger's recent
 * cycles; researches already running may finish past the limit.
 */
import { Clock, Context, DateTime, Effect, Layer, Schema } from "effect"
import { BudgetLedger, type CycleCost } from "./BudgetLedger.js"
import { CoordinatorEvents } from "./CoordinatorEvents.js"
import type { BudgetEntry, ResearchId } from "./Domain.js"
import type { StorageError } from "./Errors.js"
import { ForemanConfig } from "./ForemanConfig.js"
import { Researches } from "./Researches.js"

const DAY = 86_400_000

/** Today's budget as reported (limit 0 = unlimited, with nulls so it serialises as JSON). */
export const BudgetStatus = Schema.Struct({
  /** The UTC day, `YYYY-MM-DD`. */
  day: Schema.String,
  unlimited: Schema.Boolean,
  limitUsd: Schema.Number,
  /** Charged today, the offline agents' simulated calls included. */
  spentUsd: Schema.Number,
  /**
   * Of `spentUsd`, what the offline agents' simulated calls were charged (no
   * model was called; they count against the budget so a demo exercises its rules).
   */
  simulatedUsd: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  /** Null when unlimited. */
  remainingUsd: Schema.NullOr(Schema.Number),
  /** What a new cycle is expected to cost: learned from recent cycles, else configured (see `make`). */
  estimateUsd: Schema.Number,
  /** `floor(remaining / estimate)`; null when unlimited. */
  cyclesAffordable: Schema.NullOr(Schema.Number),
  /** Whether a new cycle's estimate fits in what remains. */
  canAfford: Schema.Boolean
})
export type BudgetStatus = typeof BudgetStatus.Type

/** Today's spending over time: the spend at the end of each minute something was charged, cumulative. */
export const BudgetDay = Schema.Struct({
  /** The UTC day, `YYYY-MM-DD`. */
  day: Schema.String,
  /** Null when unlimited. */
  limitUsd: Schema.NullOr(Schema.Number),
  /** Charged today, the offline agents' simulated calls included. */
  spentUsd: Schema.Number,
  /** Of `spentUsd`, what the offline agents' simulated calls were charged. */
  simulatedUsd: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  points: Schema.Array(Schema.Struct({ at: Schema.Number, spentUsd: Schema.Number }))
})
export type BudgetDay = typeof BudgetDay.Type

const MINUTE = 60_000

/** The budget: what the coordinator checks before a trigger and charges after each LLM call. */
export interface BudgetShape {
  /** Today's spending against the daily limit, and whether a new cycle fits. */
  readonly status: () => Effect.Effect<BudgetStatus, StorageError>
  /**
   * What is left of today's budget, as `status` answers it (`remainingUsd`:
   * null when unlimited), without the cycle's estimate, which reads the
   * recent cycles and whether their researches are still active.
   */
  readonly remaining: () => Effect.Effect<number | null, StorageError>
  /** Charges one LLM call; charging the same call of a job twice counts once. */
  readonly charge: (entry: BudgetEntry) => Effect.Effect<void, StorageError>
  /** Today's spending minute by minute. */
  readonly today: () => Effect.Effect<BudgetDay, StorageError>
  /** The LLM calls charged to one research, in the order charged. */
  readonly charges: (researchId: ResearchId) => Effect.Effect<ReadonlyArray<BudgetEntry>, StorageError>
  /** Every LLM call charged in `[from, to)`, by time. */
  readonly chargesBetween: (from: number, to: number) => Effect.Effect<ReadonlyArray<BudgetEntry>, StorageError>
}

/** The budget service. */
export class Budget extends Context.Tag("@foreman/core/Budget")<Budget, BudgetShape>() {}

/** How many finished cycles the learned estimate averages. */
export const LEARNED_CYCLES = 20
/** Below this many finished cycles the configured estimate is used. */
export const MIN_LEARNED_CYCLES = 3

const round = (usd: number): number => Math.round(usd * 1e6) / 1e6

/**
 * Builds the budget over the ledger and the configured daily limit. The cycle
 * estimate is the mean of what each of the `LEARNED_CYCLES` researches charged
 * most recently cost in total, among those no longer active in the store (a
 * running research has not paid for its whole cycle yet); with fewer than
 * `MIN_LEARNED_CYCLES` of them, it is the configured `cycleCostEstimateUsd`.
 * Researches that were never charged do not count.
 */
export const make = Effect.gen(function*() {
  const ledger = yield* BudgetLedger
  const researches = yield* Researches
  const config = yield* ForemanConfig
  const events = yield* CoordinatorEvents

  /** The `LEARNED_CYCLES` finished cycles charged most recently (fewer when there are not as many). */
  const recentFinished: Effect.Effect<ReadonlyArray<CycleCost>, StorageError> =
    ledger.recentFinishedCycleCosts !== undefined
      ? ledger.recentFinishedCycleCosts(LEARNED_CYCLES)
      : Effect.gen(function*() {
        // The most recent cycles, more of them while active ones leave fewer than wanted.
        for (let limit = LEARNED_CYCLES;; limit *= 2) {
          const recent = yield* ledger.recentCycleCosts(limit)
          const active = yield* researches.activeAmong(recent.map((cycle) => cycle.researchId))
          const finished = recent.filter((cycle) => !active.has(cycle.researchId))
          if (finished.length < LEARNED_CYCLES && recent.length === limit) continue
          return finished.slice(0, LEARNED_CYCLES)
        }
      })

  const estimate = Effect.map(recentFinished, (learned) =>
    learned.length < MIN_LEARNED_CYCLES
      ? config.cycleCostEstimateUsd
      : round(learned.reduce((sum, cycle) => sum + cycle.amountUsd, 0) / learned.length))

  /** The start of today (UTC). */
  const todayStart = Effect.map(Clock.currentTimeMillis, (now) => now - (now % DAY))

  /** What was charged today. */
  const spentToday = Effect.flatMap(todayStart, (dayStart) => ledger.spentBetween(dayStart, dayStart + DAY))

  /** What is left of the daily limit after `spent`; null when unlimited. */
  const remainingAfter = (spent: number): number | null =>
    config.dailyBudgetUsd === 0 ? null : round(Math.max(0, config.dailyBudgetUsd - spent))

  /** What was charged for simulations between `from` and `to`. */
  const simulatedBetween = (from: number, to: number) =>
    ledger.simulatedBetween === undefined
      ? Effect.map(
        ledger.entriesBetween(from, to),
        (entries) => entries.reduce((sum, e) => e.simulated === true ? sum + e.costUsd : sum, 0)
      )
      : ledger.simulatedBetween(from, to)

  const status = Effect.fnUntraced(function*() {
    const dayStart = yield* todayStart
    // Three reads that do not depend on each other: at once where storage can (one after
    // another where the caller says so, as the simulation does).
    const [spentRaw, simulatedRaw, estimateUsd] = yield* Effect.all([
      ledger.spentBetween(dayStart, dayStart + DAY),
      simulatedBetween(dayStart, dayStart + DAY),
      estimate
    ], { concurrency: "inherit" })
    const spent = round(spentRaw)
    const simulatedUsd = round(simulatedRaw)
    const day = DateTime.formatIsoDateUtc(DateTime.unsafeMake(dayStart))
    if (config.dailyBudgetUsd === 0) {
      return {
        day,
        unlimited: true,
        limitUsd: 0,
        spentUsd: spent,
        simulatedUsd,
        remainingUsd: null,
        estimateUsd,
        cyclesAffordable: null,
        canAfford: true
      } satisfies BudgetStatus
    }
    const remaining = remainingAfter(spent) ?? 0
    return {
      day,
      unlimited: false,
      limitUsd: config.dailyBudgetUsd,
      spentUsd: spent,
      simulatedUsd,
      remainingUsd: remaining,
      estimateUsd,
      cyclesAffordable: estimateUsd > 0 ? Math.floor(remaining / estimateUsd + 1e-9) : null,
      canAfford: remaining >= estimateUsd
    } satisfies BudgetStatus
  })

  const today = Effect.fnUntraced(function*() {
    const dayStart = yield* todayStart
    const entries = yield* ledger.entriesBetween(dayStart, dayStart + DAY)
    const points: Array<{ at: number; spentUsd: number }> = []
    let spent = 0
    let simulated = 0
    for (const entry of entries) {
      spent += entry.costUsd
      if (entry.simulated === true) simulated += entry.costUsd
      const at = entry.at - (entry.at % MINUTE) + MINUTE
      const last = points[points.length - 1]
      if (last !== undefined && last.at === at) points[points.length - 1] = { at, spentUsd: round(spent) }
      else points.push({ at, spentUsd: round(spent) })
    }
    return {
      day: DateTime.formatIsoDateUtc(DateTime.unsafeMake(dayStart)),
      limitUsd: config.dailyBudgetUsd === 0 ? null : config.dailyBudgetUsd,
      spentUsd: round(spent),
      simulatedUsd: round(simulated),
      points
    } satisfies BudgetDay
  })

  const charge = (entry: BudgetEntry) =>
    Effect.zipRight(
      ledger.record(entry),
      events.publish({
        _tag: "Charged",
        at: entry.at,
        researchId: entry.researchId,
        jobId: entry.jobId,
        model: entry.model,
        costUsd: entry.costUsd
      })
    )

  const remaining = () => Effect.map(spentToday, (spent) => remainingAfter(round(spent)))

  return Budget.of({ status, remaining, today, charge, charges: ledger.entriesOf, chargesBetween: ledger.entriesBetween })
})

/** The budget, over the ledger, the research store (which researches are active), the configuration and the events. */
export const layer: Layer.Layer<Budget, never, BudgetLedger | Researches | ForemanConfig | CoordinatorEvents> = Layer.effect(
  Budget,
  make
)
