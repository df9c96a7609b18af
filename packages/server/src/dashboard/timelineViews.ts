/**
 * One research's timeline: its phases and jobs on one time axis, each job's
 * wait for a worker (hatched) and run, labelled with kind, worker and status.
 *
 * `timelineViews` refers to nothing outside itself but JavaScript's built-ins
 * and the pieces it is given (types aside): the page ships its source text
 * (see `views.ts`).
 */
import type { Coordinator, Domain } from "@foreman/core"
import type { ViewParts } from "./viewParts.js"

export function timelineViews(parts: ViewParts) {
  const { esc, duration, isFinished } = parts

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

  return { waterfall }
}

/** What `timelineViews` answers. */
export type TimelineViews = ReturnType<typeof timelineViews>
