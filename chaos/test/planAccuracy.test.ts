/**
 * The pure parts of `npm run plan-accuracy` (scripts/planAccuracy): the
 * arrival schedule drawn from a seed, reading `foreman plan --json`, and
 * deciding whether an observed figure lies inside the predicted p5–p95
 * spread. The real runs themselves take minutes and are not run here.
 */
import { describe, expect, it } from "vitest"
import { jobSeconds, observe } from "../../scripts/planAccuracy/realRun.js"
import { arrivalOffsets } from "../../scripts/planAccuracy/schedule.js"
import { checks, decodePlan, inside, table, whatIf, width } from "../../scripts/planAccuracy/verdict.js"

const spread = (p5: number, p50: number, p95: number) => ({ p5, p50, p95, mean: p50 })

const planJson = {
  since: "2026-12-06T18:00:00.000Z",
  until: "2026-12-06T18:03:00.000Z",
  seeds: 50,
  observed: {
    arrivals: 30,
    researchesFinished: 29,
    costUsd: 0,
    workers: { training: 1, backtest: 1 },
    waits: {
      training: { meanSeconds: 12.5, p50Seconds: 11, p95Seconds: 30, count: 30 },
      backtest: { meanSeconds: 0.2, p50Seconds: 0, p95Seconds: 1, count: 20 }
    }
  },
  replay: {
    researchesFinished: spread(28, 29, 30),
    costUsd: spread(0, 0, 0),
    waits: {
      training: { meanSeconds: spread(8, 12, 16), p50Seconds: spread(7, 10, 14), p95Seconds: spread(20, 28, 35) },
      backtest: { meanSeconds: spread(0, 0.1, 0.5), p50Seconds: spread(0, 0, 0), p95Seconds: spread(0, 1, 2) }
    },
    utilisation: { training: spread(0.7, 0.8, 0.9) }
  },
  whatIfs: [{
    label: "training=+1",
    workers: { training: 2, backtest: 1 },
    researchesFinished: spread(29, 30, 30),
    waits: { training: { meanSeconds: spread(0.5, 1, 2), p50Seconds: spread(0, 0, 1), p95Seconds: spread(2, 4, 6) } },
    utilisation: {}
  }]
}

describe("the arrival schedule", () => {
  it("is the same for the same seed, another for another seed", () => {
    const a = arrivalOffsets(7, 30, 3000)
    expect(arrivalOffsets(7, 30, 3000)).toEqual(a)
    expect(arrivalOffsets(8, 30, 3000)).not.toEqual(a)
  })

  it("starts at 0, never goes back, and its gaps have about the asked mean", () => {
    const offsets = arrivalOffsets(1, 2000, 3000)
    expect(offsets[0]).toBe(0)
    expect(offsets.length).toBe(2000)
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]!).toBeGreaterThanOrEqual(offsets[i - 1]!)
    const meanGap = offsets[offsets.length - 1]! / (offsets.length - 1)
    // 1999 exponential gaps: the mean's standard error is 3000 / sqrt(1999), about 67 ms.
    expect(meanGap).toBeGreaterThan(2750)
    expect(meanGap).toBeLessThan(3250)
  })

  it("refuses no arrivals and a gap that is not positive", () => {
    expect(() => arrivalOffsets(1, 0, 3000)).toThrow(/at least one arrival/)
    expect(() => arrivalOffsets(1, 5, 0)).toThrow(/must be positive/)
  })
})

describe("reading the plan", () => {
  it("decodes foreman plan --json and finds a what-if by its label", () => {
    const report = decodePlan(JSON.stringify(planJson))
    expect(report.replay.waits["training"]?.meanSeconds.p95).toBe(16)
    expect(whatIf(report, "training=+1").researchesFinished.p5).toBe(29)
    expect(() => whatIf(report, "backtest=+1")).toThrow(/no what-if "backtest=\+1" \(it has: training=\+1\)/)
  })

  it("says what is missing when the shape differs, and when there is no JSON", () => {
    const { replay: _replay, ...withoutReplay } = planJson
    expect(() => decodePlan(JSON.stringify(withoutReplay))).toThrow(/another shape[\s\S]*replay/)
    expect(() => decodePlan("Error: unknown command plan")).toThrow(/printed no JSON/)
  })
})

