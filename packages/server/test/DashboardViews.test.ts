/**
 * The dashboard's views as the page ships them: `dashboardViewsSource()` runs
 * in a context with nothing but JavaScript's built-ins (and the `__name`
 * stand-in the page defines) and renders exactly what the server renders.
 */
import { assert, describe, it } from "@effect/vitest"
import { runInNewContext } from "node:vm"
import { dashboardViews, dashboardViewsSource, type Views } from "../src/dashboard/views.js"

const now = Date.parse("2026-12-06T12:00:00Z")

const research = (id: string, status: string) => ({
  id,
  brief: `a brief with <b>markup</b> and ${"words ".repeat(20)}`,
  phase: "training",
  status,
  strategy: { name: "s&p" },
  results: {
    training: { sharpe: 1.23456, loss: [0.1, 0.2], note: "ok" },
    assessment: { verdict: "promising", summary: "good", nextBrief: "next" }
  },
  gates: { training: { passed: true, bypassed: false, reason: null } },
  costUsd: 0.004,
  createdAt: now - 3_700_000,
  finishedAt: status === "running" ? null : now - 60_000,
  error: status === "failed" ? "boom" : null,
  waitingFor: status === "running" ? { workerType: "backtest", since: now - 5000 } : null,
  model: null,
  forced: true,
  bypassGates: false,
  parentId: null as string | null
})

const active = [
  {
    id: "op_1",
    phase: "training",
    status: "running",
    strategy: "s1",
    progress: 0.4,
    elapsedSeconds: 75,
    waitingFor: null,
    job: { id: "job_1", kind: "training", workerId: "w1", progress: 0.4 }
  },
  {
    id: "op_2",
    phase: "backtesting",
    status: "running",
    strategy: null,
    progress: 0,
    elapsedSeconds: 4000,
    waitingFor: { workerType: "backtest", seconds: 30 },
    job: null
  }
]

const job = (id: string, phase: string, status: string) => ({
  id,
  phase,
  kind: phase,
  status,
  workerId: "w1",
  workerType: "training",
  attempt: 1,
  createdAt: now - 3_000_000,
  updatedAt: now - 100_000,
  finishedAt: status === "running" ? null : now - 200_000,
  queuedSince: now - 3_500_000,
  error: status === "failed" ? "x<y" : null
})

/** Every page's view of the fixtures (the API's JSON, loosely typed here), as text. */
const renderAll = (typed: Views): ReadonlyArray<string> => {
  const views = typed as unknown as Record<keyof Views, (...args: ReadonlyArray<unknown>) => string>
  const status = {
    active,
    workers: { training: { busy: 1, total: 2, workers: 2 } },
    capacity: { active: 2, limit: 4 },
    budget: {
      day: "2026-12-06",
      spentUsd: 1.5,
      remainingUsd: 3.5,
      limitUsd: 5,
      unlimited: false,
      estimateUsd: 0.2,
      cyclesAffordable: 17
    }
  }
  const budget = { day: "2026-12-06", limitUsd: 5, spentUsd: 1.5, points: [{ at: now - 60_000, spentUsd: 1.5 }] }
  const recent = [research("op_9", "completed"), research("op_8", "failed"), research("op_7", "running")]
  const detail = {
    research: research("op_7", "running"),
    progress: 0.5,
    jobs: [job("j1", "design", "completed"), job("j2", "training", "failed"), job("j3", "training", "running")],
    llmCalls: [{ at: now, model: "m", inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, costUsd: 0.01, latencyMs: 1500, error: null }],
    children: [{ ...research("op_8", "completed"), parentId: "op_7" }]
  }
  const worker = {
    id: "w1",
    type: "training",
    status: "busy",
    capacity: 2,
    currentJobs: ["job_1", "job_x"],
    lastHeartbeatAt: now - 2000,
    runtime: "node 20",
    protocol: "pull",
    endpoint: null
  }
  return [
    views.esc("<a&'\">"),
    views.usd(0.001),
    views.overview({ status, budget, recent, now }),
    views.overview({ status: { ...status, active: [], workers: {} }, budget: null, recent: [], now }),
    views.researches({ page: { researches: recent, limit: 2, offset: 2, total: 7, costUsd: 1.2 }, filter: { status: "running" } }),
    views.researchDetail(detail, now),
    views.workers({ workers: [{ jobsCompleted: 3, jobsFailed: 1, worker }], active, now })
  ]
}

