/** Port: the ledger of charged LLM calls, one entry per job. */
import type { Effect } from "effect"
import { Context } from "effect"
import type { BudgetEntry } from "./Domain.js"
import type { StorageError } from "./Errors.js"

export interface BudgetLedgerShape {
  /** Records a charge; a second entry for the same job is ignored. */
  readonly record: (entry: BudgetEntry) => Effect.Effect<void, StorageError>
  /** Total charged in `[from, to)`. */
  readonly spentBetween: (from: number, to: number) => Effect.Effect<number, StorageError>
}

export class BudgetLedger extends Context.Tag("@foreman/core/BudgetLedger")<BudgetLedger, BudgetLedgerShape>() {}
