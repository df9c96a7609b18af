/**
 * The Plan page's views: the question's form (window, worker type, counts,
 * seeds), then, from `GET /plan`'s answer, two charts against the worker count
 * — the queue wait for the type (its p50, with the p5–p95 band across seeds)
 * and the researches finished per day (with its band), what the window
 * observed marked on both — and a table of the numbers. A window without
 * history, or a question the server refused, is a sentence instead.
 *
 * `planViews` refers to nothing outside itself but JavaScript's built-ins and
 * the pieces it is given (types aside): the page ships its source text (see
 * `views.ts`).
 */
import type { PlanCurve } from "@foreman/core"
import type { ChartViews } from "./chartViews.js"
import type { ViewParts } from "./viewParts.js"

/** The question as the page's address holds it (empty fields left out). */
export interface PlanFilterView {
  readonly since?: string
  readonly until?: string
  readonly type?: string
  readonly counts?: string
  readonly seeds?: string
}

export interface PlanData {
  /** The curve; null when there is none to show (see `error`, or not read yet). */
  readonly plan: PlanCurve.PlanCurve | null
  /** Why there is no curve, as a sentence (no history in the window, a refused question). */
  readonly error: string | null
  readonly filter: PlanFilterView
}

/** The Plan page's own style (its charts use the line charts'). */
export const planStyleSheet = `
svg.chart .band { stroke: none; opacity: .16; }
svg.chart .dot { stroke: #fff; stroke-width: 1; }
svg.chart .marker circle { fill: none; stroke: var(--fg); stroke-width: 2; }
svg.chart .marker text { fill: var(--fg); font-weight: 650; }
form.plan input[name=counts], form.plan input[name=since] { width: 7em; }
form.plan input[name=seeds] { width: 4em; }
table.plan tr.observed td { font-weight: 650; background: var(--bg); }
p.plan-note { margin: 6px 0 0; font-size: 13px; }
`

