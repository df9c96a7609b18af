/** The pure layouts, on plain data. */
import { assert, describe, it } from "@effect/vitest"
import { ResearchTransitions } from "@foreman/core"
import { Format } from "../src/index.js"

const budget = {
  day: "2026-01-19",
  unlimited: false,
  limitUsd: 5,
  spentUsd: 1.58,
  simulatedUsd: 0,
  remainingUsd: 3.42,
  estimateUsd: 0.15,
  cyclesAffordable: 22,
  canAfford: true
}

const research = (id: string, phase: string, strategy: string | null, elapsedSeconds: number) => ({
  id: id as never,
  phase,
  status: "running" as const,
  strategy,
  elapsedSeconds,
  progress: 0.5,
  waitingFor: null,
  job: null
})

describe("Format", () => {
  it("durations read like 2m 15s", () => {
    assert.strictEqual(Format.duration(135), "2m 15s")
    assert.strictEqual(Format.duration(30), "0m 30s")
    assert.strictEqual(Format.duration(0), "0m 0s")
    assert.strictEqual(Format.duration(3725.9), "1h 02m 05s")
    assert.strictEqual(Format.duration(-5), "0m 0s")
    assert.strictEqual(Format.duration(Number.NaN), "0m 0s")
    assert.strictEqual(Format.duration(Number.POSITIVE_INFINITY), "0m 0s")
    assert.strictEqual(Format.duration(90_061), "25h 01m 01s")
  })

  it("money, percentages and progress bars", () => {
    assert.strictEqual(Format.usd(3.4199), "$3.42")
    assert.strictEqual(Format.percent(0.55), "55.0%")
    assert.strictEqual(Format.progressBar(0.5, 10), "[█████░░░░░]  50%")
    assert.strictEqual(Format.progressBar(2, 4), "[████] 100%")
    assert.strictEqual(Format.progressBar(Number.NaN, 4), "[░░░░]   0%")
  })

  it("text shown where one line is expected: line breaks and the blanks around them become one space", () => {
    const error = "cannot reach anthropic: Transport error (POST http://127.0.0.1:1/v1/messages)\n\nSuggestion: Check your network.\n"
    assert.strictEqual(
      Format.oneLine(error),
      "cannot reach anthropic: Transport error (POST http://127.0.0.1:1/v1/messages) Suggestion: Check your network."
    )
    assert.strictEqual(Format.oneLine("op_1  training   started"), "op_1  training   started", "spacing within a line is kept")
  })

  it("tables align columns and trim line ends", () => {
    assert.strictEqual(Format.table(["A", "LONGER"], [["xyz", "1"], ["q", ""]]), "A    LONGER\nxyz  1\nq")
  })

  it("the workers table widens its columns for long ids", () => {
    const worker = (id: string) => ({
      id: id as never,
      type: "training" as never,
      status: "available" as const,
      endpoint: "http://127.0.0.1:5003",
      capacity: 1,
      currentJobs: [],
      capabilities: {},
      registeredAt: 0 as never,
      lastHeartbeatAt: 0 as never
    })
    const lines = Format.workers([worker("training-worker-0123456789abcdef"), worker("t1")]).split("\n")
    const column = (line: string) => line.indexOf("training", 3)
    assert.strictEqual(new Set(lines.map((line, i) => (i === 0 ? line.indexOf("TYPE") : column(line)))).size, 1)
  })

  it("status reproduces the multi-research design's layout", () => {
    const text = Format.status({
      active: [
        research("op_abc123", "training", "rsi_variant_7", 135),
        research("op_def456", "designing", null, 30),
        research("op_ghi789", "backtesting", "mtf_momentum_1", 105)
      ],
      workers: { training: { busy: 2, total: 3, workers: 3 }, backtest: { busy: 1, total: 2, workers: 2 } },
      budget,
      capacity: { active: 3, limit: 5 }
    })
    assert.strictEqual(
      text,
      [
        "Active researches: 3",
        "",
        "  op_abc123  training     strategy: rsi_variant_7      (2m 15s)",
        "  op_def456  designing    strategy: -                  (0m 30s)",
        "  op_ghi789  backtesting  strategy: mtf_momentum_1     (1m 45s)",
        "",
        "Workers: training 2/3, backtest 1/2",
        "Budget: $3.42 remaining today",
        "Capacity: 3/5 active"
      ].join("\n")
    )
  })

  it("status shows waiting researches, progress bars, and an unlimited budget", () => {
    const text = Format.status(
      {
        active: [{ ...research("op_a", "training", "x", 60), waitingFor: { workerType: "training", seconds: 45 } }],
        workers: {},
        budget: { ...budget, unlimited: true, limitUsd: 0, remainingUsd: null, cyclesAffordable: null, spentUsd: 0.3 },
        capacity: { active: 1, limit: 1 }
      },
      { progress: true }
    )
    assert.include(text, "  op_a  training     strategy: x                  (1m 0s)  [██████████░░░░░░░░░░]  50%  waiting for training worker (0m 45s)")
    assert.include(text, "Workers: none registered")
    assert.include(text, "Budget: unlimited ($0.30 spent today)")
  })

  it("budget: limited and unlimited", () => {
    assert.include(Format.budget(budget), "Cycles affordable: 22")
    assert.include(Format.budget({ ...budget, canAfford: false, cyclesAffordable: 0 }), "(new triggers are refused)")
    assert.include(Format.budget({ ...budget, estimateUsd: 0, cyclesAffordable: null }), "Cycles affordable: unlimited")
    assert.include(
      Format.budget({ ...budget, unlimited: true, remainingUsd: null, cyclesAffordable: null }),
      "Cycles affordable: unlimited"
    )
  })

  it("says next to every figure that includes the offline agents' calls that they were simulated", () => {
    const note = "(simulated: offline agents, no model called; counts against the budget)"
    assert.notInclude(Format.budget(budget), "simulated")
    assert.include(Format.budget({ ...budget, simulatedUsd: 1.58 }), `Spent today:       $1.58  ${note}`)
    assert.include(
      Format.budget({ ...budget, simulatedUsd: 0.5 }),
      "Spent today:       $1.58  (of which $0.50 simulated: offline agents, no model called; counts against the budget)"
    )
    assert.strictEqual(
      Format.budgetSummary({ ...budget, simulatedUsd: 1.58 }),
      `$3.42 remaining today ($1.58 spent)  ${note}`
    )

    const base = ResearchTransitions.create({
      id: "op_sim" as never,
      brief: "SPX momentum",
      model: "claude-opus-4-5",
      bypassGates: false,
      forced: false,
      phase: "assessing",
      strategy: null,
      now: 1_000
    })
    const call = (jobId: string, costUsd: number) => ({
      researchId: base.id,
      jobId: jobId as never,
      call: 0,
      model: "offline",
      inputTokens: 1704,
      outputTokens: 989,
      cachedInputTokens: 0,
      costUsd,
      latencyMs: 0,
      error: null,
      simulated: true,
      at: 2_000
    })
    const text = Format.research({
      research: { ...base, costUsd: 0.04 },
      jobs: [],
      llmCalls: [call("job_d", 0.02), call("job_a", 0.02)],
      progress: 0,
      children: []
    }, 5_000)
    assert.include(text, `Cost:      $0.04  ${note}`)
    assert.notInclude(text, "Follows:")
    assert.notInclude(text, "Followed by:")
    const lineage = Format.research({
      research: { ...base, parentId: "op_parent" as never },
      jobs: [],
      llmCalls: [],
      progress: 0,
      children: [{ ...base, id: "op_child" as never, status: "running", brief: "RSI with a\nvolume filter" }]
    }, 5_000)
    assert.include(lineage, `Brief:     ${base.brief}\nFollows:   op_parent\n`)
    assert.include(lineage, "\nFollowed by:\n  op_child  running  RSI with a volume filter")
    assert.include(text, "offline (simulated)")
    assert.notInclude(text, "claude-opus-4-5  ")
    assert.include(text, `total $0.0400 over 2 calls  ${note}`)
  })

  it("metrics from training and backtest results; unreadable results are skipped", () => {
    assert.deepStrictEqual(Format.metrics({ training: { testAccuracy: 0.6, testLoss: 0.4, epochLosses: [] }, backtest: "?" }), [
      ["accuracy", "60.0%"],
      ["loss", "0.400"]
    ])
  })
})
