/**
 * One research's page: its facts, timeline and results, Cancel, and the form
 * to trigger the research its assessment suggests.
 *
 * `researchViews` refers to nothing outside itself but JavaScript's built-ins
 * and the pieces it is given (types aside): the page ships its source text
 * (see `views.ts`).
 */
import type { Coordinator } from "@foreman/core"
import type { MetricViews } from "./metricViews.js"
import type { ResultViews } from "./resultViews.js"
import type { TimelineViews } from "./timelineViews.js"
import type { ViewParts } from "./viewParts.js"

export function researchViews(parts: ViewParts, timeline: TimelineViews, results: ResultViews & MetricViews) {
  const { esc, usd, pct, duration, stamp, badge, bar, triggerForm, researchLink, verdict } = parts
  const { waterfall } = timeline
  const { gatesTable, metricsTable, resultCharts, llmTable, assessmentBlock } = results

  /** Next to a research's cost: how much of it the offline agents' simulated calls were charged, if any. */
  const simulatedCost = (detail: Coordinator.ResearchDetail): string => {
    const simulated = detail.llmCalls.reduce((sum, c) => c.simulated === true ? sum + c.costUsd : sum, 0)
    return simulated <= 0 ? "" : ` <span class="simulated">(${
      simulated >= detail.research.costUsd - 1e-9 ? "simulated" : `${usd(simulated)} simulated`
    }: offline agents, no model called; counted against the budget)</span>`
  }

  /** The researches that follow this one's assessment: a row each, or a line saying there are none. */
  const children = (followers: Coordinator.ResearchDetail["children"]): string =>
    followers.length === 0
      ? `<p class="empty">No research follows this one's assessment yet.</p>`
      : `<table><thead><tr><th>Research</th><th>Status</th><th>Verdict</th><th>Brief</th></tr></thead><tbody>${
        followers.map((c) =>
          `<tr data-research="${esc(c.id)}"><td>${researchLink(c.id)}</td><td>${badge(c.status)}</td><td>${verdict(c)}</td>` +
          `<td class="brief" title="${esc(c.brief)}">${esc(c.brief.length > 80 ? `${c.brief.slice(0, 79)}…` : c.brief)}</td></tr>`
        ).join("")
      }</tbody></table>`

  const researchDetail = (detail: Coordinator.ResearchDetail, now: number): string => {
    const r = detail.research
    const a = r.results["assessment"] as { nextBrief?: string } | undefined
    const facts = [
      ["Status", badge(r.status)],
      ["Follows", r.parentId === null ? "– (triggered by hand)" : researchLink(r.parentId)],
      ["Phase", esc(r.phase)],
      ["Progress", `${bar(detail.progress)} ${pct(detail.progress)}`],
      ["Strategy", esc(r.strategy?.name ?? "–")],
      ["Cost", usd(r.costUsd) + simulatedCost(detail)],
      ["Created", `${stamp(r.createdAt)} UTC`],
      ["Took", r.finishedAt === null ? `${duration(now - r.createdAt)} so far` : duration(r.finishedAt - r.createdAt)],
      ["Waiting for", r.waitingFor === null ? "–" : `<span class="wait">${esc(r.waitingFor.workerType)} worker for ${duration(now - r.waitingFor.since)}</span>`],
      ["Model", esc(r.model ?? "default")],
      ["Options", [r.forced ? "forced" : "", r.bypassGates ? "gates bypassed" : ""].filter((s) => s !== "").join(", ") || "–"]
    ]
    const cancellable = r.status === "pending" || r.status === "running"
    return `<div data-part="head"><div class="research-head"><h1><span class="mono">${esc(r.id)}</span> ${badge(r.status)}</h1>` +
      `<div class="actions">${cancellable ? `<button type="button" class="danger" id="cancel" data-cancel="${esc(r.id)}">Cancel</button>` : ""}</div></div>` +
      `<p class="brief-full">${esc(r.brief)}</p>` +
      (r.error === null ? "" : `<p class="error">${esc(r.error)}</p>`) +
      `<dl class="facts">${facts.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join("")}</dl></div>` +
      `<section><h2>Timeline</h2><div data-part="timeline">${waterfall(detail, now)}</div></section>` +
      `<div data-part="results"><div class="grid2"><section><h2>Gates</h2>${gatesTable(r)}</section><section><h2>Metrics</h2>${metricsTable(r)}</section></div>${resultCharts(r)}` +
      `<section><h2>Assessment</h2>${assessmentBlock(r)}</section>` +
      `<section><h2>LLM calls</h2>${llmTable(detail.llmCalls)}</section></div>` +
      `<section data-part="children"><h2>Followed by</h2>${children(detail.children)}</section>` +
      `<section><h2>Trigger another</h2>${triggerForm(a?.nextBrief ?? r.brief, a?.nextBrief === undefined ? undefined : r.id)}</section>`
  }

  return { researchDetail }
}
