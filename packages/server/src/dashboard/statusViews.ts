/**
 * The coordinator's status at a glance, for the overview page: capacity,
 * worker slots, waiting researches and today's budget as cards; the active
 * researches by phase; the queues and slots per worker type.
 *
 * `statusViews` refers to nothing outside itself but JavaScript's built-ins
 * and the pieces it is given (types aside): the page ships its source text
 * (see `views.ts`).
 */
import type { Coordinator } from "@foreman/core"
import type { ViewParts } from "./viewParts.js"

export function statusViews(parts: ViewParts) {
  const { esc, usd, pct, duration, badge, bar, researchLink, empty } = parts

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
        (b.unlimited ? "spent · no daily limit" : `spent · ${usd(b.remainingUsd)} of ${usd(b.limitUsd)} left`) +
          (b.simulatedUsd > 0 ? ` · ${usd(b.simulatedUsd)} of it simulated (offline agents)` : ""),
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

  return { overviewCards, activeTable, queueTable }
}

/** What `statusViews` answers. */
export type StatusViews = ReturnType<typeof statusViews>
