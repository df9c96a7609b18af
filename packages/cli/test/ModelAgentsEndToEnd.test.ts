/**
 * Model agents end to end: `foreman server` with example workers, its agents
 * on Anthropic's API (a fake one, `@foreman/testing/FakeLlm`, at the wire).
 * A research triggered with the CLI is designed by the model from the brief
 * and the workers' capabilities, trained, backtested and assessed by the
 * model; every call is charged at the model's price, so the daily budget then
 * refuses a second trigger; a forced `--strategy` research reuses the stored
 * design and asks the model only for an assessment.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import * as FakeLlm from "@foreman/testing/FakeLlm"
import { createDatabase } from "@foreman/testing/PgDatabase"
import { Effect } from "effect"
import { apiGet, bin, cleanEnv, cliJson, closedPort, exited, foreman, signalGroup, waitFor } from "./processes.js"

interface LlmCall {
  readonly jobId: string
  readonly model: string
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cachedInputTokens: number
  readonly costUsd: number
  readonly error: string | null
}

interface Shown {
  readonly research: {
    readonly status: string
    readonly costUsd: number
    readonly error: string | null
    readonly strategy: { readonly name: string; readonly spec: Record<string, unknown> } | null
    readonly results: Record<string, Record<string, unknown>>
  }
  readonly jobs: ReadonlyArray<{ readonly id: string; readonly kind: string; readonly status: string }>
  readonly llmCalls: ReadonlyArray<LlmCall>
}

interface Budget {
  readonly limitUsd: number
  readonly spentUsd: number
  readonly remainingUsd: number | null
  readonly estimateUsd: number
  readonly canAfford: boolean
}

/** The tool `generateObject` forced on a recorded request: "design" or "assessment". */
const toolOf = (request: FakeLlm.RecordedRequest): unknown =>
  (request.body as { readonly tool_choice?: { readonly name?: unknown } } | undefined)?.tool_choice?.name

const brief = "Explore RSI and MACD momentum on EURUSD daily bars"

const design = {
  name: "rsi_macd_eurusd_e2e",
  hypothesis: "RSI extremes confirmed by a MACD crossover predict the five-day direction of EURUSD",
  instrument: "EURUSD",
  timeframe: "1d",
  indicators: [
    { name: "rsi", parameters: [{ name: "period", value: 14 }] },
    {
      name: "macd",
      parameters: [{ name: "fast", value: 12 }, { name: "slow", value: 26 }, { name: "signal", value: 9 }]
    }
  ],
  labelHorizonDays: 5,
  model: { family: "mlp", parameters: [{ name: "hiddenUnits", value: 16 }, { name: "epochs", value: 40 }, { name: "learningRate", value: 0.001 }] }
}
const designUsage = { inputTokens: 20000, outputTokens: 2000, cachedInputTokens: 0 } // $0.06 + $0.03
const assessment = {
  verdict: "inconclusive",
  summary: "Accuracy near chance; the backtest neither confirms nor refutes the hypothesis.",
  nextBrief: "Try a longer RSI period with a Bollinger band filter on EURUSD"
}
const assessmentUsage = { inputTokens: 10000, outputTokens: 1000, cachedInputTokens: 0 } // $0.03 + $0.015
const secondAssessment = {
  verdict: "rejected",
  summary: "The retrained strategy shows no edge either.",
  nextBrief: "Move on to volatility breakouts with ATR on GBPUSD"
}

let lab: ChildProcess | undefined
let fake: FakeLlm.FakeLlm | undefined
afterAll(async () => {
  // Whatever the test left running (a failed run): the lab's whole process group, and the fake.
  signalGroup(lab)
  await fake?.close()
})

