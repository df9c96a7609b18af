/**
 * One research's results: its gates, its assessment, and the LLM calls it
 * made (its metrics and charts: `metricViews`).
 *
 * `resultViews` refers to nothing outside itself but JavaScript's built-ins
 * and the pieces it is given (types aside): the page ships its source text
 * (see `views.ts`).
 */
import type { Domain } from "@foreman/core"
import type { ViewParts } from "./viewParts.js"

export function resultViews(parts: ViewParts) {
  const { esc, usd, duration, clock, empty, verdict } = parts

  const gatesTable = (research: Domain.Research): string => {
    const rows = Object.entries(research.gates).map(([name, gate]) =>
      `<tr><td>${esc(name)}</td><td>${gate.passed ? "<span class=\"badge s-completed\">passed</span>" : "<span class=\"badge s-failed\">failed</span>"}${
        gate.bypassed ? " <span class=\"badge\">bypassed</span>" : ""
      }</td><td>${esc(gate.reason ?? "–")}</td></tr>`
    )
    return `<table id="gates"><thead><tr><th>Gate</th><th>Outcome</th><th>Reason</th></tr></thead><tbody>${
      rows.length === 0 ? empty(3, "No gate has run yet.") : rows.join("")
    }</tbody></table>`
  }

  const llmTable = (calls: ReadonlyArray<Domain.BudgetEntry>): string => {
    const rows = calls.map((c) =>
      `<tr${c.error === null ? "" : " class=\"error-row\""}><td>${clock(c.at)}</td><td class="mono">${esc(c.model)}${
        c.simulated === true ? " <span class=\"simulated\">simulated</span>" : ""
      }</td>` +
      `<td class="num">${c.inputTokens}</td><td class="num">${c.outputTokens}</td><td class="num">${c.cachedInputTokens}</td>` +
      `<td class="num">${usd(c.costUsd)}</td><td class="num">${duration(c.latencyMs)}</td><td>${esc(c.error ?? "–")}</td></tr>`
    )
    const cost = calls.reduce((sum, c) => sum + c.costUsd, 0)
    const simulated = calls.some((c) => c.simulated === true)
      ? " <span class=\"simulated\">(simulated calls: offline agents, no model called; counted against the budget)</span>"
      : ""
    const tokens = calls.reduce((sum, c) => sum + c.inputTokens + c.outputTokens, 0)
    return `<table id="llm"><thead><tr><th>At (UTC)</th><th>Model</th><th class="num">In</th><th class="num">Out</th><th class="num">Cached</th>` +
      `<th class="num">Cost</th><th class="num">Latency</th><th>Error</th></tr></thead><tbody>${
        rows.length === 0 ? empty(8, "No LLM call.") : rows.join("")
      }</tbody>${calls.length === 0 ? "" : `<tfoot><tr><td colspan="2">${calls.length} call${calls.length === 1 ? "" : "s"}</td><td colspan="3" class="num">${tokens} tokens</td><td class="num">${usd(cost)}</td><td colspan="2">${simulated}</td></tr></tfoot>`}</table>`
  }

  const assessmentBlock = (research: Domain.Research): string => {
    const a = research.results["assessment"] as { verdict?: string; summary?: string; nextBrief?: string } | undefined
    if (a === undefined) return "<p class=\"muted\" id=\"assessment\">Not assessed yet.</p>"
    return `<div id="assessment"><p>${verdict(research)}</p><p>${esc(a.summary ?? "")}</p>${
      a.nextBrief === undefined ? "" : `<p><b>Next brief:</b> ${esc(a.nextBrief)}</p>`
    }</div>`
  }

  return { gatesTable, llmTable, assessmentBlock }
}

/** What `resultViews` answers. */
export type ResultViews = ReturnType<typeof resultViews>
