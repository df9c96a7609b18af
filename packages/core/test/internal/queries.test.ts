/**
 * The coordinator's views built from plain data: the status view (offline
 * workers and unknown types left out, busy slots capped at capacity, waiting
 * and elapsed times) and workers' activity.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fixtures from "@foreman/adapter-memory/TestEngine"
import type { BudgetStatus } from "../../src/Budget.js"
import type { JobId, WorkerId } from "../../src/Domain.js"
import * as ForemanConfig from "../../src/ForemanConfig.js"
import * as Queries from "../../src/internal/queries.js"
import * as Pipeline from "../../src/Pipeline.js"

const NOW = 100_000

const budget: BudgetStatus = {
  day: "1970-01-01",
  unlimited: true,
  limitUsd: 0,
  spentUsd: 0,
  simulatedUsd: 0,
  remainingUsd: null,
  estimateUsd: 0.5,
  cyclesAffordable: null,
  canAfford: true
}

describe("statusOf", () => {
  const workers = [
    fixtures.worker("t-1", { capacity: 2, currentJobs: ["job_1" as JobId] }),
    fixtures.worker("t-2", { capacity: 1, currentJobs: ["job_2", "job_3"] as Array<JobId> }),
    fixtures.worker("t-3", { status: "offline", capacity: 4 }),
    fixtures.worker("g-1", { type: "gpu-render" })
  ]
  const waiting = fixtures.research("op_1", {
    status: "running",
    phase: "training",
    createdAt: NOW - 90_500,
    waitingFor: { workerType: "training", since: NOW - 30_000 }
  })
  const running = fixtures.research("op_2", { status: "running", phase: "training", createdAt: NOW + 5_000 })
  const job = fixtures.job("job_1", "op_2", { progress: 0.5 })
  const status = Queries.statusOf({
    now: NOW,
    pipeline: Pipeline.research,
    config: ForemanConfig.make(),
    active: [{ research: waiting, job: null }, { research: running, job }],
    workers,
    budget
  })

  it("counts slots per pipeline type, busy capped at capacity, offline workers and other types left out", () => {
    assert.deepStrictEqual(status.workers, {
      training: { busy: 2, total: 3, workers: 2 },
      backtest: { busy: 0, total: 0, workers: 0 }
    })
  })

  it("takes the limit from the live workers", () => {
    assert.deepStrictEqual(status.capacity, { active: 2, limit: 2 + ForemanConfig.make().concurrencyBuffer })
  })

  it("shows each research's wait, elapsed time (never negative) and job", () => {
    assert.deepStrictEqual(status.active[0]?.waitingFor, { workerType: "training", seconds: 30 })
    assert.strictEqual(status.active[0]?.elapsedSeconds, 90)
    assert.isNull(status.active[0]?.job ?? null)
    assert.strictEqual(status.active[1]?.elapsedSeconds, 0)
    assert.deepStrictEqual(status.active[1]?.job, { id: job.id, kind: "training", workerId: job.workerId, progress: 0.5 })
  })

  it("answers the budget as given", () => {
    assert.strictEqual(status.budget, budget)
  })
})

describe("activityOf", () => {
  it("pairs each worker with its counts, zero when it has none", () => {
    const a = fixtures.worker("w-1")
    const b = fixtures.worker("w-2")
    const activity = Queries.activityOf([a, b], [{ workerId: "w-1" as WorkerId, completed: 3, failed: 1 }])
    assert.deepStrictEqual(activity, [
      { worker: a, jobsCompleted: 3, jobsFailed: 1 },
      { worker: b, jobsCompleted: 0, jobsFailed: 0 }
    ])
  })
})

describe("liveWorkers", () => {
  it("keeps online workers of the given types", () => {
    const live = Queries.liveWorkers(new Set(["training"]), [
      fixtures.worker("a"),
      fixtures.worker("b", { status: "offline" }),
      fixtures.worker("c", { type: "backtest" })
    ])
    assert.deepStrictEqual(live.map((w) => w.id), ["a"])
  })
})
