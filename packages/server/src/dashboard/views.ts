/**
 * The dashboard's views: functions from the API's JSON to HTML text. The
 * server renders the first view with them and the browser renders every
 * update with the very same code, so a page looks the same before and after
 * its script runs.
 *
 * Everything lives inside `dashboardViews`, which refers to nothing outside
 * itself but JavaScript's built-ins (types aside): the page ships its source
 * text (`String(dashboardViews)`) to the browser, where it runs as it does on
 * the server. Every string that reaches HTML goes through `esc`. Times are
 * shown in UTC, the same on both sides.
 */
import type { Coordinator, Domain } from "@foreman/core"

/** `GET /api/v1/agent/budget/today`. */
export interface BudgetDayView {
  readonly day: string
  readonly limitUsd: number | null
  readonly spentUsd: number
  readonly points: ReadonlyArray<{ readonly at: number; readonly spentUsd: number }>
}

/** `GET /api/v1/agent/researches`. */
export interface ResearchPageView {
  readonly researches: ReadonlyArray<Domain.Research>
  readonly limit: number
  readonly offset: number
  readonly total: number
  readonly costUsd: number
}

/** The researches page's filter, as the page's query string holds it. */
export interface ResearchFilterView {
  readonly status?: string | undefined
  readonly verdict?: string | undefined
  readonly strategy?: string | undefined
  readonly since?: string | undefined
  readonly until?: string | undefined
  readonly limit?: string | undefined
  readonly offset?: string | undefined
}

export interface OverviewData {
  readonly status: Coordinator.CoordinatorStatus
  /** Null until read (the script reads it when the server could not). */
  readonly budget: BudgetDayView | null
  /** The latest researches, newest first; the finished ones are shown. */
  readonly recent: ReadonlyArray<Domain.Research>
  readonly now: number
}

export interface ResearchesData {
  readonly page: ResearchPageView
  readonly filter: ResearchFilterView
}

export interface WorkersData {
  readonly workers: ReadonlyArray<Coordinator.WorkerActivity>
  /** Active researches, to name what each worker's jobs belong to. */
  readonly active: ReadonlyArray<Coordinator.ActiveResearch>
  readonly now: number
}

export type Views = ReturnType<typeof dashboardViews>