describe("dashboard views", () => {
  it("say which LLM calls were simulated, next to every figure that includes them", () => {
    const views = dashboardViews() as unknown as Record<keyof Views, (...args: ReadonlyArray<unknown>) => string>
    const call = { at: now, model: "offline", inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, costUsd: 0.004, latencyMs: 0, error: null, simulated: true }
    const page = views.researchDetail({
      research: research("op_7", "completed"),
      progress: 1,
      jobs: [],
      llmCalls: [call],
      children: []
    }, now)
    assert.include(page, "offline <span class=\"simulated\">simulated</span>")
    assert.include(page, "$0.0040 <span class=\"simulated\">(simulated: offline agents, no model called; counted against the budget)</span>")
    assert.include(page, "(simulated calls: offline agents, no model called; counted against the budget)")
    const budget = { day: "2026-12-06", spentUsd: 1.5, simulatedUsd: 0.5, remainingUsd: 3.5, limitUsd: 5, unlimited: false, estimateUsd: 0.2, cyclesAffordable: 17 }
    const overview = views.overview({
      status: { active: [], workers: {}, capacity: { active: 0, limit: 4 }, budget },
      budget: null,
      recent: [],
      now
    })
    assert.include(overview, "($0.50 of it simulated by the offline agents: no model was called; counted against the budget)")
    assert.notInclude(overview, "Autopilot")
    const piloted = views.overview({
      status: { active: [], workers: {}, capacity: { active: 1, limit: 4 }, budget, autopilot: { status: "running", keep: 2, max: 10, started: 3, running: 1, stopMessage: null } },
      budget: null,
      recent: [],
      now
    })
    assert.include(piloted, "<p class=\"autopilot\" data-autopilot=\"running\"><strong>Autopilot</strong> running: 1/2 of its researches running, 3/10 started</p>")
    assert.include(overview, "$0.50 of it simulated (offline agents)")
  })


  it("show a research's lineage: the research it follows, and those that follow it", () => {
    const views = dashboardViews() as unknown as Record<keyof Views, (...args: ReadonlyArray<unknown>) => string>
    const child = { ...research("op_8", "completed"), parentId: "op_7" }
    const parent = views.researchDetail({ research: research("op_7", "completed"), progress: 1, jobs: [], llmCalls: [], children: [child] }, now)
    assert.include(parent, "<dt>Follows</dt><dd>– (triggered by hand)</dd>")
    assert.match(parent, /<section data-part="children"><h2>Followed by<\/h2><table>.*<tr data-research="op_8"><td><a class="mono" href="researches\/op_8">op_8<\/a>/)
    const page = views.researchDetail({ research: child, progress: 1, jobs: [], llmCalls: [], children: [] }, now)
    assert.include(page, "<dt>Follows</dt><dd><a class=\"mono\" href=\"researches/op_7\">op_7</a></dd>")
    assert.include(page, "No research follows this one's assessment yet.")
    assert.include(parent, "<form id=\"trigger-form\" class=\"trigger\" data-parent=\"op_7\"><label for=\"brief\">Trigger a research (it follows this one's assessment)</label>")
    const unassessed = { ...child, results: {} }
    assert.include(views.researchDetail({ research: unassessed, progress: 1, jobs: [], llmCalls: [], children: [] }, now), "<form id=\"trigger-form\" class=\"trigger\"><label")
  })

  it("run from their shipped source with nothing but built-ins, rendering what the server renders", () => {
    const server = dashboardViews()
    const shipped = runInNewContext(`(${dashboardViewsSource()})()`, { __name: (f: unknown) => f }) as Views
    assert.deepStrictEqual(Object.keys(shipped), Object.keys(server))
    assert.deepStrictEqual(renderAll(shipped), renderAll(server))
    assert.include(renderAll(server).join(""), "&lt;b&gt;markup&lt;/b&gt;")
  })
})
