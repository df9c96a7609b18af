/** The layouts of one research (`agent show`), of a research that just ended, and of `agent list`. */
import type { Api } from "@foreman/api"
import { Domain } from "@foreman/core"
import { Option, Schema } from "effect"
import { simulatedNote } from "./budget.js"
import { duration, iso, oneLine, percent, table, usd } from "./text.js"

export type ResearchDetail = typeof Api.ResearchDetail.Type

const decodeTraining = Schema.decodeUnknownOption(Domain.TrainingResult)
const decodeBacktest = Schema.decodeUnknownOption(Domain.BacktestResult)
const decodeAssessment = Schema.decodeUnknownOption(Domain.Assessment)

/** A research that just ended, in one line: how it ended, its strategy, its verdict or error. */
export const endedLine = (detail: ResearchDetail): string => {
  const r = detail.research
  const verdict = Option.getOrUndefined(Option.map(decodeAssessment(r.results["assessment"]), (a) => a.verdict))
  return [
    `  ${r.id}  ${r.status.toUpperCase()}`,
    r.strategy === null ? null : `strategy ${r.strategy.name}`,
    verdict === undefined ? null : `verdict ${verdict}`,
    r.error === null ? null : oneLine(r.error)
  ].filter((part) => part !== null).join("  ")
}


/** The metrics worth a glance from the training and backtest results, as `name value` pairs. */
export const metrics = (results: Domain.Research["results"]): ReadonlyArray<readonly [string, string]> => {
  const out: Array<readonly [string, string]> = []
  Option.map(decodeTraining(results["training"]), (t) => {
    out.push(["accuracy", percent(t.testAccuracy)], ["loss", t.testLoss.toFixed(3)])
    if (t.directionalAccuracy !== undefined) out.push(["directional accuracy", percent(t.directionalAccuracy)])
  })
  Option.map(decodeBacktest(results["backtest"]), (b) => {
    out.push(
      ["sharpe", b.sharpeRatio.toFixed(2)],
      ["win rate", percent(b.winRate)],
      ["drawdown", percent(b.maxDrawdown)],
      ["return", percent(b.totalReturn)],
      ["trades", String(b.totalTrades)]
    )
  })
  return out
}

/** Where a research is: its phase and progress while it runs, how it ended once it has. */
const phaseOf = (r: ResearchDetail["research"], progress: number): string => {
  switch (r.status) {
    case "completed":
      return `done (last phase: ${r.phase})`
    case "failed":
    case "cancelled":
      return `${r.phase} (${r.status} there)`
    default:
      return `${r.phase} (${Math.round(progress * 100)}%)`
  }
}

/** The `agent show` layout: the research, its jobs, gates, metrics, assessment, cost and error. */
export const research = (detail: ResearchDetail, now: number): string => {
  const r = detail.research
  const end = r.finishedAt ?? now
  const lines = [
    `Research ${r.id}  ${r.status}`,
    `Brief:     ${r.brief}`,
    ...(r.parentId === null ? [] : [`Follows:   ${r.parentId}`]),
    `Strategy:  ${r.strategy?.name ?? "-"}`,
    ...(typeof r.strategy?.spec["hypothesis"] === "string" ? [`Hypothesis: ${r.strategy.spec["hypothesis"]}`] : []),
    `Phase:     ${phaseOf(r, detail.progress)}`,
    `Model:     ${r.model ?? "default"}${r.bypassGates ? "  (gates bypassed)" : ""}${r.forced ? "  (forced)" : ""}`,
    `Started:   ${iso(r.createdAt)}  (${duration((end - r.createdAt) / 1000)}${r.finishedAt === null ? " so far" : ""})`,
    `Cost:      ${usd(r.costUsd)}${simulatedNote(r.costUsd, simulatedCost(detail))}`
  ]
  if (r.waitingFor !== null) {
    lines.push(`Waiting:   for a ${r.waitingFor.workerType} worker (${duration((now - r.waitingFor.since) / 1000)})`)
  }
  if (r.error !== null) lines.push(`Error:     ${oneLine(r.error)}`)

  lines.push("", "Jobs:")
  if (detail.jobs.length === 0) {
    lines.push("  none yet")
  } else {
    const rows = detail.jobs.map((job) => [
      job.kind,
      job.status,
      job.workerId ?? "-",
      String(job.attempt),
      duration(((job.finishedAt ?? now) - job.createdAt) / 1000),
      oneLine(job.error ?? "")
    ])
    lines.push(...table(["KIND", "STATUS", "WORKER", "ATTEMPT", "DURATION", "ERROR"], rows).split("\n").map((l) => `  ${l}`))
  }

  lines.push("", "LLM calls:", ...llmCalls(detail).map((l) => `  ${l}`))

  const gates = Object.entries(r.gates)
  lines.push("", "Gates:")
  if (gates.length === 0) lines.push("  none yet")
  for (const [name, gate] of gates) {
    const verdict = gate.passed ? "passed" : "failed"
    lines.push(
      `  ${name.padEnd(9)} ${verdict}${gate.reason === null ? "" : `: ${oneLine(gate.reason)}`}${gate.bypassed ? " (bypassed)" : ""}`
    )
  }

  const shown = metrics(r.results)
  lines.push("", "Metrics:")
  lines.push(shown.length === 0 ? "  none yet" : `  ${shown.map(([name, value]) => `${name} ${value}`).join(", ")}`)

  const assessment = decodeAssessment(r.results["assessment"])
  lines.push(
    "",
    Option.match(assessment, {
      onNone: () => "Assessment: none yet",
      onSome: (a) => `Assessment: ${a.verdict}${a.summary === "" ? "" : ` — ${a.summary}`}`
    })
  )
  Option.map(Option.flatMapNullable(assessment, (a) => a.nextBrief), (brief) => lines.push(`Next brief: ${brief}`))
  if (detail.children.length > 0) {
    lines.push("", "Followed by:")
    lines.push(...detail.children.map((c) => `  ${c.id}  ${c.status}  ${oneLine(c.brief)}`))
  }
  return lines.join("\n")
}