export function dashboardViews() {
  // --- text -------------------------------------------------------------------
  const esc = (value: unknown): string =>
    String(value ?? "").replace(/[&<>"']/g, (c) =>
      c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "\"" ? "&quot;" : "&#39;")

  const usd = (n: number | null | undefined): string =>
    n === null || n === undefined ? "–" : n < 0.01 && n > 0 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`

  const pct = (n: number): string => `${Math.round(n * 100)}%`

  const two = (n: number): string => String(n).padStart(2, "0")

  /** `1h 02m`, `3m 05s`, `12s`. */
  const duration = (ms: number): string => {
    const s = Math.max(0, Math.round(ms / 1000))
    if (s < 60) return `${s}s`
    if (s < 3600) return `${Math.floor(s / 60)}m ${two(s % 60)}s`
    return `${Math.floor(s / 3600)}h ${two(Math.floor((s % 3600) / 60))}m`
  }

  /** `14:05:09` (UTC). */
  const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19)

  /** `2026-12-02 14:05` (UTC). */
  const stamp = (ms: number | null | undefined): string =>
    ms === null || ms === undefined ? "–" : new Date(ms).toISOString().slice(0, 16).replace("T", " ")

  const ago = (ms: number, now: number): string => `${duration(now - ms)} ago`

  const badge = (status: string): string => `<span class="badge s-${esc(status)}">${esc(status)}</span>`

  const bar = (fraction: number): string =>
    `<span class="bar" title="${pct(fraction)}"><span style="width:${Math.max(0, Math.min(100, fraction * 100)).toFixed(1)}%"></span></span>`

  const researchLink = (id: string): string => `<a class="mono" href="researches/${esc(encodeURIComponent(id))}">${esc(id)}</a>`

  const empty = (colspan: number, text: string): string => `<tr><td colspan="${colspan}" class="empty">${esc(text)}</td></tr>`

  const verdictOf = (research: Domain.Research): string | null => {
    const assessment = research.results["assessment"] as { verdict?: unknown } | undefined
    return assessment !== undefined && typeof assessment.verdict === "string" ? assessment.verdict : null
  }

  const verdict = (research: Domain.Research): string => {
    const v = verdictOf(research)
    return v === null ? "<span class=\"muted\">–</span>" : `<span class="badge v-${esc(v)}">${esc(v)}</span>`
  }

  const isFinished = (status: string): boolean => status === "completed" || status === "failed" || status === "cancelled"

  // --- overview ---------------------------------------------------------------

  const card = (title: string, value: string, detail: string, id: string): string =>
    `<div class="card" id="${id}"><div class="card-title">${esc(title)}</div><div class="card-value">${value}</div><div class="card-detail">${detail}</div></div>`

  /** Capacity, workers and budget at a glance. */
  const overviewCards = (status: Coordinator.CoordinatorStatus): string => {
    const types = Object.values(status.workers)
    const busy = types.reduce((sum, t) => sum + t.busy, 0)
    const total = types.reduce((sum, t) => sum + t.total, 0)
    const waiting = status.active.filter((r) => r.waitingFor !== null).length
    const b = status.budget
    return `<div class="cards">${
      card(
        "Capacity",
        `${status.capacity.active}<small> / ${status.capacity.limit}</small>`,
        `${bar(status.capacity.limit === 0 ? 0 : status.capacity.active / status.capacity.limit)} active researches`,
        "card-capacity"
      )
    }${
      card("Worker slots", `${busy}<small> / ${total}</small>`, `${bar(total === 0 ? 0 : busy / total)} busy`, "card-slots")
    }${card("Waiting", String(waiting), "researches waiting for a worker", "card-waiting")}${
      card(
        "Budget today",
        usd(b.spentUsd),
        b.unlimited ? "spent · no daily limit" : `spent · ${usd(b.remainingUsd)} of ${usd(b.limitUsd)} left`,
        "card-budget"
      )
    }</div>`
  }

  /** Active researches, grouped by phase in pipeline order of first appearance. */
  const activeTable = (status: Coordinator.CoordinatorStatus): string => {
    const phases: Array<string> = []
    for (const r of status.active) if (!phases.includes(r.phase)) phases.push(r.phase)
    const chips = phases.map((phase) =>
      `<span class="chip">${esc(phase)} <b>${status.active.filter((r) => r.phase === phase).length}</b></span>`
    ).join("")
    const rows = phases.flatMap((phase) =>
      status.active.filter((r) => r.phase === phase).map((r) =>
        `<tr data-research="${esc(r.id)}"><td>${esc(r.phase)}</td><td>${researchLink(r.id)}</td><td>${badge(r.status)}</td>` +
        `<td>${esc(r.strategy ?? "–")}</td><td>${bar(r.progress)} ${pct(r.progress)}</td>` +
        `<td>${duration(r.elapsedSeconds * 1000)}</td><td>${
          r.waitingFor === null
            ? r.job === null
              ? "–"
              : `${esc(r.job.kind)}${r.job.workerId === null ? "" : ` on <span class="mono">${esc(r.job.workerId)}</span>`}`
            : `<span class="wait">waiting for ${esc(r.waitingFor.workerType)} · ${duration(r.waitingFor.seconds * 1000)}</span>`
        }</td></tr>`
      )
    )
    return `<section id="active"><h2>Active researches <span class="count">${status.active.length}</span></h2>` +
      `<div class="chips">${chips}</div>` +
      `<table><thead><tr><th>Phase</th><th>Research</th><th>Status</th><th>Strategy</th><th>Progress</th><th>Elapsed</th><th>Job / wait</th></tr></thead>` +
      `<tbody>${rows.length === 0 ? empty(7, "No research is active.") : rows.join("")}</tbody></table></section>`
  }

  /** Per worker type: who waits and for how long, and the slots. */
  const queueTable = (status: Coordinator.CoordinatorStatus): string => {
    const types = [...new Set([...Object.keys(status.workers), ...status.active.flatMap((r) => r.waitingFor === null ? [] : [r.waitingFor.workerType])])].sort()
    const rows = types.map((type) => {
      const waits = status.active.flatMap((r) => r.waitingFor !== null && r.waitingFor.workerType === type ? [r.waitingFor.seconds] : [])
      const slots = status.workers[type] ?? { busy: 0, total: 0, workers: 0 }
      return `<tr data-type="${esc(type)}"><td>${esc(type)}</td><td class="num">${waits.length}</td>` +
        `<td class="num">${waits.length === 0 ? "–" : duration(Math.max(...waits) * 1000)}</td>` +
        `<td>${bar(slots.total === 0 ? 0 : slots.busy / slots.total)} ${slots.busy} / ${slots.total}</td>` +
        `<td class="num">${slots.workers}</td></tr>`
    })
    return `<section id="queues"><h2>Queues and workers</h2><table><thead><tr><th>Worker type</th><th class="num">Waiting</th>` +
      `<th class="num">Oldest wait</th><th>Slots busy / total</th><th class="num">Workers</th></tr></thead>` +
      `<tbody>${rows.length === 0 ? empty(5, "No worker is registered.") : rows.join("")}</tbody></table></section>`
  }

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
    const summary = `<p class="budget-summary"><b>${usd(b.spentUsd)}</b> spent on ${esc(b.day)} (UTC) · ${
      b.unlimited ? "no daily limit" : `<b>${usd(b.remainingUsd)}</b> remaining of ${usd(b.limitUsd)}`
    } · a cycle costs about ${usd(b.estimateUsd)}${b.cyclesAffordable === null ? "" : ` (${b.cyclesAffordable} more affordable)`}</p>`
    return `<section id="budget"><h2>Budget today</h2>${summary}<div id="burn">${
      budget === null ? "<p class=\"muted\">Loading the day's spending…</p>" : burnChart(budget, now)
    }</div></section>`
  }

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

  const overview = (data: OverviewData): string =>
    `<div data-part="status">${overviewCards(data.status)}${activeTable(data.status)}</div>` +
    `<div class="grid2"><div data-part="queues">${queueTable(data.status)}</div>` +
    `<div data-part="budget">${budgetSection(data.status, data.budget, data.now)}</div></div>` +
    `<div data-part="recent">${recentTable(data.recent)}</div>`

  // --- researches -------------------------------------------------------------

  const statuses = ["pending", "running", "completed", "failed", "cancelled"]
  const verdicts = ["promising", "inconclusive", "rejected"]

  const select = (name: string, label: string, options: ReadonlyArray<string>, value: string | undefined): string =>
    `<label>${esc(label)} <select name="${esc(name)}"><option value="">any</option>${
      options.map((o) => `<option${o === value ? " selected" : ""}>${esc(o)}</option>`).join("")
    }</select></label>`

  const input = (name: string, label: string, type: string, value: string | undefined, extra = ""): string =>
    `<label>${esc(label)} <input type="${type}" name="${esc(name)}" value="${esc(value ?? "")}"${extra}></label>`

  /** The query string of a filter (empty fields left out), with `offset` replaced. */
  const queryOf = (filter: ResearchFilterView, offset: number): string => {
    const entries = Object.entries({ ...filter, offset: offset === 0 ? undefined : String(offset) })
      .filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== "")
    return entries.length === 0 ? "" : `?${entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}`
  }

  const triggerForm = (brief: string): string =>
    `<form id="trigger-form" class="trigger"><label for="brief">Trigger a research</label>` +
    `<textarea id="brief" name="brief" rows="2" maxlength="10000" placeholder="A brief: what to research" required>${esc(brief)}</textarea>` +
    `<button type="submit" class="primary">Trigger</button></form>`

  const researchesFilter = (filter: ResearchFilterView): string =>
    `<form id="filter" class="filter" method="get" action="researches">${select("status", "Status", statuses, filter.status)}${
      select("verdict", "Verdict", verdicts, filter.verdict)
    }${input("strategy", "Strategy", "text", filter.strategy, " placeholder=\"name\" size=\"14\"")}${
      input("since", "From", "date", filter.since)
    }${input("until", "Before", "date", filter.until)}${
      select("limit", "Per page", ["25", "50", "100"], filter.limit)
    }<button type="submit">Filter</button> <a href="researches">clear</a></form>`

  const researchesTable = (data: ResearchesData): string => {
    const { page, filter } = data
    const from = page.total === 0 ? 0 : page.offset + 1
    const to = page.offset + page.researches.length
    const rows = page.researches.map((r) =>
      `<tr data-research="${esc(r.id)}"><td>${researchLink(r.id)}</td><td>${stamp(r.createdAt)}</td><td>${badge(r.status)}</td>` +
      `<td>${esc(r.phase)}</td><td>${esc(r.strategy?.name ?? "–")}</td><td>${verdict(r)}</td><td class="num">${usd(r.costUsd)}</td>` +
      `<td>${r.finishedAt === null ? "–" : duration(r.finishedAt - r.createdAt)}</td>` +
      `<td class="brief" title="${esc(r.brief)}">${esc(r.brief.length > 80 ? `${r.brief.slice(0, 79)}…` : r.brief)}</td></tr>`
    )
    const prev = page.offset > 0 ? `<a rel="prev" href="researches${queryOf(filter, Math.max(0, page.offset - page.limit))}">← newer</a>` : ""
    const next = to < page.total ? `<a rel="next" href="researches${queryOf(filter, page.offset + page.limit)}">older →</a>` : ""
    return `<p class="totals" id="totals"><b>${page.total}</b> research${page.total === 1 ? "" : "es"} · <b>${usd(page.costUsd)}</b> in all` +
      ` · showing ${from}–${to}</p>` +
      `<table id="researches"><thead><tr><th>Research</th><th>Created (UTC)</th><th>Status</th><th>Phase</th><th>Strategy</th><th>Verdict</th>` +
      `<th class="num">Cost</th><th>Took</th><th>Brief</th></tr></thead><tbody>${
        rows.length === 0 ? empty(9, "No research matches.") : rows.join("")
      }</tbody></table><nav class="pager">${prev}${next}</nav>`
  }

  const researches = (data: ResearchesData): string =>
    `${triggerForm("")}${researchesFilter(data.filter)}<div data-part="list">${researchesTable(data)}</div>`

  // --- one research -----------------------------------------------------------

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

  // --- workers ----------------------------------------------------------------

  const workersTable = (data: WorkersData): string => {
    const owner = new Map(data.active.flatMap((r) => r.job === null ? [] : [[r.job.id as string, r] as const]))
    const sorted = [...data.workers].sort((a, b) => a.worker.type.localeCompare(b.worker.type) || a.worker.id.localeCompare(b.worker.id))
    const rows = sorted.map(({ jobsCompleted, jobsFailed, worker: w }) => {
      const jobs = w.currentJobs.map((id) => {
        const r = owner.get(id)
        return r === undefined ? `<span class="mono">${esc(id)}</span>` : `${esc(r.job?.kind ?? "")} for ${researchLink(r.id)} ${pct(r.job?.progress ?? 0)}`
      })
      return `<tr data-worker="${esc(w.id)}"><td class="mono">${esc(w.id)}</td><td>${esc(w.type)}</td><td>${badge(w.status)}</td>` +
        `<td>${bar(w.capacity === 0 ? 0 : w.currentJobs.length / w.capacity)} ${w.currentJobs.length} / ${w.capacity}</td>` +
        `<td>${jobs.length === 0 ? "<span class=\"muted\">idle</span>" : jobs.join("<br>")}</td>` +
        `<td title="${esc(stamp(w.lastHeartbeatAt))} UTC">${ago(w.lastHeartbeatAt, data.now)}</td>` +
        `<td class="num">${jobsCompleted}</td><td class="num">${jobsFailed}</td>` +
        `<td>${w.runtime === undefined ? "<span class=\"muted\">not said</span>" : esc(w.runtime)}</td>` +
        `<td class="small">${w.protocol === "pull" ? "pull" : `push <span class="mono">${esc(w.endpoint)}</span>`}</td></tr>`
    })
    return `<table id="workers"><thead><tr><th>Worker</th><th>Type</th><th>Status</th><th>Slots</th><th>Current jobs</th>` +
      `<th>Last heartbeat</th><th class="num">Done</th><th class="num">Failed</th><th>Runtime</th><th>Protocol</th></tr></thead><tbody>${
        rows.length === 0 ? empty(10, "No worker is registered.") : rows.join("")
      }</tbody></table>`
  }

  const workers = (data: WorkersData): string => `<div data-part="workers">${workersTable(data)}</div>`

  return {
    esc,
    usd,
    overview,
    overviewCards,
    activeTable,
    queueTable,
    budgetSection,
    burnChart,
    recentTable,
    researches,
    researchesTable,
    researchDetail,
    waterfall,
    workers,
    workersTable
  }
}
