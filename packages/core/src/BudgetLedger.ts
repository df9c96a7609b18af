/** Port: the ledger of charged LLM calls, one entry per call (a job's calls numbered from 0). */
import type { Effect } from "effect"
import { Context } from "effect"
import type { BudgetEntry, ResearchId } from "./Domain.js"
import type { StorageError } from "./Errors.js"

/** What one research has been charged in total. */
export interface CycleCost {
  readonly researchId: ResearchId
  readonly amountUsd: number
}

export interface BudgetLedgerShape {
  /** Records a charge; a second entry for the same job and call is ignored. */
  readonly record: (entry: BudgetEntry) => Effect.Effect<void, StorageError>
  /** Total charged in `[from, to)`, simulated calls included. */
  readonly spentBetween: (from: number, to: number) => Effect.Effect<number, StorageError>
  /**
   * Of that total, what simulated calls (`simulated`, the offline agents') were
   * charged. Optional: without it the budget sums `entriesBetween`.
   */
  readonly simulatedBetween?: (from: number, to: number) => Effect.Effect<number, StorageError>
  /** Every call charged in `[from, to)`, by time. */
  readonly entriesBetween: (from: number, to: number) => Effect.Effect<ReadonlyArray<BudgetEntry>, StorageError>
  /** Every call charged to one research, in the order charged (by time, then job id and call). */
  readonly entriesOf: (researchId: ResearchId) => Effect.Effect<ReadonlyArray<BudgetEntry>, StorageError>
  /**
   * The total charged to each of the `limit` researches charged most recently,
   * newest first: by their latest charge, ties by research id, descending.
   */
  readonly recentCycleCosts: (limit: number) => Effect.Effect<ReadonlyArray<CycleCost>, StorageError>
  /**
   * The same, among the researches that are not pending or running (finished,
   * or not stored), in one read: for a ledger kept beside the researches.
   * Optional: without it the budget reads `recentCycleCosts` and asks
   * `Researches.activeAmong` which of them are active (more of them while too
   * many are).
   */
  readonly recentFinishedCycleCosts?: (limit: number) => Effect.Effect<ReadonlyArray<CycleCost>, StorageError>
}

export class BudgetLedger extends Context.Tag("@foreman/core/BudgetLedger")<BudgetLedger, BudgetLedgerShape>() {}
