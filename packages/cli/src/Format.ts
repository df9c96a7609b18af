/**
 * Pure text formatting for the CLI: durations, money, percentages, tables,
 * progress bars, and the layouts of `agent status`, `agent show`,
 * `agent budget`, `workers`, `strategies` and `simulate`. Nothing here performs effects, so
 * every layout is unit-tested on plain data.
 */
import type { Simulation } from "@foreman/adapter-memory"
import { type Autopilot, Domain } from "@foreman/core"
import type { Api } from "@foreman/api"
import { Option, Schema } from "effect"

/** `2m 15s`, `0m 30s`, `1h 02m 05s`; a negative or non-finite number of seconds reads `0m 0s`. */
export const duration = (seconds: number): string => {
  const total = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m ${String(s).padStart(2, "0")}s`
  return `${m}m ${s}s`
}

/**
 * `text` on one line: each line break, with the blanks around it, becomes one
 * space. For text shown where one line is expected (a table cell, a log line):
 * a provider's error may carry a "Suggestion: …" paragraph after a blank line.
 */
export const oneLine = (text: string): string => text.replace(/\s*[\r\n]\s*/g, " ").trimEnd()

/** `$3.42`. */
export const usd = (amount: number): string => `$${amount.toFixed(2)}`

/** `55.0%` from a fraction. */
export const percent = (fraction: number, digits = 1): string => `${(fraction * 100).toFixed(digits)}%`

/** `[██████░░░░] 60%` for a fraction 0–1. */
export const progressBar = (fraction: number, width = 20): string => {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0))
  const filled = Math.round(clamped * width)
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${String(Math.round(clamped * 100)).padStart(3)}%`
}

/** Left-aligned columns separated by two spaces, with a header row; trailing spaces trimmed. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd()
  return [line(headers), ...rows.map(line)].join("\n")
}

// --- agent status -------------------------------------------------------------------

export type Status = typeof Api.Status.Type
export type ActiveResearch = typeof Api.ActiveResearch.Type
export type BudgetStatus = typeof Api.BudgetStatus.Type

/** `training 2/3, backtest 1/2` (busy job slots / all slots, per worker type). */
export const workersSummary = (workers: Status["workers"]): string => {
  const types = Object.entries(workers)
  if (types.length === 0) return "none registered"
  return types.map(([type, slots]) => `${type} ${slots.busy}/${slots.total}`).join(", ")
}

/**
 * What a figure that includes the offline agents' simulated calls says of
 * them: nothing when none is in it, else that they (all, or how much of it)
 * were simulated, and that they count against the budget all the same.
 */
export const simulatedNote = (totalUsd: number, simulatedUsd: number): string =>
  simulatedUsd <= 0
    ? ""
    : simulatedUsd >= totalUsd - 1e-9
    ? "  (simulated: offline agents, no model called; counts against the budget)"
    : `  (of which ${usd(simulatedUsd)} simulated: offline agents, no model called; counts against the budget)`

/** `$3.42 remaining today`, or that the budget is unlimited; with what was simulated, if anything. */
export const budgetSummary = (budget: BudgetStatus): string =>
  budget.unlimited || budget.remainingUsd === null
    ? `unlimited (${usd(budget.spentUsd)} spent today)${simulatedNote(budget.spentUsd, budget.simulatedUsd)}`
    : `${usd(budget.remainingUsd)} remaining today${
      budget.simulatedUsd > 0 ? ` (${usd(budget.spentUsd)} spent)${simulatedNote(budget.spentUsd, budget.simulatedUsd)}` : ""
    }`

export interface StatusOptions {
  /** Adds a progress bar per research (the `--watch` view). */
  readonly progress?: boolean
  /** Lines for researches that just ended (`endedLine`), shown under the active ones. */
  readonly ended?: ReadonlyArray<string>
}