/** What the research's simulated calls (the offline agents') were charged. */
const simulatedCost = (detail: ResearchDetail): number =>
  detail.llmCalls.reduce((sum, c) => c.simulated === true ? sum + c.costUsd : sum, 0)

/** Each LLM call charged to the research (failed attempts too) and their total, saying which were simulated. */
const llmCalls = (detail: ResearchDetail): ReadonlyArray<string> => {
  if (detail.llmCalls.length === 0) return ["none yet"]
  const kinds = new Map(detail.jobs.map((job) => [job.id, job.kind]))
  const rows = detail.llmCalls.map((c) => [
    kinds.get(c.jobId) ?? c.jobId,
    c.simulated === true ? `${c.model} (simulated)` : c.model,
    `${c.inputTokens}${c.cachedInputTokens > 0 ? ` (${c.cachedInputTokens} cached)` : ""}`,
    String(c.outputTokens),
    `$${c.costUsd.toFixed(4)}`,
    `${(c.latencyMs / 1000).toFixed(1)}s`,
    oneLine(c.error ?? "")
  ])
  const total = detail.llmCalls.reduce((sum, c) => sum + c.costUsd, 0)
  return [
    ...table(["JOB", "MODEL", "INPUT TOKENS", "OUTPUT TOKENS", "COST", "LATENCY", "ERROR"], rows).split("\n"),
    `total $${total.toFixed(4)} over ${detail.llmCalls.length} call${detail.llmCalls.length === 1 ? "" : "s"}${
      simulatedNote(total, simulatedCost(detail))
    }`
  ]
}

// --- agent list -------------------------------------------------------------------------

export type ResearchPage = typeof Api.ResearchPage.Type

/** The `agent list` layout: a row per research, then how many match and what they cost. */
export const researchList = (page: ResearchPage, now: number): string => {
  if (page.total === 0) return "No researches match."
  const rows = page.researches.map((r) => [
    r.id,
    r.status,
    r.phase,
    r.strategy?.name ?? "-",
    Option.getOrElse(Option.map(decodeAssessment(r.results["assessment"]), (a) => a.verdict), () => "-"),
    usd(r.costUsd),
    iso(r.createdAt),
    duration(((r.finishedAt ?? now) - r.createdAt) / 1000)
  ])
  const first = page.researches.length === 0 ? page.offset : page.offset + 1
  return [
    table(["ID", "STATUS", "PHASE", "STRATEGY", "VERDICT", "COST", "CREATED", "TOOK"], rows),
    "",
    `${first}-${page.offset + page.researches.length} of ${page.total} researches; ${usd(page.costUsd)} in all`
  ].join("\n")
}

// --- simulate -------------------------------------------------------------------------

