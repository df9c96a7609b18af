/**
 * The overview page's views: capacity, worker slots and budget at a glance,
 * the active researches by phase, the queues per worker type, today's
 * spending against the limit, and the latest completions.
 *
 * `overviewViews` refers to nothing outside itself but JavaScript's built-ins
 * and the parts it is given (types aside), since the page ships its source
 * text (see `views.ts`).
 */
import type { Coordinator, Domain } from "@foreman/core"
import type { BudgetDayView, OverviewData } from "./viewData.js"
import type { ViewParts } from "./viewParts.js"

export function overviewViews(parts: ViewParts) {
  const { esc, usd, pct, two, duration, stamp, badge, bar, researchLink, empty, verdict, isFinished } = parts

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

  return { overview, overviewCards, activeTable, queueTable, budgetSection, burnChart, recentTable }
}