describe("inside or outside the spread", () => {
  it("counts both ends of [p5, p95] as inside", () => {
    expect(inside(8, spread(8, 12, 16))).toBe(true)
    expect(inside(16, spread(8, 12, 16))).toBe(true)
    expect(inside(7.99, spread(8, 12, 16))).toBe(false)
    expect(inside(16.01, spread(8, 12, 16))).toBe(false)
  })

  it("checks each worker type's mean wait and the researches finished, and fails a type the plan did not predict", () => {
    const report = decodePlan(JSON.stringify(planJson))
    const observed = {
      researchesFinished: 27,
      waits: {
        training: { meanSeconds: 12.5, count: 30 },
        backtest: { meanSeconds: 0.9, count: 20 },
        gpu: { meanSeconds: 1, count: 3 },
        idle: { meanSeconds: 0, count: 0 }
      }
    }
    const rows = checks(observed, report.replay)
    expect(rows.map((r) => [r.measure, r.inside])).toEqual([
      ["mean queue wait, backtest (s)", false],
      ["mean queue wait, gpu (s)", false],
      ["mean queue wait, training (s)", true],
      ["researches finished", false]
    ])
    expect(rows[1]!.predicted).toBeUndefined()
    const text = table(rows)
    expect(text).toMatch(/mean queue wait, training \(s\)\s+12\.5\s+8\s+12\s+16\s+8\s+67 %\s+yes/)
    expect(text).toMatch(/gpu.*NO \(not predicted\)/)
    // A wait of milliseconds against a spread of [0, 0.5] prints as what it is, not as 0.
    expect(text).toMatch(/mean queue wait, backtest \(s\)\s+0\.900\s+0\s+0\.100\s+0\.500\s+0\.500\s+500 %\s+NO/)
  })

  it("gives the spread's width, and as a share of the median unless the median is 0", () => {
    expect(width(spread(8, 12, 16))).toEqual({ absolute: 8, percentOfMedian: (8 / 12) * 100 })
    expect(width(spread(0, 0, 0.5)).percentOfMedian).toBeUndefined()
  })
})

describe("what a run showed", () => {
  it("is each worker type's mean of dispatch − queued over its jobs, and the researches that completed or failed", () => {
    const job = (workerType: string | null, queuedSince: number | undefined, createdAt: number) => ({
      kind: workerType ?? "design",
      workerType,
      createdAt,
      finishedAt: createdAt + 2000,
      ...(queuedSince === undefined ? {} : { queuedSince })
    })
    const observed = observe([
      { research: { id: "a", status: "completed" }, jobs: [job(null, undefined, 0), job("training", 1000, 5000), job("backtest", 6000, 6000)] },
      { research: { id: "b", status: "failed" }, jobs: [job("training", 2000, 4000), job("training", 9000, 9000)] },
      { research: { id: "c", status: "completed" }, jobs: [job("training", undefined, 3000)] },
      { research: { id: "d", status: "cancelled" }, jobs: [] }
    ])
    expect(observed.researchesFinished).toBe(3)
    expect(observed.waits["training"]).toEqual({ meanSeconds: 1.5, count: 4 })
    expect(observed.waits["backtest"]).toEqual({ meanSeconds: 0, count: 1 })
  })

  it("and each job kind's mean time from start to end, over its finished jobs", () => {
    const seconds = jobSeconds([{
      research: { id: "a", status: "running" },
      jobs: [
        { kind: "training", workerType: "training", createdAt: 1000, finishedAt: 3000 },
        { kind: "training", workerType: "training", createdAt: 4000, finishedAt: 7000 },
        { kind: "backtest", workerType: "backtest", createdAt: 8000, finishedAt: null }
      ]
    }])
    expect(seconds).toEqual({ training: 2.5 })
  })
})
