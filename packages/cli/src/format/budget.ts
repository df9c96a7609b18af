/** What money figures say: the `agent budget` layout, the budget's one-line summary, and the note on simulated calls. */
import type { Api } from "@foreman/api"
import { usd } from "./text.js"

export type BudgetStatus = typeof Api.BudgetStatus.Type


/**
 * What a figure that includes the offline agents' simulated calls says of
 * them: nothing when none is in it, else that they (all, or how much of it)
 * were simulated, and that they count against the budget all the same.
 */
export const simulatedNote = (totalUsd: number, simulatedUsd: number): string =>
  simulatedUsd <= 0
    ? ""
    : simulatedUsd >= totalUsd - 1e-9
    ? "  (simulated: offline agents, no model called; counts against the budget)"
    : `  (of which ${usd(simulatedUsd)} simulated: offline agents, no model called; counts against the budget)`

/** `$3.42 remaining today`, or that the budget is unlimited; with what was simulated, if anything. */
export const budgetSummary = (budget: BudgetStatus): string =>
  budget.unlimited || budget.remainingUsd === null
    ? `unlimited (${usd(budget.spentUsd)} spent today)${simulatedNote(budget.spentUsd, budget.simulatedUsd)}`
    : `${usd(budget.remainingUsd)} remaining today${
      budget.simulatedUsd > 0 ? ` (${usd(budget.spentUsd)} spent)${simulatedNote(budget.spentUsd, budget.simulatedUsd)}` : ""
    }`

export const budget = (view: BudgetStatus): string => {
  if (view.unlimited || view.remainingUsd === null) {
    return [
      `Budget for ${view.day} (UTC): unlimited`,
      `Spent today:       ${usd(view.spentUsd)}${simulatedNote(view.spentUsd, view.simulatedUsd)}`,
      `Cycle estimate:    ${usd(view.estimateUsd)}`,
      `Cycles affordable: unlimited`
    ].join("\n")
  }
  return [
    `Budget for ${view.day} (UTC): ${usd(view.limitUsd)} a day`,
    `Spent today:       ${usd(view.spentUsd)}${simulatedNote(view.spentUsd, view.simulatedUsd)}`,
    `Remaining:         ${usd(view.remainingUsd)}`,
    `Cycle estimate:    ${usd(view.estimateUsd)}`,
    // No count with a zero cycle estimate: every cycle is free.
    `Cycles affordable: ${view.cyclesAffordable ?? "unlimited"}${view.canAfford ? "" : " (new triggers are refused)"}`
  ].join("\n")
}

