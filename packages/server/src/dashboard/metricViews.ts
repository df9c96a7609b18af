/**
 * A research's results as a researcher reads them: every metric its training
 * and backtest report, formatted by what it measures (percentages, ratios,
 * counts), nested or long values folded behind a toggle; and the charts its
 * results allow (the backtest's equity against buy-and-hold and its
 * drawdown, the training's loss per epoch).
 *
 * `metricViews` refers to nothing outside itself but JavaScript's built-ins
 * and the pieces it is given (types aside): the page ships its source text
 * (see `views.ts`).
 */
import type { Domain } from "@foreman/core"
import type { ChartViews } from "./chartViews.js"
import type { ViewParts } from "./viewParts.js"

export function metricViews(parts: ViewParts, charts: ChartViews) {
  const { esc, empty } = parts
  const { equityChart, drawdownChart, lossChart } = charts

  /** Metrics read as a share of 1 (shown as percentages). */
  const isFraction = (name: string): boolean =>
    /(rate|return|drawdown|accuracy|share|exposure|costsPaid)$/i.test(name)
  /** Metrics read as ratios (two decimals). */
  const isRatio = (name: string): boolean => /(ratio|sharpe|sortino|calmar|factor)$/i.test(name)

  const grouped = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",")

  /** A number as what it measures: `12.3%`, `1.30`, `1,024`, `0.4123`. */
  const formatNumber = (name: string, n: number): string => {
    if (isFraction(name)) {
      const p = n * 100
      return `${Math.abs(p) >= 10 ? p.toFixed(1) : p.toFixed(2)}%`
    }
    if (isRatio(name)) return n.toFixed(2)
    if (Number.isInteger(n)) return grouped(n)
    return String(Number(n.toPrecision(4)))
  }

  /** A short text for a value, or null when it needs a toggle (nested, long). */
  const inline = (name: string, value: unknown): string | null => {
    if (typeof value === "number") return formatNumber(name, value)
    if (typeof value === "boolean") return value ? "yes" : "no"
    if (value === null || value === undefined) return "–"
    if (typeof value === "string") return value.length <= 60 ? value : null
    return null
  }

  /** What a folded value says before it is opened. */
  const summaryOf = (value: unknown): string =>
    typeof value === "string" ? `${value.slice(0, 48)}… (${value.length} characters)` :
    Array.isArray(value) ? `${value.length} value${value.length === 1 ? "" : "s"}` :
    typeof value === "object" && value !== null ? Object.keys(value).slice(0, 4).join(", ") + (Object.keys(value).length > 4 ? ", …" : "") :
    String(value)

  /** A value in a table cell: inline when short, otherwise behind a `<details>` toggle. */
  const metricValue = (name: string, value: unknown): string => {
    const short = inline(name, value)
    if (short !== null) return `<span class="mono">${esc(short)}</span>`
    const isPlain = typeof value === "object" && value !== null && !Array.isArray(value) &&
      Object.values(value).every((v) => inline("", v) !== null)
    const body = isPlain
      ? `<table class="nested">${
        Object.entries(value as Record<string, unknown>).map(([k, v]) =>
          `<tr><td>${esc(k)}</td><td class="num mono">${esc(inline(k, v))}</td></tr>`
        ).join("")
      }</table>`
      : `<pre>${esc(typeof value === "string" ? value : JSON.stringify(value, null, 2))}</pre>`
    return `<details><summary>${esc(summaryOf(value))}</summary>${body}</details>`
  }

  /** The series drawn as charts: named in the table, not repeated there. */
  const charted = (kind: string, name: string, value: unknown): boolean =>
    Array.isArray(value) && value.length >= 2 &&
    ((kind === "backtest" && name === "equityCurve") || (kind === "training" && name === "epochLosses"))

  /** The numbers the training and backtest results report, formatted, grouped by result. */
  const metricsTable = (research: Domain.Research): string => {
    const rows = Object.entries(research.results)
      .filter(([kind, result]) => kind !== "assessment" && kind !== "design" && typeof result === "object" && result !== null)
      .flatMap(([kind, result]) =>
        Object.entries(result as Record<string, unknown>).map(([name, value], i) =>
          `<tr data-metric="${esc(`${kind}.${name}`)}"><td>${i === 0 ? `<b>${esc(kind)}</b>` : ""}</td><td>${esc(name)}</td><td class="value">${
            charted(kind, name, value)
              ? `<span class="muted">${(value as ReadonlyArray<unknown>).length} points, charted</span>`
              : metricValue(name, value)
          }</td></tr>`
        )
      )
    return `<table id="metrics" class="metrics"><colgroup><col class="kind"><col class="name"><col></colgroup>` +
      `<thead><tr><th>Result</th><th>Metric</th><th>Value</th></tr></thead><tbody>${
        rows.length === 0 ? empty(3, "No result yet.") : rows.join("")
      }</tbody></table>`
  }

  const isCurve = (value: unknown): value is ReadonlyArray<Domain.EquityPoint> =>
    Array.isArray(value) && value.length >= 2 && value.every((p) =>
      typeof p === "object" && p !== null && typeof p.strategy === "number" && typeof p.buyAndHold === "number" &&
      typeof p.t === "string"
    )

  /** A backtest's equity curve, when it reported one. */
  const equityOf = (research: Domain.Research): ReadonlyArray<Domain.EquityPoint> | null => {
    const backtest = research.results["backtest"] as { equityCurve?: unknown } | undefined
    return backtest !== undefined && isCurve(backtest.equityCurve) ? backtest.equityCurve : null
  }

  /** A training's loss per epoch, when it reported them. */
  const lossesOf = (research: Domain.Research): ReadonlyArray<number> | null => {
    const training = research.results["training"] as { epochLosses?: unknown } | undefined
    const losses = training?.epochLosses
    return Array.isArray(losses) && losses.length >= 2 && losses.every((v) => typeof v === "number") ? losses : null
  }

  /** The charts a research's results allow: equity and drawdown, the loss per epoch; empty when none. */
  const resultCharts = (research: Domain.Research): string => {
    const curve = equityOf(research)
    const losses = lossesOf(research)
    return (curve === null ? "" :
      `<section id="performance"><h2>Backtest</h2><div class="charts">${equityChart(curve)}${drawdownChart(curve)}</div></section>`) +
      (losses === null ? "" : `<section id="training-curve"><h2>Training</h2><div class="charts">${lossChart(losses)}</div></section>`)
  }

  return { formatNumber, metricValue, metricsTable, equityOf, resultCharts }
}

/** What `metricViews` answers. */
export type MetricViews = ReturnType<typeof metricViews>
