/**
 * Pure text formatting for the CLI: the layouts of `agent status`, `workers`,
 * `strategies`, `simulate` and `autopilot status` here; the text primitives
 * (`format/text.ts`), the money figures and `agent budget` (`format/budget.ts`)
 * and one research's layouts, `agent show` and `agent list`
 * (`format/research.ts`) in their own modules, re-exported. Nothing here
 * performs effects, so every layout is unit-tested on plain data.
 */
import type { Simulation } from "@foreman/adapter-memory"
import type { Api } from "@foreman/api"
import { type Autopilot, Domain } from "@foreman/core"
import { budgetSummary } from "./format/budget.js"
import { duration, iso, oneLine, orDash, percent, progressBar, table, usd } from "./format/text.js"

export * from "./format/budget.js"
export * from "./format/research.js"
export * from "./format/text.js"

// --- agent status -------------------------------------------------------------------

export type Status = typeof Api.Status.Type
export type ActiveResearch = typeof Api.ActiveResearch.Type

/** `training 2/3, backtest 1/2` (busy job slots / all slots, per worker type). */
export const workersSummary = (workers: Status["workers"]): string => {
  const types = Object.entries(workers)
  if (types.length === 0) return "none registered"
  return types.map(([type, slots]) => `${type} ${slots.busy}/${slots.total}`).join(", ")
}

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

export type StrategySummary = typeof Api.StrategySummary.Type

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