describe("foreman server with model agents", () => {
  it.live("designs and assesses with the model, charges its calls, then refuses over budget", () =>
    Effect.promise(async () => {
      const llm = await FakeLlm.start({ apiKey: "test-key" })
      fake = llm
      const port = await Effect.runPromise(closedPort)
      const apiUrl = `http://127.0.0.1:${port}`
      const databaseUrl = await createDatabase("foreman_cli_model_agents")
      let output = ""
      lab = spawn(process.execPath, [bin, "server", "--local-workers", "training=1,backtest=1"], {
        env: {
          ...cleanEnv,
          DATABASE_URL: databaseUrl,
          FOREMAN_PORT: String(port),
          FOREMAN_LLM_PROVIDER: "anthropic",
          ANTHROPIC_API_KEY: "test-key",
          FOREMAN_LLM_BASE_URL: llm.anthropicUrl,
          FOREMAN_LLM_RETRIES: "0",
          FOREMAN_LLM_TIMEOUT_SECONDS: "30",
          // One research costs $0.135: the first trigger fits ($0.20 ≥ $0.10), the next does not ($0.065 < $0.10).
          FOREMAN_DAILY_BUDGET_USD: "0.20",
          FOREMAN_CYCLE_COST_ESTIMATE_USD: "0.10",
          // Gates that any real result passes: this test is about the agents, not the market.
          FOREMAN_GATE_TRAINING_MIN_ACCURACY: "0",
          FOREMAN_GATE_TRAINING_MAX_LOSS: "100",
          FOREMAN_GATE_TRAINING_MAX_LOSS_INCREASE: "100",
          FOREMAN_GATE_BACKTEST_MIN_WIN_RATE: "0",
          FOREMAN_GATE_BACKTEST_MAX_DRAWDOWN: "1",
          FOREMAN_GATE_BACKTEST_MIN_SHARPE: "-1000"
        },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true
      })
      lab.stdout?.on("data", (chunk) => (output += String(chunk)))
      lab.stderr?.on("data", (chunk) => (output += String(chunk)))

      // The banner names the provider, the model and where it is reached.
      await waitFor("the banner", async () => (output.includes("Next:") ? true : undefined), 60_000, () => output)
      assert.include(output, `Agents: anthropic claude-sonnet-4-5 via ${llm.anthropicUrl}`)
      await waitFor("two registered workers", async () => {
        const workers = await apiGet<ReadonlyArray<{ readonly status: string }>>(apiUrl, "/workers")
        return workers.filter((w) => w.status === "available").length === 2 ? true : undefined
      }, 90_000, () => output)

      // --- A research designed and assessed by the model ---------------------------------
      llm.enqueue(FakeLlm.object(design, designUsage), FakeLlm.object(assessment, assessmentUsage))
      const triggered = await foreman(["agent", "trigger", "--brief", brief], { FOREMAN_API_URL: apiUrl })
      assert.strictEqual(triggered.code, 0, triggered.stderr)
      const id = /^Research triggered: (op_\w+)$/m.exec(triggered.stdout)?.[1]
      assert.isDefined(id, triggered.stdout)

      await waitFor("the research to finish", async () => {
        const detail = await apiGet<Shown>(apiUrl, `/agent/researches/${id!}`)
        return ["completed", "failed", "cancelled"].includes(detail.research.status) ? true : undefined
      }, 180_000, () => output)
      const shown = await cliJson<Shown>(["agent", "show", id!], apiUrl)

      assert.strictEqual(shown.research.status, "completed", `${JSON.stringify(shown.research)}\n${output}`)
      assert.deepStrictEqual(shown.jobs.map((j) => [j.kind, j.status]), [
        ["design", "completed"],
        ["training", "completed"],
        ["backtest", "completed"],
        ["assessment", "completed"]
      ])
      assert.strictEqual(shown.research.strategy?.name, design.name)
      assert.strictEqual(shown.research.strategy?.spec["hypothesis"], design.hypothesis)
      assert.deepStrictEqual(shown.research.strategy?.spec["indicators"], [
        { name: "rsi", period: 14 },
        { name: "macd", fast: 12, slow: 26, signal: 9 }
      ])

      // The model was asked twice: a design from the brief and the workers' vocabulary, then an assessment.
      assert.deepStrictEqual(llm.requests.map(toolOf), ["design", "assessment"])
      const designPrompt = FakeLlm.promptText(llm.requests[0]!)
      assert.include(designPrompt, brief)
      assert.include(designPrompt, "EURUSD")
      assert.include(designPrompt, "stochastic")
      assert.include(designPrompt, "1d")
      assert.strictEqual(llm.requests[0]!.headers["x-api-key"], "test-key")

      // Each call charged at claude-sonnet-4-5's price: $3 in, $15 out per million tokens.
      const kinds = new Map(shown.jobs.map((j) => [j.id, j.kind]))
      assert.deepStrictEqual(
        shown.llmCalls.map((c) => ({
          kind: kinds.get(c.jobId),
          model: c.model,
          inputTokens: c.inputTokens,
          cachedInputTokens: c.cachedInputTokens,
          outputTokens: c.outputTokens,
          costUsd: c.costUsd,
          error: c.error
        })),
        [
          {
            kind: "design",
            model: "claude-sonnet-4-5",
            inputTokens: 20000,
            cachedInputTokens: 0,
            outputTokens: 2000,
            costUsd: 0.09,
            error: null
          },
          {
            kind: "assessment",
            model: "claude-sonnet-4-5",
            inputTokens: 10000,
            cachedInputTokens: 0,
            outputTokens: 1000,
            costUsd: 0.045,
            error: null
          }
        ]
      )
      assert.closeTo(shown.research.costUsd, 0.135, 1e-9)
      const assessed = shown.research.results["assessment"]!
      assert.strictEqual(assessed["verdict"], assessment.verdict)
      assert.strictEqual(assessed["summary"], assessment.summary)
      assert.strictEqual(assessed["nextBrief"], assessment.nextBrief)

      // The text view: the hypothesis, the calls with their total, the next brief.
      const text = await foreman(["agent", "show", id!], { FOREMAN_API_URL: apiUrl })
      assert.strictEqual(text.code, 0, text.stderr)
      assert.include(text.stdout, `Hypothesis: ${design.hypothesis}`)
      assert.include(text.stdout, "LLM calls:")
      assert.include(text.stdout, "claude-sonnet-4-5")
      assert.include(text.stdout, "20000")
      assert.include(text.stdout, "$0.0900")
      assert.include(text.stdout, "$0.0450")
      assert.include(text.stdout, "total $0.1350 over 2 calls")
      assert.include(text.stdout, "Cost:      $0.14")
      assert.include(text.stdout, `Next brief: ${assessment.nextBrief}`)

      // The budget spent what the ledger holds.
      const budgetOut = await foreman(["agent", "budget", "--json"], { FOREMAN_API_URL: apiUrl })
      assert.strictEqual(budgetOut.code, 0, budgetOut.stderr)
      const budget = JSON.parse(budgetOut.stdout) as Budget
      const ledger = shown.llmCalls.reduce((sum, c) => sum + c.costUsd, 0)
      assert.closeTo(budget.spentUsd, ledger, 1e-9)
      assert.closeTo(budget.spentUsd, 0.135, 1e-9)
      assert.strictEqual(budget.limitUsd, 0.2)
      assert.closeTo(budget.remainingUsd ?? Number.NaN, budget.limitUsd - budget.spentUsd, 1e-9)
      assert.strictEqual(budget.estimateUsd, 0.1)
      assert.isFalse(budget.canAfford)

      // A second trigger no longer fits the day's budget.
      const refused = await foreman(["agent", "trigger", "--brief", "Explore Bollinger squeezes"], { FOREMAN_API_URL: apiUrl })
      assert.strictEqual(refused.code, 1, refused.stdout)
      assert.include(refused.stderr, "Cannot trigger: daily budget exhausted ($0.07 remaining)")
      assert.strictEqual(llm.requests.length, 2)

      // --- The stored strategy retrained, forced past the budget ---------------------------
      llm.enqueue(FakeLlm.object(secondAssessment, { inputTokens: 8000, outputTokens: 500, cachedInputTokens: 0 }))
      const again = await foreman(["agent", "trigger", "--strategy", design.name, "--force"], { FOREMAN_API_URL: apiUrl })
      assert.strictEqual(again.code, 0, again.stderr)
      const againId = /^Research triggered: (op_\w+)$/m.exec(again.stdout)?.[1]
      assert.isDefined(againId, again.stdout)
      await waitFor("the strategy research to finish", async () => {
        const detail = await apiGet<Shown>(apiUrl, `/agent/researches/${againId!}`)
        return ["completed", "failed", "cancelled"].includes(detail.research.status) ? true : undefined
      }, 180_000, () => output)
      const reshown = await cliJson<Shown>(["agent", "show", againId!], apiUrl)
      assert.strictEqual(reshown.research.status, "completed", `${JSON.stringify(reshown.research)}\n${output}`)
      assert.deepStrictEqual(reshown.jobs.map((j) => [j.kind, j.status]), [
        ["training", "completed"],
        ["backtest", "completed"],
        ["assessment", "completed"]
      ])
      assert.deepStrictEqual(reshown.research.strategy, shown.research.strategy)
      // No new design: only one more request, an assessment.
      assert.deepStrictEqual(llm.requests.map(toolOf), ["design", "assessment", "assessment"])
      assert.strictEqual(reshown.research.results["assessment"]!["verdict"], secondAssessment.verdict)
      assert.strictEqual(reshown.llmCalls.length, 1)
      assert.strictEqual(reshown.llmCalls[0]!.costUsd, 0.0315)
      assert.closeTo(reshown.research.costUsd, 0.0315, 1e-9)

      // Ctrl+C: workers drain and stop, then the server.
      signalGroup(lab, "SIGINT")
      const code = await Promise.race([exited(lab), new Promise<string>((r) => setTimeout(() => r("timeout"), 60_000))])
      assert.notStrictEqual(code, "timeout", output)
      assert.include(output, "Local workers stopped")
      assert.notInclude(output, "Error:")
      await llm.close()
      fake = undefined
    }), 420_000)
})
