/**
 * The researcher's views as functions: round axis ticks, drawdowns, the SVG
 * line charts (titles, legends, labelled axes, one path per series), metrics
 * formatted by what they measure with nested and long values folded, and the
 * charts a research's results allow — the same from the shipped source.
 */
import { assert, describe, it } from "@effect/vitest"
import { runInNewContext } from "node:vm"
import { dashboardViews, dashboardViewsSource, type Views } from "../src/dashboard/views.js"

const views = dashboardViews()

const curve = [
  { t: "2024-01-02", strategy: 1, buyAndHold: 1 },
  { t: "2024-02-01", strategy: 1.1, buyAndHold: 1.02 },
  { t: "2024-03-01", strategy: 0.99, buyAndHold: 1.05 },
  { t: "2024-04-01", strategy: 1.2, buyAndHold: 1.04 }
]

const researchFields = {
  id: "op_1",
  brief: "b",
  phase: "assessing",
  status: "completed",
  strategy: { name: "rsi", spec: {} },
  results: {
    training: { kind: "classification", testAccuracy: 0.62, testLoss: 0.41234567, epochLosses: [0.9, 0.7, 0.5] },
    backtest: {
      sharpeRatio: 1.3,
      winRate: 0.55,
      totalReturn: 0.12,
      maxDrawdown: 0.1,
      totalTrades: 1024,
      settings: { commissionBps: 1, slippageBps: 2 },
      band: { long: 0.55, short: 0.45 },
      model: { weights: [[0.1, 0.2], [0.3, 0.4]] },
      note: "x".repeat(100),
      equityCurve: curve
    }
  },
  gates: {},
  costUsd: 0.01,
  createdAt: 0,
  updatedAt: 0,
  finishedAt: 1,
  error: null,
  waitingFor: null,
  model: null,
  forced: false,
  bypassGates: false,
  parentId: null
}
const research = researchFields as never

