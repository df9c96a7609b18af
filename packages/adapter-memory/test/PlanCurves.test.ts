/**
 * Plan curves over a small recorded day (one training worker, trainings of
 * 20 minutes arriving every 15, so researches queue for it): a point per
 * count, waits that do not grow with more workers, the same figures on worker
 * threads as in this thread, the refusals, and the planner sharing a curve
 * being computed and keeping it for its time to live.
 */
import { assert, describe, it } from "@effect/vitest"
import { PlanCurves } from "@foreman/adapter-memory"
import type { History } from "@foreman/core"
import { Duration, Effect, TestClock } from "effect"

const since = Date.UTC(2026, 10, 30)
const MIN = 60_000

/** A day of 12 researches, 15 minutes apart, whose 20-minute trainings queue for the one training worker. */
const history: History.History = (() => {
  const researches: Array<History.HistoryResearch> = []
  const jobs: Array<History.HistoryJob> = []
  let trainingFree = since
  for (let k = 0; k < 12; k++) {
    const at = since + MIN + k * 15 * MIN
    const start = Math.max(at, trainingFree)
    trainingFree = start + (18 + (k % 5)) * MIN
    jobs.push(["training", "training", at, start, trainingFree, "completed"])
    jobs.push(["backtest", "backtest", trainingFree, trainingFree, trainingFree + 5 * MIN, "completed"])
    researches.push([at, trainingFree + 6 * MIN, "completed"])
  }
  return {
    since,
    until: since + 86_400_000,
    dailyBudgetUsd: 0,
    maxConcurrentResearches: 0,
    workers: { training: 1, backtest: 1 },
    researches,
    jobs,
    llmCalls: []
  }
})()

const request = { type: "training", counts: [1, 2, 3], seeds: 2 }

describe("PlanCurves", () => {
  it.effect("a point per count; more training workers never wait longer; the observed point is the record's", () =>
    Effect.gen(function*() {
      const curve = yield* PlanCurves.compute(history, request, { threads: 1 })
      assert.deepStrictEqual(curve.points.map((p) => p.workers), [1, 2, 3])
      assert.strictEqual(curve.observed.workers, 1)
      assert.isAbove(curve.observed.waitP50Seconds, 0)
      const [one, two, three] = curve.points.map((p) => p.waitP50Seconds.p50)
      assert.isAbove(one!, 0, "one worker: researches queue")
      assert.isTrue(two! <= one! && three! <= two!, JSON.stringify(curve.points))
      assert.isTrue(curve.points.every((p) => p.researchesPerDay.p50 > 0))
      // Utilisation over the window, as observed: the recorded workers' replay is near the record; twice the workers, half of it.
      assert.closeTo(curve.points[0]!.utilisation.p50, curve.observed.utilisation, 0.03)
      assert.closeTo(curve.points[1]!.utilisation.p50, curve.observed.utilisation / 2, 0.03)
    }))

  it.live("the same figures on two worker threads as in this thread", () =>
    Effect.gen(function*() {
      const here = yield* PlanCurves.compute(history, request, { threads: 1 })
      const threads = yield* PlanCurves.compute(history, request, { threads: 2 })
      assert.deepStrictEqual(threads, here)
    }), { timeout: 120_000 })

  it.effect("refuses a window without research, an unknown type and more than 60 simulations", () =>
    Effect.gen(function*() {
      const empty = yield* Effect.flip(PlanCurves.compute({ ...history, researches: [], jobs: [] }, request, { threads: 1 }))
      assert.strictEqual(empty._tag, "NoPlanHistory")
      const gpu = yield* Effect.flip(PlanCurves.compute(history, { ...request, type: "gpu" }, { threads: 1 }))
      assert.strictEqual(gpu._tag, "PlanRefused")
      assert.include(gpu.message, "unknown worker type \"gpu\"")
      const large = yield* Effect.flip(PlanCurves.compute(history, { ...request, counts: [1, 2, 3, 4, 5, 6, 7], seeds: 9 }, { threads: 1 }))
      assert.include(large.message, "at most 60")
    }))

  it.scoped("the planner shares a curve being computed and keeps it for its time to live", () =>
    Effect.gen(function*() {
      const planner = yield* PlanCurves.make({ threads: 1, ttl: Duration.minutes(1) })
      const [a, b] = yield* Effect.all([planner.curve(history, request), planner.curve(history, request)], { concurrency: 2 })
      assert.strictEqual(a, b, "asked twice at once: one computation")
      assert.strictEqual(yield* planner.curve(history, request), a, "asked again within the minute: kept")
      const other = yield* planner.curve(history, { ...request, seeds: 1 })
      assert.notStrictEqual(other, a)
      yield* TestClock.adjust(Duration.minutes(2))
      const later = yield* planner.curve(history, request)
      assert.notStrictEqual(later, a, "after its time to live: computed again")
      assert.deepStrictEqual(later, a)
    }))
})
