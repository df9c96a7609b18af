/**
 * One research's page: its facts, a timeline of its phases and jobs (waits
 * and runs on one time axis), its gates, metrics, assessment and LLM calls,
 * Cancel, and the form to trigger the research its assessment suggests.
 *
 * `researchViews` refers to nothing outside itself but JavaScript's built-ins
 * and the parts it is given (types aside), since the page ships its source
 * text (see `views.ts`).
 */
import type { Coordinator, Domain } from "@foreman/core"
import type { ViewParts } from "./viewParts.js"

export function researchViews(parts: ViewParts) {
  const { esc, usd, pct, duration, clock, stamp, badge, bar, empty, verdict, isFinished, triggerForm } = parts

  const jobEnd = (job: Domain.Job, research: Domain.Research, now: number): number =>
    job.finishedAt ?? (isFinished(job.status) ? job.updatedAt : research.finishedAt ?? now)

  /** Phases and jobs on one time axis: each job's wait (hatched) and run, labelled with kind, worker and status. */
  const waterfall = (detail: Coordinator.ResearchDetail, now: number): string => {
    const r = detail.research
    const jobs = detail.jobs
    const start = Math.min(r.createdAt, ...jobs.map((j) => j.queuedSince ?? j.createdAt))
    const end = Math.max(r.finishedAt ?? now, ...jobs.map((j) => jobEnd(j, r, now)), start + 1000)
    const w = 1100, labelW = 270, right = 20, rowH = 26, top = 24
    const phases: Array<string> = []
    for (const j of jobs) if (!phases.includes(j.phase)) phases.push(j.phase)
    const rows: Array<{ kind: "phase"; phase: string } | { kind: "job"; job: Domain.Job }> = []
    for (const phase of phases) {
      rows.push({ kind: "phase", phase })
      for (const job of jobs) if (job.phase === phase) rows.push({ kind: "job", job })
    }
    const h = top + Math.max(1, rows.length) * rowH + 8
    const x = (t: number) => labelW + ((t - start) / (end - start)) * (w - labelW - right)
    const span = end - start
    const step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600].map((s) => s * 1000)
      .find((s) => span / s <= 8) ?? 43_200_000
    const ticks: Array<string> = []
    for (let t = 0; t <= span; t += step) {
      const px = x(start + t).toFixed(1)
      ticks.push(`<line class="grid" x1="${px}" x2="${px}" y1="${top - 6}" y2="${h - 4}"/><text x="${px}" y="${top - 10}" text-anchor="middle">+${duration(t)}</text>`)
    }
    const body = rows.map((row, i) => {
      const y = top + i * rowH
      if (row.kind === "phase") {
        const inPhase = jobs.filter((j) => j.phase === row.phase)
        const from = Math.min(...inPhase.map((j) => j.queuedSince ?? j.createdAt))
        const to = Math.max(...inPhase.map((j) => jobEnd(j, r, now)))
        return `<g class="phase-row"><text class="phase-label" x="8" y="${y + 17}">${esc(row.phase)}</text>` +
          `<rect class="phase-span" x="${x(from).toFixed(1)}" y="${y + 9}" width="${Math.max(2, x(to) - x(from)).toFixed(1)}" height="8" rx="2"/></g>`
      }
      const job = row.job
      const queued = job.queuedSince
      const runTo = jobEnd(job, r, now)
      const wait = queued !== undefined && queued < job.createdAt
        ? `<rect class="wait" x="${x(queued).toFixed(1)}" y="${y + 5}" width="${Math.max(1, x(job.createdAt) - x(queued)).toFixed(1)}" height="16"><title>waited ${esc(duration(job.createdAt - queued))} for a ${esc(job.workerType ?? "")} worker</title></rect>`
        : ""
      const label = `${job.kind} · ${job.workerId ?? (job.workerType === null ? "in process" : `${job.workerType} worker`)} · ${job.status}`
      return `<g class="job-row" data-job="${esc(job.id)}"><text x="20" y="${y + 17}">${esc(label.length > 38 ? `${label.slice(0, 37)}…` : label)}<title>${esc(label)}</title></text>${wait}` +
        `<rect class="run s-${esc(job.status)}" x="${x(job.createdAt).toFixed(1)}" y="${y + 5}" width="${Math.max(2, x(runTo) - x(job.createdAt)).toFixed(1)}" height="16" rx="2">` +
        `<title>${esc(`${job.kind} attempt ${job.attempt}: ${job.status}, ran ${duration(runTo - job.createdAt)}${job.error === null ? "" : ` (${job.error})`}`)}</title></rect></g>`
    }).join("")
    const legend = `<div class="legend"><span><i class="lg-wait"></i>waiting for a worker</span><span><i class="lg-run s-completed"></i>completed</span>` +
      `<span><i class="lg-run s-running"></i>running</span><span><i class="lg-run s-failed"></i>failed / lost</span><span><i class="lg-run s-cancelled"></i>cancelled</span></div>`
    return `<svg class="waterfall" viewBox="0 0 ${w} ${h}" role="img" aria-label="Timeline of ${esc(r.id)}">${ticks.join("")}${
      rows.length === 0 ? `<text x="${labelW}" y="${top + 17}">No job yet.</text>` : body
    }</svg>${legend}`
  }

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

  const metricValue = (v: unknown): string =>
    typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(4).replace(/0+$/, "").replace(/\.$/, "")) :
    Array.isArray(v) ? v.map((x) => typeof x === "number" ? x.toFixed(3) : String(x)).join(", ") :
    typeof v === "string" ? v : JSON.stringify(v)

  /** The numbers the training and backtest results report. */
  const metricsTable = (research: Domain.Research): string => {
    const rows = Object.entries(research.results)
      .filter(([kind, result]) => kind !== "assessment" && kind !== "design" && typeof result === "object" && result !== null)
      .flatMap(([kind, result]) =>
        Object.entries(result as Record<string, unknown>).map(([name, value]) =>
          `<tr><td>${esc(kind)}</td><td>${esc(name)}</td><td class="num mono">${esc(metricValue(value))}</td></tr>`
        )
      )
    return `<table id="metrics"><thead><tr><th>Result</th><th>Metric</th><th class="num">Value</th></tr></thead><tbody>${
      rows.length === 0 ? empty(3, "No result yet.") : rows.join("")
    }</tbody></table>`
  }

  const llmTable = (calls: ReadonlyArray<Domain.BudgetEntry>): string => {
    const rows = calls.map((c) =>
      `<tr${c.error === null ? "" : " class=\"error-row\""}><td>${clock(c.at)}</td><td class="mono">${esc(c.model)}</td>` +
      `<td class="num">${c.inputTokens}</td><td class="num">${c.outputTokens}</td><td class="num">${c.cachedInputTokens}</td>` +
      `<td class="num">${usd(c.costUsd)}</td><td class="num">${duration(c.latencyMs)}</td><td>${esc(c.error ?? "–")}</td></tr>`
    )
    const cost = calls.reduce((sum, c) => sum + c.costUsd, 0)
    const tokens = calls.reduce((sum, c) => sum + c.inputTokens + c.outputTokens, 0)
    return `<table id="llm"><thead><tr><th>At (UTC)</th><th>Model</th><th class="num">In</th><th class="num">Out</th><th class="num">Cached</th>` +
      `<th class="num">Cost</th><th class="num">Latency</th><th>Error</th></tr></thead><tbody>${
        rows.length === 0 ? empty(8, "No LLM call.") : rows.join("")
      }</tbody>${calls.length === 0 ? "" : `<tfoot><tr><td colspan="2">${calls.length} call${calls.length === 1 ? "" : "s"}</td><td colspan="3" class="num">${tokens} tokens</td><td class="num">${usd(cost)}</td><td colspan="2"></td></tr></tfoot>`}</table>`
  }

  const assessmentBlock = (research: Domain.Research): string => {
    const a = research.results["assessment"] as { verdict?: string; summary?: string; nextBrief?: string } | undefined
    if (a === undefined) return "<p class=\"muted\" id=\"assessment\">Not assessed yet.</p>"
    return `<div id="assessment"><p>${verdict(research)}</p><p>${esc(a.summary ?? "")}</p>${
      a.nextBrief === undefined ? "" : `<p><b>Next brief:</b> ${esc(a.nextBrief)}</p>`
    }</div>`
  }

  const researchDetail = (detail: Coordinator.ResearchDetail, now: number): string => {
    const r = detail.research
    const a = r.results["assessment"] as { nextBrief?: string } | undefined
    const facts = [
      ["Status", badge(r.status)],
      ["Phase", esc(r.phase)],
      ["Progress", `${bar(detail.progress)} ${pct(detail.progress)}`],
      ["Strategy", esc(r.strategy?.name ?? "–")],
      ["Cost", usd(r.costUsd)],
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
      `<div data-part="results"><div class="grid2"><section><h2>Gates</h2>${gatesTable(r)}</section><section><h2>Metrics</h2>${metricsTable(r)}</section></div>` +
      `<section><h2>Assessment</h2>${assessmentBlock(r)}</section>` +
      `<section><h2>LLM calls</h2>${llmTable(detail.llmCalls)}</section></div>` +
      `<section><h2>Trigger another</h2>${triggerForm(a?.nextBrief ?? r.brief)}</section>`
  }

  return { researchDetail, waterfall }
}