describe("chart views", () => {
  it("ticks are round values covering the range; drawdowns fall below the running peak", () => {
    assert.deepStrictEqual(views.ticks(0, 0.95), [0, 0.2, 0.4, 0.6, 0.8, 1])
    assert.deepStrictEqual(views.ticks(-0.13, 0.21), [-0.2, -0.1, 0, 0.1, 0.2, 0.3])
    assert.deepStrictEqual(views.ticks(2, 2).length > 1, true)
    assert.deepStrictEqual(views.drawdowns([1, 1.2, 0.9, 1.3]).map((v) => Math.round(v * 1000) / 1000), [0, 0, -0.25, 0])
    assert.deepStrictEqual(views.spread(3), [0, 1, 2])
    assert.deepStrictEqual(views.spread(100, 3), [0, 50, 99])
    assert.strictEqual(views.signedPct(0.123), "+12.3%")
    assert.strictEqual(views.signedPct(-0.04), "-4%")
    assert.strictEqual(views.signedPct(0), "0%")
  })

  it("an equity chart: the strategy against buy-and-hold, titled, with a legend and labelled axes", () => {
    const svg = views.equityChart(curve)
    assert.match(svg, /^<svg class="chart" id="equity-chart" viewBox="0 0 720 260" role="img" aria-label="Equity: /)
    assert.include(svg, "<path class=\"series t-c0\" data-series=\"strategy\"")
    assert.include(svg, "<path class=\"series t-hold\" data-series=\"buy-and-hold\"")
    assert.include(svg, ">Cumulative return</text>")
    assert.include(svg, ">Day</text>")
    assert.include(svg, ">2024-01-02</text>")
    assert.include(svg, ">2024-04-01</text>")
    assert.include(svg, ">+20%</text>")
    assert.include(svg, "class=\"zero\"")
    const dd = views.drawdownChart(curve)
    assert.include(dd, "deepest -10%")
    assert.include(dd, "<path class=\"area t-loss\"")
    const loss = views.lossChart([0.9, 0.7, 0.5])
    assert.include(loss, ">Epoch</text>")
    assert.include(loss, ">3</text>")
    const compare = views.compareChart([{ label: "op_1", curve }, { label: "op_2", curve: curve.slice(1) }])
    assert.include(compare, "data-series=\"op_1\"")
    assert.include(compare, "<path class=\"series t-c1\" data-series=\"op_2\"")
  })

  it("metrics read as percentages, ratios and counts; nested and long values fold behind a toggle", () => {
    assert.strictEqual(views.formatNumber("winRate", 0.55), "55.0%")
    assert.strictEqual(views.formatNumber("maxDrawdown", 0.0834), "8.34%")
    assert.strictEqual(views.formatNumber("sharpeRatio", 1.3), "1.30")
    assert.strictEqual(views.formatNumber("totalTrades", 1024), "1,024")
    assert.strictEqual(views.formatNumber("testLoss", 0.41234567), "0.4123")
    const page = views.researchDetail({ research, progress: 1, jobs: [], llmCalls: [], children: [] } as never, 1)
    const row = (name: string) => new RegExp(`<tr data-metric="${name}">[\\s\\S]*?</tr>`).exec(page)?.[0] ?? ""
    assert.include(row("backtest.winRate"), ">55.0%<")
    assert.include(row("backtest.sharpeRatio"), ">1.30<")
    assert.include(row("backtest.totalTrades"), ">1,024<")
    assert.include(row("training.testAccuracy"), ">62.0%<")
    assert.include(row("backtest.settings"), "<details><summary>commissionBps, slippageBps</summary><table class=\"nested\">")
    assert.include(row("backtest.band"), "<td>long</td><td class=\"num mono\">0.55</td>")
    assert.include(row("backtest.model"), "<details><summary>weights</summary><pre>")
    assert.include(row("backtest.note"), "(100 characters)</summary><pre>")
    assert.include(row("backtest.equityCurve"), "4 points, charted")
    assert.include(row("training.epochLosses"), "3 points, charted")
    assert.include(page, "<section id=\"performance\"><h2>Backtest</h2>")
    assert.include(page, "id=\"equity-chart\"")
    assert.include(page, "id=\"drawdown-chart\"")
    assert.include(page, "<section id=\"training-curve\">")
  })

  const summary = (name: string, sharpeRatio: number | null) => ({
    name,
    strategy: { name, spec: {} },
    researchId: "op_d",
    createdAt: Date.parse("2026-12-06T10:00:00Z"),
    researches: 2,
    best: { sharpeRatio, totalReturn: null, testAccuracy: null },
    top: sharpeRatio === null ? null : {
      researchId: `op_${name}`,
      status: "completed",
      sharpeRatio,
      totalReturn: 0.12,
      maxDrawdown: 0.1,
      winRate: 0.55,
      totalTrades: 40,
      testAccuracy: 0.62,
      verdict: "promising",
      costUsd: 0.04
    },
    indicators: ["rsi", "macd"],
    instrument: "SPY",
    costUsd: 0.08
  })
  const board = {
    board: { sort: "sharpeRatio", total: 3, strategies: [summary("a<b", 1.3), summary("c", null)] },
    filter: { sort: "sharpeRatio", verdict: "promising" }
  } as never
  const compared = {
    details: [{ research, progress: 1, jobs: [], llmCalls: [] }, { research: { ...researchFields, id: "op_2" }, progress: 1, jobs: [], llmCalls: [] }],
    missing: ["op_gone"]
  } as never

  it("the leaderboard: a row per strategy with its best research's metrics, headers that sort, the filter kept", () => {
    const html = views.leaderboard(board)
    assert.include(html, "<b>3</b> strategies · showing the first 2")
    assert.include(html, "<b>a&lt;b</b>")
    assert.include(html, "<td class=\"num\" data-col=\"sharpeRatio\">1.30</td>")
    assert.include(html, "<td class=\"num\" data-col=\"totalReturn\">12.0%</td>")
    assert.include(html, "<td class=\"num\" data-col=\"totalTrades\">40</td>")
    assert.include(html, "<span class=\"badge v-promising\">promising</span>")
    assert.include(html, "value=\"op_a&lt;b\"")
    // The current sort is marked; another header links to its sort with the filter kept.
    assert.include(html, "<th class=\"num\" aria-sort=\"descending\"><a class=\"sort\" href=\"strategies?sort=sharpeRatio&amp;verdict=promising\"")
    assert.match(html, /href="strategies\?sort=winRate&(amp;)?verdict=promising"/)
    assert.include(html, "<option selected>promising</option>")
    assert.include(views.leaderboard({ board: { sort: "name", total: 0, strategies: [] }, filter: {} } as never), "No strategy matches.")
  })

  it("the comparison: a column per research, the missing named, equity curves overlaid", () => {
    const html = views.compare(compared)
    assert.include(html, "Not found: op_gone")
    assert.include(html, "<tr data-row=\"sharpeRatio\"><th>sharpeRatio</th><td class=\"num\">1.30</td><td class=\"num\">1.30</td></tr>")
    assert.include(html, "data-series=\"op_1\"")
    assert.include(html, "data-series=\"op_2\"")
    assert.include(views.compare({ details: [], missing: [] }), "Pick researches to compare")
  })

  it("render the same from the shipped source", () => {
    const shipped = runInNewContext(`(${dashboardViewsSource()})()`, { __name: (f: unknown) => f }) as Views
    const detail = { research, progress: 1, jobs: [], llmCalls: [], children: [] } as never
    assert.strictEqual(shipped.researchDetail(detail, 1), views.researchDetail(detail, 1))
    assert.strictEqual(shipped.compareChart([{ label: "a", curve }]), views.compareChart([{ label: "a", curve }]))
    assert.strictEqual(shipped.leaderboard(board), views.leaderboard(board))
    assert.strictEqual(shipped.compare(compared), views.compare(compared))
  })
})
