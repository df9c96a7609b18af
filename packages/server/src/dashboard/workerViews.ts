/**
 * The workers page's view: every registered worker with its status, slots,
 * current jobs (and the researches they belong to), last heartbeat, jobs done
 * and failed, runtime and protocol.
 *
 * `workerViews` refers to nothing outside itself but JavaScript's built-ins
 * and the pieces it is given (types aside): the page ships its source text
 * (see `views.ts`).
 */
import type { WorkersData } from "./viewData.js"
import type { ViewParts } from "./viewParts.js"

export function workerViews(parts: ViewParts) {
  const { esc, pct, stamp, ago, badge, bar, researchLink, empty } = parts

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

  return { workers, workersTable }
}
