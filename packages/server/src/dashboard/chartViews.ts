/**
 * Line charts as plain SVG, drawn by the server (and by the page's script
 * with the same code): a backtest's equity against buy-and-hold, its
 * drawdown, a training's loss per epoch, and several researches' equity
 * overlaid. Every chart has a title, a legend, labelled axes with ticks at
 * round values, and one `<path data-series="…">` per series.
 *
 * `chartViews` refers to nothing outside itself but JavaScript's built-ins
 * and the pieces it is given (types aside): the page ships its source text
 * (see `views.ts`).
 */
import type { Domain } from "@foreman/core"
import type { ViewParts } from "./viewParts.js"

/** One line of a chart: its points as (index into the x labels, value). */
export interface ChartSeries {
  readonly label: string
  /** The colour class: `c0`…`c5`, `hold` (grey, dashed) or `loss` (red). */
  readonly tone: string
  readonly points: ReadonlyArray<readonly [number, number]>
  /** Fill the area between the line and zero. */
  readonly area?: boolean
  /** A band around the line: (x, low, high) per point, drawn under it (a p5–p95 spread). */
  readonly band?: ReadonlyArray<readonly [number, number, number]>
  /** Mark each point with a dot (`<circle data-point="…">`). */
  readonly dots?: boolean
}

export interface LineChart {
  readonly id: string
  readonly title: string
  readonly xTitle: string
  readonly yTitle: string
  /** The x positions' labels (dates, epochs); points refer to them by index. */
  readonly xLabels: ReadonlyArray<string>
  readonly series: ReadonlyArray<ChartSeries>
  /** How a y value reads on the axis. */
  readonly format: (value: number) => string
  /** Draw the zero line and keep zero in range. */
  readonly zero?: boolean
  /** One labelled point marked apart from the series (`<g data-marker="…">`), such as what was observed. */
  readonly marker?: { readonly x: number; readonly y: number; readonly label: string }
}