const researchLine = (research: ActiveResearch, widths: { id: number; phase: number; strategy: number }, options: StatusOptions) => {
  const strategy = research.strategy ?? "-"
  const waiting = research.waitingFor === null
    ? ""
    : `  waiting for ${research.waitingFor.workerType} worker (${duration(research.waitingFor.seconds)})`
  const bar = options.progress === true ? `  ${progressBar(research.progress)}` : ""
  return `  ${research.id.padEnd(widths.id)}  ${research.phase.padEnd(widths.phase)}strategy: ${
    strategy.padEnd(widths.strategy)
  }(${duration(research.elapsedSeconds)})${bar}${waiting}`
}

/** The `agent status` layout of the multi-research design. */
export const status = (view: Status, options: StatusOptions = {}): string => {
  const widths = {
    id: Math.max(0, ...view.active.map((r) => r.id.length)),
    phase: Math.max(13, ...view.active.map((r) => r.phase.length + 2)),
    strategy: Math.max(19, ...view.active.map((r) => (r.strategy ?? "-").length + 2))
  }
  const lines = [`Active researches: ${view.active.length}`, ""]
  if (view.active.length > 0) {
    lines.push(...view.active.map((research) => researchLine(research, widths, options)), "")
  }
  if (options.ended !== undefined && options.ended.length > 0) lines.push("Just ended:", ...options.ended, "")
  lines.push(
    `Workers: ${workersSummary(view.workers)}`,
    `Budget: ${budgetSummary(view.budget)}`,
    `Capacity: ${view.capacity.active}/${view.capacity.limit} active`
  )
  if (view.autopilot !== undefined) lines.push(autopilotLine(view.autopilot))
  return lines.join("\n")
}

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

// --- agent budget -------------------------------------------------------------------

/** The `agent budget` layout. */
export const budget = (view: BudgetStatus): string => {
  if (view.unlimited || view.remainingUsd === null) {
    return [
      `Budget for ${view.day} (UTC): unlimited`,
      `Spent today:       ${usd(view.spentUsd)}${simulatedNote(view.spentUsd, view.simulatedUsd)}`,
      `Cycle estimate:    ${usd(view.estimateUsd)}`,
      `Cycles affordable: unlimited`
    ].join("\n")
  }
  return [
    `Budget for ${view.day} (UTC): ${usd(view.limitUsd)} a day`,
    `Spent today:       ${usd(view.spentUsd)}${simulatedNote(view.spentUsd, view.simulatedUsd)}`,
    `Remaining:         ${usd(view.remainingUsd)}`,
    `Cycle estimate:    ${usd(view.estimateUsd)}`,
    // No count with a zero cycle estimate: every cycle is free.
    `Cycles affordable: ${view.cyclesAffordable ?? "unlimited"}${view.canAfford ? "" : " (new triggers are refused)"}`
  ].join("\n")
}

// --- workers --------------------------------------------------------------------------

/** The `workers` table. */
export const workers = (list: ReadonlyArray<Domain.Worker>): string =>
  list.length === 0
    ? "No workers registered."
    : table(
      ["ID", "TYPE", "STATUS", "RUNTIME", "PROTOCOL", "JOBS"],
      list.map((w) => [
        w.id,
        w.type,
        w.status,
        w.runtime ?? "-",
        Domain.pulls(w) ? "pull" : `push ${w.endpoint}`,
        `${w.currentJobs.length}/${w.capacity}${w.currentJobs.length > 0 ? ` ${w.currentJobs.join(", ")}` : ""}`
      ])
    )

// --- strategies -----------------------------------------------------------------------

const iso = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z")

export type StrategySummary = typeof Api.StrategySummary.Type

const orDash = (value: number | null | undefined, show: (n: number) => string): string =>
  value === null || value === undefined ? "-" : show(value)

/**
 * The `strategies` table (the leaderboard): each strategy with its best
 * research's metrics (`-` when it reported none), verdict and cost.
 */
