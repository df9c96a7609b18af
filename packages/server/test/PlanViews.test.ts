/**
 * The Plan page's views as functions: for a given curve, the wait and
 * throughput charts have one dot per worker count, a p5–p95 band, the
 * observed marker and axes titled with their units, the table has a row per
 * count and the observed row; without a curve, the reason is a sentence and
 * no chart is drawn — the same from the shipped source.
 */
import { assert, describe, it } from "@effect/vitest"
import type { PlanCurve } from "@foreman/core"
import { runInNewContext } from "node:vm"
import { dashboardViews, dashboardViewsSource, type Views } from "../src/dashboard/views.js"

const views = dashboardViews()

const spread = (p50: number, width: number) => ({ p5: p50 - width, p50, p95: p50 + width, mean: p50 })

const plan: PlanCurve.PlanCurve = {
  since: Date.UTC(2026, 11, 1),
  until: Date.UTC(2026, 11, 8),
  type: "training",
  seeds: 5,
  workers: { training: 2, backtest: 1 },
  observed: { workers: 2, waitP50Seconds: 700, waitP95Seconds: 2400, researchesPerDay: 11, utilisation: 0.83 },
  points: [1, 2, 3, 4].map((n) => ({
    workers: n,
    waitP50Seconds: spread(1800 / n, 60),
    waitP95Seconds: spread(5400 / n, 120),
    researchesPerDay: spread(6 * Math.min(n, 2.5), 1),
    utilisation: spread(Math.min(0.95, 1.8 / n), 0.03)
  }))
}

const count = (html: string, pattern: RegExp) => (html.match(pattern) ?? []).length

const checks = (v: Views) => {
  const html = v.plan({ plan, error: null, filter: { since: "7d", type: "training", counts: "1..4" } })
  const wait = /<svg[^>]*id="plan-wait-chart"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? ""
  const throughput = /<svg[^>]*id="plan-throughput-chart"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? ""
  assert.strictEqual(count(wait, /<circle class="dot[^"]*" data-point="p50 wait"/g), 4)
  assert.strictEqual(count(throughput, /data-point="researches per day"/g), 4)
  assert.strictEqual(count(wait, /data-band="p50 wait"/g), 1)
  assert.strictEqual(count(throughput, /data-band="researches per day"/g), 1)
  assert.strictEqual(count(wait, /data-marker="you are here"/g), 1)
  assert.strictEqual(count(throughput, /data-marker="you are here"/g), 1)
  assert.include(wait, "training workers (job slots)")
  assert.include(wait, ">Queue wait<")
  assert.include(wait, " min<", "the wait axis reads in minutes")
  assert.include(throughput, ">Researches per day<")
  // The median wait falls from 30 min with one worker to 7.5 min with four: the path goes down.
  const d = /data-series="p50 wait" d="([^"]+)"/.exec(wait)?.[1] ?? ""
  const ys = d.split(" ").map((p) => Number(p.slice(1).split(",")[1]))
  assert.strictEqual(ys.length, 4)
  assert.isTrue(ys.every((y, i) => i === 0 || y > ys[i - 1]!), d)
  // The observed count (2) sits on the second count's position.
  const marker = /data-marker="you are here"><circle cx="([\d.]+)"/.exec(wait)?.[1]
  const second = /data-point="p50 wait" cx="([\d.]+)"[\s\S]*?data-point="p50 wait" cx="([\d.]+)"/.exec(wait)?.[2]
  assert.strictEqual(marker, second)
  const table = /<table id="plan-table"[\s\S]*?<\/table>/.exec(html)?.[0] ?? ""
  assert.strictEqual(count(table, /<tr data-workers=/g), 4)
  assert.include(table, "30 min <span class=\"muted\">(29 min–31 min)</span>")
  assert.include(table, "2 observed")
  assert.include(table, "83%")
  assert.include(html, "name=\"counts\" value=\"1..4\"")

  const empty = v.plan({ plan: null, error: "No research was created in this window, so there is no history to plan from: widen the window.", filter: {} })
  assert.include(empty, "<p id=\"plan-error\" class=\"notice error\">No research was created in this window")
  assert.notInclude(empty, "<svg")
  assert.include(empty, "name=\"since\" value=\"7d\"", "the form keeps its defaults")
}

describe("plan views", () => {
  it("charts waits and throughput per count with bands and the observed marker; a sentence without a curve", () => {
    checks(views)
  })

  it("the shipped source renders the same", () => {
    const shipped = runInNewContext(`(${dashboardViewsSource()})()`) as Views
    checks(shipped)
    assert.strictEqual(shipped.plan({ plan, error: null, filter: {} }), views.plan({ plan, error: null, filter: {} }))
  })
})
