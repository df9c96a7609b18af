/**
 * The strategy leaderboard page: every catalogued strategy with its best
 * research's metrics, sortable by any column (a link per header), filtered by
 * indicator, instrument and verdict; and the comparison page: researches side
 * by side, a column each, their equity curves overlaid.
 *
 * `strategiesViews` refers to nothing outside itself but JavaScript's built-ins
 * and the pieces it is given (types aside): the page ships its source text
 * (see `views.ts`).
 */
import type { Coordinator, Domain, StrategyCatalogue } from "@foreman/core"
import type { ChartViews } from "./chartViews.js"
import type { MetricViews } from "./metricViews.js"
import type { CompareData, LeaderboardData, LeaderboardFilterView } from "./viewData.js"
import type { ViewParts } from "./viewParts.js"

export function strategiesViews(parts: ViewParts, charts: ChartViews, metrics: MetricViews) {
  const { esc, usd, stamp, badge, researchLink, empty } = parts
  const { compareChart } = charts
  const { formatNumber, equityOf } = metrics

  const verdictBadge = (v: string | null | undefined): string =>
    v === null || v === undefined ? "<span class=\"muted\">–</span>" : `<span class="badge v-${esc(v)}">${esc(v)}</span>`

  const num = (name: string, v: number | null | undefined): string =>
    v === null || v === undefined ? "<span class=\"muted\">–</span>" : esc(formatNumber(name, v))

  /** The columns: sort key, header, whether it is a number. */
  const columns: ReadonlyArray<readonly [string | null, string, boolean]> = [
    ["name", "Strategy", false],
    [null, "Instrument", false],
    [null, "Indicators", false],
    ["researches", "Uses", true],
    ["sharpeRatio", "Sharpe", true],
    ["totalReturn", "Return", true],
    ["maxDrawdown", "Drawdown", true],
    ["winRate", "Win rate", true],
    ["totalTrades", "Trades", true],
    ["testAccuracy", "Accuracy", true],
    [null, "Verdict", false],
    ["costUsd", "Cost", true],
    [null, "Best research", false]
  ]

  /** The query string of a leaderboard filter (empty fields left out). */
  const queryOf = (filter: LeaderboardFilterView): string => {
    const entries = Object.entries(filter).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== "")
    return entries.length === 0 ? "" : `?${entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}`
  }

  const leaderboardFilter = (filter: LeaderboardFilterView): string => {
    const verdicts = ["promising", "inconclusive", "rejected"]
    const text = (name: "indicator" | "instrument", label: string, placeholder: string) =>
      `<label>${label} <input type="text" name="${name}" value="${esc(filter[name] ?? "")}" placeholder="${placeholder}" size="10"></label>`
    return `<form id="leaderboard-filter" class="filter" method="get" action="strategies">` +
      `<input type="hidden" name="sort" value="${esc(filter.sort ?? "sharpeRatio")}">` +
      `${text("indicator", "Indicator", "rsi")}${text("instrument", "Instrument", "SPY")}` +
      `<label>Verdict <select name="verdict"><option value="">any</option>${
        verdicts.map((v) => `<option${v === filter.verdict ? " selected" : ""}>${v}</option>`).join("")
      }</select></label>` +
      `<label>Show <select name="limit">${
        ["25", "100", "500"].map((v) => `<option${v === (filter.limit ?? "100") ? " selected" : ""}>${v}</option>`).join("")
      }</select></label><button type="submit">Filter</button> <a href="strategies">clear</a></form>`
  }

  const leaderboardTable = (data: LeaderboardData): string => {
    const { board, filter } = data
    const sort = board.sort
    const head = columns.map(([key, label, numeric]) => {
      const cls = numeric ? " class=\"num\"" : ""
      if (key === null) return `<th${cls}>${label}</th>`
      const current = key === sort
      return `<th${cls}${current ? " aria-sort=\"descending\"" : ""}><a class="sort" href="strategies${
        esc(queryOf({ ...filter, sort: key }))
      }"${current ? " aria-sort=\"true\"" : ""}>${label}${current ? " ▾" : ""}</a></th>`
    }).join("")
    const rows = board.strategies.map((s: StrategyCatalogue.StrategySummary, i: number) => {
      const t = s.top
      return `<tr data-strategy="${esc(s.name)}"><td><span class="muted">${i + 1}.</span> <b>${esc(s.name)}</b></td>` +
        `<td>${esc(s.instrument ?? "–")}</td><td class="wrap">${esc(s.indicators.join(", ") || "–")}</td>` +
        `<td class="num">${s.researches}</td><td class="num" data-col="sharpeRatio">${num("sharpeRatio", t?.sharpeRatio)}</td>` +
        `<td class="num" data-col="totalReturn">${num("totalReturn", t?.totalReturn)}</td>` +
        `<td class="num" data-col="maxDrawdown">${num("maxDrawdown", t?.maxDrawdown)}</td>` +
        `<td class="num" data-col="winRate">${num("winRate", t?.winRate)}</td>` +
        `<td class="num" data-col="totalTrades">${num("totalTrades", t?.totalTrades)}</td>` +
        `<td class="num">${num("testAccuracy", t?.testAccuracy)}</td><td>${verdictBadge(t?.verdict)}</td>` +
        `<td class="num">${t === null ? "–" : usd(t.costUsd)}</td>` +
        `<td title="designed ${esc(stamp(s.createdAt))} UTC">${t === null ? "–" : `<label class="pick"><input type="checkbox" name="ids" value="${esc(t.researchId)}"> ${researchLink(t.researchId)}</label>`}</td></tr>`
    })
    return `<p class="totals" id="totals"><b>${board.total}</b> strateg${board.total === 1 ? "y" : "ies"}${
      board.total > board.strategies.length ? ` · showing the first ${board.strategies.length}` : ""
    } · best research of each: its backtest with the highest Sharpe · ${
      sort === "createdAt" ? "newest first" : `<a href="strategies${esc(queryOf({ ...filter, sort: "createdAt" }))}">newest first</a>`
    }</p>` +
      `<form id="compare-form" method="get" action="compare"><section class="flush"><table id="leaderboard" class="leaderboard"><thead><tr>${head}</tr></thead><tbody>${
        rows.length === 0 ? empty(columns.length, "No strategy matches.") : rows.join("")
      }</tbody></table></section><p class="downloads"><button type="submit">Compare the checked researches</button> ` +
      `<span class="muted">CSV for a notebook: <code>foreman strategies --sort ${esc(sort)} --format csv</code></span></p></form>`
  }

  const leaderboard = (data: LeaderboardData): string =>
    `${leaderboardFilter(data.filter)}<div data-part="leaderboard">${leaderboardTable(data)}</div>`

  /** One research's figures for the comparison, by row. */
  const compareRows: ReadonlyArray<readonly [string, (d: Coordinator.ResearchDetail) => string]> = [
    ["Status", (d) => badge(d.research.status)],
    ["Strategy", (d) => esc(d.research.strategy?.name ?? "–")],
    ["Verdict", (d) => verdictBadge((d.research.results["assessment"] as { verdict?: string } | undefined)?.verdict ?? null)],
    ...(["sharpeRatio", "totalReturn", "netReturn", "buyAndHoldReturn", "maxDrawdown", "winRate", "totalTrades"] as const).map(
      (name) => [name, (d: Coordinator.ResearchDetail) => num(name, (d.research.results["backtest"] as Record<string, number> | undefined)?.[name])] as const
    ),
    ...(["testAccuracy", "testLoss"] as const).map(
      (name) => [name, (d: Coordinator.ResearchDetail) => num(name, (d.research.results["training"] as Record<string, number> | undefined)?.[name])] as const
    ),
    ["Cost", (d) => usd(d.research.costUsd)],
    ["Created (UTC)", (d) => stamp(d.research.createdAt)],
    ["Brief", (d) => `<span class="muted">${esc(d.research.brief)}</span>`]
  ]

  const compare = (data: CompareData): string => {
    const { details, missing } = data
    const notice = missing.length === 0 ? "" : `<p class="notice error">Not found: ${missing.map(esc).join(", ")}</p>`
    if (details.length === 0) {
      return `${notice}<p class="muted">Pick researches to compare: <code>compare?ids=op_…,op_…</code>, or check them on the <a href="strategies">leaderboard</a>.</p>`
    }
    const head = `<tr><th></th>${details.map((d, k) => `<th><span class="swatch t-c${k % 6}"></span>${researchLink(d.research.id)}</th>`).join("")}</tr>`
    const body = compareRows.map(([label, cell]) =>
      `<tr data-row="${esc(label)}"><th>${esc(label)}</th>${details.map((d) => `<td class="num">${cell(d)}</td>`).join("")}</tr>`
    ).join("")
    const curves = details.flatMap((d: Coordinator.ResearchDetail) => {
      const curve: ReadonlyArray<Domain.EquityPoint> | null = equityOf(d.research)
      return curve === null ? [] : [{ label: d.research.id, curve }]
    })
    const chart = curves.length === 0
      ? "<p class=\"muted\">None of these backtests reported an equity curve.</p>"
      : compareChart(curves)
    return `${notice}<div data-part="compare"><section><h2>Metrics</h2><table id="compare" class="compare"><thead>${head}</thead><tbody>${body}</tbody></table></section>` +
      `<section id="compare-equity"><h2>Equity</h2>${chart}</section></div>`
  }

  return { leaderboard, leaderboardTable, compare }
}