export const strategies = (list: ReadonlyArray<StrategySummary>): string =>
  list.length === 0
    ? "No strategies designed yet."
    : table(
      ["NAME", "INSTRUMENT", "INDICATORS", "USES", "SHARPE", "RETURN", "DRAWDOWN", "WIN RATE", "TRADES", "VERDICT", "COST", "BEST RESEARCH"],
      list.map((s) => [
        s.name,
        s.instrument ?? "-",
        s.indicators.length === 0 ? "-" : s.indicators.join(","),
        String(s.researches),
        orDash(s.top?.sharpeRatio, (n) => n.toFixed(2)),
        orDash(s.top?.totalReturn, (n) => percent(n)),
        orDash(s.top?.maxDrawdown, (n) => percent(n)),
        orDash(s.top?.winRate, (n) => percent(n)),
        orDash(s.top?.totalTrades, String),
        s.top?.verdict ?? "-",
        orDash(s.top?.costUsd, usd),
        s.top?.researchId ?? "-"
      ])
    )

// --- agent show -----------------------------------------------------------------------

export type ResearchDetail = typeof Api.ResearchDetail.Type

const decodeTraining = Schema.decodeUnknownOption(Domain.TrainingResult)
const decodeBacktest = Schema.decodeUnknownOption(Domain.BacktestResult)
const decodeAssessment = Schema.decodeUnknownOption(Domain.Assessment)

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

/** A human summary of a simulation report; `replay` is the command line that replays the run. */
export const simulation = (
  report: Simulation.SimulationReport,
  workers: { training: number; backtest: number },
  replay: string
): string => {
  const o = report.outcomes
  const lines = [
    `Simulation (seed ${report.seed}): ${report.researches} researches, ${workers.training} training + ${workers.backtest} backtest workers`,
    `Outcomes:    ${o.completed} completed, ${o.failed} failed, ${o.cancelled} cancelled, ${o.active} still active, ${o.notTriggered} not triggered`,
    `Refusals:    ${report.refusals.capacity} at capacity, ${report.refusals.budget} over budget`,
    `Simulated:   ${duration(report.simulatedSeconds)} (${report.events} events, ${report.workerStarts} worker jobs)`,
    `Utilisation: training ${percent(report.utilisation.training)}, backtest ${percent(report.utilisation.backtest)}`,
    `Longest wait: training ${duration(report.maxWaitSeconds.training)}, backtest ${duration(report.maxWaitSeconds.backtest)}`,
    `Faults:      ${report.workerCrashes} worker crashes, ${report.coordinatorRestarts} coordinator restarts`,
    `Spent:       ${usd(report.spentUsd)}`,
    report.invariantViolations.length === 0
      ? "Invariants:  all held"
      : `Invariants:  ${report.invariantViolations.length} violated`,
    ...report.invariantViolations.map((v) => `  - ${v}`),
    `Trace:       ${report.traceHash}`,
    `Replay:      ${replay}`
  ]
  return lines.join("\n")
}

/** The `autopilot status` layout: whether it runs and why it stopped, what it keeps, started and runs now. */
export const autopilot = (status: Autopilot.Status): string => {
  const a = status.autopilot
  if (a === null) return "Autopilot: never started (foreman autopilot start --brief \"…\" --keep N)"
  const plural = (n: number) => `${n} research${n === 1 ? "" : "es"}`
  return [
    a.status === "running"
      ? `Autopilot: running, keeps ${plural(a.keep)} running${a.max === null ? "" : ` (at most ${a.max} in all)`}`
      : `Autopilot: stopped: ${a.stopMessage ?? a.stopReason ?? "stopped"}`,
    `Brief:     ${oneLine(a.brief)}`,
    `Started:   ${iso(a.startedAt)}${a.stoppedAt === null ? "" : `, stopped ${iso(a.stoppedAt)}`}`,
    `Triggered: ${plural(a.started.length)}${a.started.length === 0 ? "" : ` (${a.started.join(", ")})`}`,
    `Running:   ${status.running.length === 0 ? "none" : status.running.join(", ")}`
  ].join("\n")
}

/** The autopilot's line under `agent status`. */
export const autopilotLine = (a: NonNullable<Status["autopilot"]>): string =>
  a.status === "running"
    ? `Autopilot: running, ${a.running}/${a.keep} of its researches running, ${a.started}${a.max === null ? "" : `/${a.max}`} started`
    : `Autopilot: stopped: ${a.stopMessage ?? "stopped"} (${a.started} started)`