export function planViews(parts: ViewParts, charts: ChartViews) {
  const { esc, pct } = parts

  /** A wait in seconds as the axes and the table read it: `45 s`, `12 min`, `2.5 h`. */
  const wait = (seconds: number): string => {
    const s = Math.max(0, seconds)
    if (s < 120) return `${Number(s.toPrecision(3))} s`
    if (s < 7200) return `${Number((s / 60).toPrecision(3))} min`
    return `${Number((s / 3600).toPrecision(3))} h`
  }

  const perDay = (n: number): string => String(Number(n.toPrecision(3)))

  /** The form that asks the question (a plain GET: it works without script). */
  const planForm = (filter: PlanFilterView): string => {
    const field = (name: keyof PlanFilterView, label: string, fallback: string, hint: string) =>
      `<label>${esc(label)} <input name="${name}" value="${esc(filter[name] ?? fallback)}" title="${esc(hint)}"></label> `
    return `<form id="plan-form" class="filter plan" method="get" action="plan">` +
      field("since", "Window", "7d", "A span back from now (7d, 36h, 2w) or an ISO date") +
      field("type", "Worker type", "training", "The worker type whose count varies; the others keep their recorded counts") +
      field("counts", "Counts", "1..6", "Worker counts: 1..6 or 1,2,4,8") +
      field("seeds", "Seeds", "5", "Seeds per count (1 to 20)") +
      `<button type="submit">Plan</button></form>`
  }

  /** Where the observed count sits on the charts' axis of counts (between two asked counts, or beyond). */
  const positionOf = (counts: ReadonlyArray<number>, n: number): number => {
    if (counts.length === 1) return 0
    for (let i = 0; i < counts.length - 1; i++) {
      const a = counts[i]!, b = counts[i + 1]!
      if (n <= b || i === counts.length - 2) return i + (n - a) / (b - a)
    }
    return 0
  }

  /** The queue wait for the type against its count: the median wait's p50 across seeds, its p5–p95 band, and the 95th percentile's p50. */
  const waitChart = (plan: PlanCurve.PlanCurve): string => {
    const counts = plan.points.map((p) => p.workers)
    return charts.lineChart({
      id: "plan-wait-chart",
      title: `Queue wait for a ${plan.type} worker (median across ${plan.seeds} seeds, band p5–p95)`,
      xTitle: `${plan.type} workers (job slots)`,
      yTitle: "Queue wait",
      xLabels: counts.map(String),
      series: [
        {
          label: "p50 wait",
          tone: "c0",
          dots: true,
          points: plan.points.map((p, i) => [i, p.waitP50Seconds.p50] as const),
          band: plan.points.map((p, i) => [i, p.waitP50Seconds.p5, p.waitP50Seconds.p95] as const)
        },
        { label: "p95 wait", tone: "hold", points: plan.points.map((p, i) => [i, p.waitP95Seconds.p50] as const) }
      ],
      format: wait,
      zero: true,
      marker: { x: positionOf(counts, plan.observed.workers), y: plan.observed.waitP50Seconds, label: "you are here" }
    })
  }

  /** Researches finished per day against the count, with the band across seeds. */
  const throughputChart = (plan: PlanCurve.PlanCurve): string => {
    const counts = plan.points.map((p) => p.workers)
    return charts.lineChart({
      id: "plan-throughput-chart",
      title: `Researches finished per day (median across ${plan.seeds} seeds, band p5–p95)`,
      xTitle: `${plan.type} workers (job slots)`,
      yTitle: "Researches per day",
      xLabels: counts.map(String),
      series: [{
        label: "researches per day",
        tone: "c2",
        dots: true,
        points: plan.points.map((p, i) => [i, p.researchesPerDay.p50] as const),
        band: plan.points.map((p, i) => [i, p.researchesPerDay.p5, p.researchesPerDay.p95] as const)
      }],
      format: perDay,
      zero: true,
      marker: { x: positionOf(counts, plan.observed.workers), y: plan.observed.researchesPerDay, label: "you are here" }
    })
  }

  /** A spread as a cell: its median, and p5–p95 beside it. */
  const cell = (s: PlanCurve.Spread, show: (n: number) => string): string =>
    `<td class="num">${esc(show(s.p50))} <span class="muted">(${esc(show(s.p5))}–${esc(show(s.p95))})</span></td>`

  /** The numbers behind the charts, one row per count, and the observed row. */
  const planTable = (plan: PlanCurve.PlanCurve): string => {
    const o = plan.observed
    const rows = plan.points.map((p) =>
      `<tr data-workers="${p.workers}"><td class="num">${p.workers}</td>${cell(p.waitP50Seconds, wait)}${cell(p.waitP95Seconds, wait)}` +
      `${cell(p.researchesPerDay, perDay)}${cell(p.utilisation, pct)}</tr>`
    ).join("")
    return `<section class="flush"><table id="plan-table" class="plan"><thead><tr><th>${esc(plan.type)} workers</th>` +
      `<th>Wait p50 (p5–p95)</th><th>Wait p95</th><th>Researches per day</th><th>Utilisation</th></tr></thead><tbody>${rows}` +
      `<tr class="observed"><td class="num">${o.workers} observed</td><td class="num">${esc(wait(o.waitP50Seconds))}</td>` +
      `<td class="num">${esc(wait(o.waitP95Seconds))}</td><td class="num">${esc(perDay(o.researchesPerDay))}</td>` +
      `<td class="num">${esc(pct(o.utilisation))}</td></tr></tbody></table></section>`
  }

  /** The page: the form, then the charts and the table, or the sentence that says why there are none. */
  const plan = (data: PlanData): string => {
    const body = data.error !== null
      ? `<p id="plan-error" class="notice error">${esc(data.error)}</p>`
      : data.plan === null
      ? `<p class="muted">Ask a question above.</p>`
      : `<div class="charts">${waitChart(data.plan)}${throughputChart(data.plan)}</div>${planTable(data.plan)}` +
        `<p class="plan-note muted">The window ${esc(new Date(data.plan.since).toISOString().slice(0, 16))} to ` +
        `${esc(new Date(data.plan.until).toISOString().slice(0, 16))} UTC replayed with each count of ${esc(data.plan.type)} ` +
        `workers (the others as recorded: ${esc(Object.entries(data.plan.workers).map(([t, n]) => `${t} ${n}`).join(", "))}). ` +
        `The CLI asks the same: <code>foreman plan --workers ${esc(data.plan.type)}=+1</code>.</p>`
    return `${planForm(data.filter)}<div data-part="plan">${body}</div>`
  }

  return { plan, planForm, planTable, waitChart, throughputChart, waitText: wait }
}

/** What `planViews` answers. */
export type PlanViews = ReturnType<typeof planViews>
