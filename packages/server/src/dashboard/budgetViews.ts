/**
 * Today's budget, for the overview page: what is spent and left, what a
 * cycle costs, and the day's cumulative spending against the limit as an SVG.
 *
 * `budgetViews` refers to nothing outside itself but JavaScript's built-ins
 * and the pieces it is given (types aside): the page ships its source text
 * (see `views.ts`).
 */
import type { Coordinator } from "@foreman/core"
import type { BudgetDayView } from "./viewData.js"
import type { ViewParts } from "./viewParts.js"

export function budgetViews(parts: ViewParts) {
  const { esc, usd, two } = parts

  const DAY = 86_400_000

  /** Today's cumulative spending over the UTC day against the limit, as an SVG. */
  const burnChart = (budget: BudgetDayView, now: number): string => {
    const w = 640, h = 200, left = 52, right = 24, top = 12, bottom = 26
    const dayStart = Date.parse(`${budget.day}T00:00:00Z`)
    const max = Math.max(budget.limitUsd ?? 0, budget.spentUsd, 0.01) * 1.1
    const x = (at: number) => left + ((Math.min(Math.max(at, dayStart), dayStart + DAY) - dayStart) / DAY) * (w - left - right)
    const y = (v: number) => top + (1 - v / max) * (h - top - bottom)
    const end = Math.min(now, dayStart + DAY)
    let d = `M${x(dayStart).toFixed(1)},${y(0).toFixed(1)}`
    let last = 0
    for (const p of budget.points) {
      d += ` H${x(p.at).toFixed(1)} V${y(p.spentUsd).toFixed(1)}`
      last = p.spentUsd
    }
    d += ` H${x(end).toFixed(1)}`
    const area = `${d} V${y(0).toFixed(1)} Z`
    const hours = [0, 6, 12, 18, 24].map((hr) => {
      const px = x(dayStart + hr * 3_600_000).toFixed(1)
      return `<line x1="${px}" x2="${px}" y1="${top}" y2="${h - bottom}" class="grid"/>` +
        `<text x="${px}" y="${h - 8}" text-anchor="middle">${two(hr % 24 === 0 && hr > 0 ? 24 : hr)}:00</text>`
    }).join("")
    const levels = [0, 0.5, 1].map((f) => {
      const v = (max / 1.1) * f
      return `<line x1="${left}" x2="${w - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>` +
        `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${usd(v)}</text>`
    }).join("")
    const limit = budget.limitUsd === null ? "" :
      `<line class="limit" x1="${left}" x2="${w - right}" y1="${y(budget.limitUsd).toFixed(1)}" y2="${y(budget.limitUsd).toFixed(1)}"/>` +
      `<text class="limit-label" x="${w - right - 4}" y="${(y(budget.limitUsd) - 5).toFixed(1)}" text-anchor="end">limit ${usd(budget.limitUsd)}</text>`
    const nowX = x(end).toFixed(1)
    return `<svg class="burn" viewBox="0 0 ${w} ${h}" role="img" aria-label="Spending today: ${esc(usd(budget.spentUsd))}${budget.limitUsd === null ? "" : ` of ${esc(usd(budget.limitUsd))}`}">` +
      `${hours}${levels}<path class="area" d="${area}"/><path class="line" d="${d}"/>${limit}` +
      `<line class="now" x1="${nowX}" x2="${nowX}" y1="${top}" y2="${h - bottom}"/>` +
      `<circle class="dot" cx="${nowX}" cy="${y(last).toFixed(1)}" r="3.5"/></svg>`
  }

  const budgetSection = (status: Coordinator.CoordinatorStatus, budget: BudgetDayView | null, now: number): string => {
    const b = status.budget
    // The offline agents' calls count against the budget: say so next to the figure that includes them.
    const simulated = b.simulatedUsd > 0
      ? ` <span class="simulated">(${
        b.simulatedUsd >= b.spentUsd - 1e-9 ? "all" : `${usd(b.simulatedUsd)} of it`
      } simulated by the offline agents: no model was called; counted against the budget)</span>`
      : ""
    const summary = `<p class="budget-summary"><b>${usd(b.spentUsd)}</b> spent on ${esc(b.day)} (UTC)${simulated} · ${
      b.unlimited ? "no daily limit" : `<b>${usd(b.remainingUsd)}</b> remaining of ${usd(b.limitUsd)}`
    } · a cycle costs about ${usd(b.estimateUsd)}${b.cyclesAffordable === null ? "" : ` (${b.cyclesAffordable} more affordable)`}</p>`
    return `<section id="budget"><h2>Budget today</h2>${summary}<div id="burn">${
      budget === null ? "<p class=\"muted\">Loading the day's spending…</p>" : burnChart(budget, now)
    }</div></section>`
  }

  return { budgetSection, burnChart }
}

/** What `budgetViews` answers. */
export type BudgetViews = ReturnType<typeof budgetViews>