export function chartViews(parts: ViewParts) {
  const { esc } = parts

  /** Round tick values covering [min, max]: steps of 1, 2 or 5 times a power of ten, about `count` of them. */
  const ticks = (min: number, max: number, count = 5): ReadonlyArray<number> => {
    if (!(max > min)) {
      const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1
      return ticks(min - pad, max + pad, count)
    }
    const raw = (max - min) / count
    const power = Math.pow(10, Math.floor(Math.log10(raw)))
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power
    const out: Array<number> = []
    for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) {
      out.push(Number((Math.round(v / step) * step).toPrecision(12)) + 0)
    }
    if (out[out.length - 1]! < max) out.push(Number((out[out.length - 1]! + step).toPrecision(12)))
    return out
  }

  /** Up to `count` indexes spread evenly over `n` positions, first and last included. */
  const spread = (n: number, count = 6): ReadonlyArray<number> => {
    if (n <= count) return Array.from({ length: n }, (_, i) => i)
    const out: Array<number> = []
    for (let k = 0; k < count; k++) {
      const i = Math.round((k * (n - 1)) / (count - 1))
      if (!out.includes(i)) out.push(i)
    }
    return out
  }

  /** A line chart: title, legend, axes with round ticks and their titles, one path per series. */
  const lineChart = (chart: LineChart): string => {
    const w = 720, h = 260, left = 64, right = 16, top = 34, bottom = 46
    const values = chart.series.flatMap((s) => [...s.points.map((p) => p[1]), ...(s.band ?? []).flatMap((b) => [b[1], b[2]])])
    if (chart.zero === true) values.push(0)
    if (chart.marker !== undefined) values.push(chart.marker.y)
    const yTicks = ticks(Math.min(...values), Math.max(...values))
    const lo = yTicks[0]!, hi = yTicks[yTicks.length - 1]!
    const n = Math.max(chart.xLabels.length, 2)
    const x = (i: number) => left + (i / (n - 1)) * (w - left - right)
    const y = (v: number) => top + (1 - (v - lo) / (hi - lo)) * (h - top - bottom)
    const f = (v: number) => v.toFixed(1)
    const grid = yTicks.map((v) =>
      `<line class="grid" x1="${left}" x2="${w - right}" y1="${f(y(v))}" y2="${f(y(v))}"/>` +
      `<text class="tick" x="${left - 6}" y="${f(y(v) + 4)}" text-anchor="end">${esc(chart.format(v))}</text>`
    ).join("")
    const xTicks = spread(chart.xLabels.length).map((i) =>
      `<line class="axis" x1="${f(x(i))}" x2="${f(x(i))}" y1="${h - bottom}" y2="${h - bottom + 4}"/>` +
      `<text class="tick" x="${f(x(i))}" y="${h - bottom + 16}" text-anchor="${
        i === 0 ? "start" : i === chart.xLabels.length - 1 ? "end" : "middle"
      }">${esc(chart.xLabels[i])}</text>`
    ).join("")
    const zero = chart.zero === true && lo < 0 && hi > 0
      ? `<line class="zero" x1="${left}" x2="${w - right}" y1="${f(y(0))}" y2="${f(y(0))}"/>`
      : ""
    const paths = chart.series.map((s) => {
      if (s.points.length === 0) return ""
      const line = s.points.map((p, k) => `${k === 0 ? "M" : "L"}${f(x(p[0]))},${f(y(p[1]))}`).join(" ")
      const first = s.points[0]!, last = s.points[s.points.length - 1]!
      const base = f(y(Math.min(Math.max(0, lo), hi)))
      const area = s.area === true ? `<path class="area t-${esc(s.tone)}" d="${line} L${f(x(last[0]))},${base} L${f(x(first[0]))},${base} Z"/>` : ""
      const band = s.band === undefined || s.band.length === 0 ? "" : `<path class="band t-${esc(s.tone)}" data-band="${esc(s.label)}" d="${
        [...s.band.map((b) => [b[0], b[2]] as const), ...[...s.band].reverse().map((b) => [b[0], b[1]] as const)]
          .map((p, k) => `${k === 0 ? "M" : "L"}${f(x(p[0]))},${f(y(p[1]))}`).join(" ")
      } Z"/>`
      const dots = s.dots === true
        ? s.points.map((p) => `<circle class="dot t-${esc(s.tone)}" data-point="${esc(s.label)}" cx="${f(x(p[0]))}" cy="${f(y(p[1]))}" r="3"/>`).join("")
        : ""
      return `${band}${area}<path class="series t-${esc(s.tone)}" data-series="${esc(s.label)}" d="${line}"><title>${esc(s.label)}</title></path>${dots}`
    }).join("")
    const m = chart.marker
    const marker = m === undefined ? "" : `<g class="marker" data-marker="${esc(m.label)}"><circle cx="${f(x(m.x))}" cy="${f(y(m.y))}" r="6"/>` +
      `<text x="${f(x(m.x) + 9)}" y="${f(y(m.y) < top + 24 ? y(m.y) + 18 : y(m.y) - 8)}">${esc(m.label)}</text></g>`
    let legendX = left
    const legend = chart.series.map((s) => {
      const item = `<g class="legend-item"><line class="series t-${esc(s.tone)}" x1="${legendX}" x2="${legendX + 18}" y1="24" y2="24"/>` +
        `<text x="${legendX + 23}" y="28">${esc(s.label)}</text></g>`
      legendX += 40 + s.label.length * 6.5
      return item
    }).join("")
    return `<svg class="chart" id="${esc(chart.id)}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(chart.title)}">` +
      `<text class="chart-title" x="${left}" y="12">${esc(chart.title)}</text>${legend}${grid}${zero}` +
      `<line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${h - bottom}"/>` +
      `<line class="axis" x1="${left}" x2="${w - right}" y1="${h - bottom}" y2="${h - bottom}"/>${xTicks}${paths}${marker}` +
      `<text class="axis-title" x="${f((left + w - right) / 2)}" y="${h - 6}" text-anchor="middle">${esc(chart.xTitle)}</text>` +
      `<text class="axis-title" transform="translate(14 ${f((top + h - bottom) / 2)}) rotate(-90)" text-anchor="middle">${esc(chart.yTitle)}</text></svg>`
  }

  /** `+12.3%`, `-4.0%`, `0%`: a return as the axes show it. */
  const signedPct = (v: number): string => {
    const p = Math.round(v * 1000) / 10
    return p === 0 ? "0%" : `${p > 0 ? "+" : ""}${Number.isInteger(p) ? p : p.toFixed(1)}%`
  }

  /** The drawdown under each point of an equity series (0 at a new high, negative below it). */
  const drawdowns = (equity: ReadonlyArray<number>): ReadonlyArray<number> => {
    let peak = -Infinity
    return equity.map((v) => {
      peak = Math.max(peak, v)
      return peak > 0 ? v / peak - 1 : 0
    })
  }

  const day = (t: string): string => t.slice(0, 10)

  /** A backtest's cumulative return against buy-and-hold's, from its equity curve. */
  const equityChart = (curve: ReadonlyArray<Domain.EquityPoint>): string =>
    lineChart({
      id: "equity-chart",
      title: "Equity: the strategy against buy-and-hold (cumulative return)",
      xTitle: "Day",
      yTitle: "Cumulative return",
      xLabels: curve.map((p) => day(p.t)),
      series: [
        { label: "strategy", tone: "c0", points: curve.map((p, i) => [i, p.strategy - 1] as const) },
        { label: "buy-and-hold", tone: "hold", points: curve.map((p, i) => [i, p.buyAndHold - 1] as const) }
      ],
      format: signedPct,
      zero: true
    })

  /** How far below its running peak the strategy's equity stood, day by day. */
  const drawdownChart = (curve: ReadonlyArray<Domain.EquityPoint>): string => {
    const dd = drawdowns(curve.map((p) => p.strategy))
    return lineChart({
      id: "drawdown-chart",
      title: `Drawdown: below the running peak (deepest ${signedPct(Math.min(0, ...dd))})`,
      xTitle: "Day",
      yTitle: "Drawdown",
      xLabels: curve.map((p) => day(p.t)),
      series: [{ label: "drawdown", tone: "loss", area: true, points: dd.map((v, i) => [i, v] as const) }],
      format: signedPct,
      zero: true
    })
  }

  /** The loss after each epoch of a training. */
  const lossChart = (losses: ReadonlyArray<number>): string =>
    lineChart({
      id: "loss-chart",
      title: "Training loss per epoch",
      xTitle: "Epoch",
      yTitle: "Loss",
      xLabels: losses.map((_, i) => String(i + 1)),
      series: [{ label: "loss", tone: "c0", points: losses.map((v, i) => [i, v] as const) }],
      format: (v) => String(Number(v.toPrecision(3)))
    })

  /** Several equity curves on one axis of days (the union of their days), each research's strategy line. */
  const compareChart = (curves: ReadonlyArray<{ readonly label: string; readonly curve: ReadonlyArray<Domain.EquityPoint> }>): string => {
    const days = Array.from(new Set(curves.flatMap((c) => c.curve.map((p) => day(p.t))))).sort()
    const position = new Map(days.map((d, i) => [d, i] as const))
    return lineChart({
      id: "compare-chart",
      title: "Equity curves overlaid (cumulative return)",
      xTitle: "Day",
      yTitle: "Cumulative return",
      xLabels: days,
      series: curves.map((c, k) => ({
        label: c.label,
        tone: `c${k % 6}`,
        points: c.curve.map((p) => [position.get(day(p.t)) ?? 0, p.strategy - 1] as const)
      })),
      format: signedPct,
      zero: true
    })
  }

  return { lineChart, ticks, spread, signedPct, drawdowns, equityChart, drawdownChart, lossChart, compareChart }
}

/** What `chartViews` answers. */
export type ChartViews = ReturnType<typeof chartViews>
