import { assert, describe, it } from "@effect/vitest"
import { job, research, worker } from "@foreman/adapter-memory/TestEngine"
import { History, type Domain } from "@foreman/core"
import { Either, Schema } from "effect"

const HOUR = 3_600_000
const NOW = Date.UTC(2026, 5, 10, 12)

describe("History", () => {
  it("reads a window's researches, jobs, calls and worker slots as compact tuples", () => {
    const history = History.historyOf({
      since: NOW - 24 * HOUR,
      until: NOW,
      dailyBudgetUsd: 5,
      maxConcurrentResearches: 4,
      workerTypes: ["training", "backtest", "gpu"],
      researches: [
        research("op_b", { createdAt: NOW - HOUR, status: "running" }),
        research("op_a", { createdAt: NOW - 2 * HOUR, status: "completed", finishedAt: NOW - 90 * 60_000 })
      ],
      jobs: [
        job("job_1", "op_a", { kind: "design", workerType: null, workerId: null, createdAt: NOW - 2 * HOUR, finishedAt: NOW - 2 * HOUR + 30_000, status: "completed" }),
        job("job_2", "op_a", { workerId: "w-gone" as Domain.WorkerId, queuedSince: NOW - 2 * HOUR + 30_000, createdAt: NOW - 2 * HOUR + 90_000, finishedAt: null }),
        // A job claimed at once has no wait; a queue mark after the start (clock skew) counts as none.
        job("job_3", "op_b", { workerId: "t-1" as Domain.WorkerId, queuedSince: NOW - HOUR + 5000, createdAt: NOW - HOUR, status: "lost" })
      ],
      charges: [
        { researchId: "op_a" as Domain.ResearchId, jobId: "job_1" as Domain.JobId, call: 0, model: "offline", inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, costUsd: 0.02, latencyMs: 1, error: null, simulated: true, at: NOW - 2 * HOUR + 30_000 },
        { researchId: "op_a" as Domain.ResearchId, jobId: "job_1" as Domain.JobId, call: 1, model: "claude", inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, costUsd: 0.05, latencyMs: 1, error: null, at: NOW - HOUR }
      ],
      workers: [
        worker("t-1", { type: "training", capacity: 2, registeredAt: NOW - 48 * HOUR, lastHeartbeatAt: NOW }),
        // Silent since before the window: not counted.
        worker("t-old", { type: "training", registeredAt: NOW - 72 * HOUR, lastHeartbeatAt: NOW - 30 * HOUR }),
        worker("b-1", { type: "backtest", registeredAt: NOW - HOUR, lastHeartbeatAt: NOW })
      ]
    })
    assert.deepStrictEqual(history.workers, { training: 3, backtest: 1, gpu: 0 })
    assert.deepStrictEqual(history.researches, [[NOW - 2 * HOUR, NOW - 90 * 60_000, "completed"], [NOW - HOUR, null, "running"]])
    assert.deepStrictEqual(history.jobs, [
      ["design", null, NOW - 2 * HOUR, NOW - 2 * HOUR, NOW - 2 * HOUR + 30_000, "completed"],
      ["training", "training", NOW - 2 * HOUR + 30_000, NOW - 2 * HOUR + 90_000, null, "running"],
      ["training", "training", NOW - HOUR, NOW - HOUR, null, "lost"]
    ])
    assert.deepStrictEqual(history.llmCalls, [[NOW - 2 * HOUR + 30_000, 0.02, true], [NOW - HOUR, 0.05, false]])
    assert.strictEqual(history.maxConcurrentResearches, 4)
    // It crosses the wire as JSON and decodes as it was.
    assert.deepStrictEqual(Schema.decodeUnknownSync(History.History)(JSON.parse(JSON.stringify(history))), history)
  })

  it("reads a window's start from a span or an ISO date", () => {
    assert.deepStrictEqual(History.parseSince("7d", NOW), Either.right(NOW - 7 * 24 * HOUR))
    assert.deepStrictEqual(History.parseSince("36h", NOW), Either.right(NOW - 36 * HOUR))
    assert.deepStrictEqual(History.parseSince("90m", NOW), Either.right(NOW - 90 * 60_000))
    assert.deepStrictEqual(History.parseSince("2w", NOW), Either.right(NOW - 14 * 24 * HOUR))
    assert.deepStrictEqual(History.parseSince("2026-06-01", NOW), Either.right(Date.UTC(2026, 5, 1)))
    assert.deepStrictEqual(History.parseSince("2026-06-10T09:30:00Z", NOW), Either.right(Date.UTC(2026, 5, 10, 9, 30)))
    const left = (text: string) => Either.getLeft(History.parseSince(text, NOW)).pipe((o) => (o._tag === "Some" ? o.value : ""))
    assert.match(left("yesterday"), /expected a span such as 7d, 36h, 90m or 2w, or an ISO 8601 date/)
    assert.match(left("7 days"), /expected a span/)
    assert.match(left("0d"), /0d is an empty window/)
    assert.match(left("2026-06-11"), /is not before the end of the window/)
    assert.match(left("2026-13-45"), /expected a span/)
  })
})
