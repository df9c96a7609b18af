/**
 * The overview page: the status and budget sections beside the latest
 * completions.
 *
 * `overviewViews` refers to nothing outside itself but JavaScript's built-ins
 * and the pieces it is given (types aside): the page ships its source text
 * (see `views.ts`).
 */
import type { Domain } from "@foreman/core"
import type { BudgetViews } from "./budgetViews.js"
import type { StatusViews } from "./statusViews.js"
import type { OverviewData } from "./viewData.js"
import type { ViewParts } from "./viewParts.js"

export function overviewViews(parts: ViewParts, status: StatusViews, budget: BudgetViews) {
  const { esc, usd, duration, stamp, badge, researchLink, empty, verdict, isFinished } = parts
  const { overviewCards, activeTable, queueTable } = status
  const { budgetSection } = budget

  const recentTable = (recent: ReadonlyArray<Domain.Research>): string => {
    const finished = recent.filter((r) => isFinished(r.status)).slice(0, 8)
    const rows = finished.map((r) =>
      `<tr data-research="${esc(r.id)}"><td>${researchLink(r.id)}</td><td>${badge(r.status)}</td><td>${verdict(r)}</td>` +
      `<td>${esc(r.strategy?.name ?? "–")}</td><td class="num">${usd(r.costUsd)}</td>` +
      `<td>${r.finishedAt === null ? "–" : duration(r.finishedAt - r.createdAt)}</td><td>${stamp(r.finishedAt)}</td></tr>`
    )
    return `<section id="recent"><h2>Recent completions <a class="more" href="researches">all researches →</a></h2>` +
      `<table><thead><tr><th>Research</th><th>Status</th><th>Verdict</th><th>Strategy</th><th class="num">Cost</th><th>Took</th><th>Finished (UTC)</th></tr></thead>` +
      `<tbody>${rows.length === 0 ? empty(7, "No research has finished yet.") : rows.join("")}</tbody></table></section>`
  }

  /** The autopilot, once started: whether it runs or why it stopped. */
  const autopilotLine = (status: OverviewData["status"]): string => {
    const a = status.autopilot
    if (a === undefined) return ""
    const text = a.status === "running"
      ? `running: ${a.running}/${a.keep} of its researches running, ${a.started}${a.max === null ? "" : `/${a.max}`} started`
      : `stopped: ${a.stopMessage ?? "stopped"} (${a.started} started)`
    return `<p class="autopilot" data-autopilot="${esc(a.status)}"><strong>Autopilot</strong> ${esc(text)}</p>`
  }

  const overview = (data: OverviewData): string =>
    `<div data-part="status">${overviewCards(data.status)}${autopilotLine(data.status)}${activeTable(data.status)}</div>` +
    `<div class="grid2"><div data-part="queues">${queueTable(data.status)}</div>` +
    `<div data-part="budget">${budgetSection(data.status, data.budget, data.now)}</div></div>` +
    `<div data-part="recent">${recentTable(data.recent)}</div>`

  return { overview, recentTable }
}
