/** What every scenario is given and gives back. */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type { Bundle } from "../lib/foreman.js"
import { Lab, type LabOptions } from "../lib/lab.js"
import { measure, settle, type Verdict } from "../lib/measure.js"
import type { LocalCluster } from "../lib/postgres.js"
import { Rng } from "../lib/rng.js"
import { secs } from "../lib/wait.js"
import { Workload } from "../lib/workload.js"

export type Mode = "short" | "long"

export interface ScenarioContext {
  readonly name: string
  /** The scenario's floor of accepted and completed researches for this run. */
  readonly floor: number
  readonly seed: number
  readonly mode: Mode
  /** Trials to run (kills, restarts, rounds or requests, depending on the scenario). */
  readonly trials: number
  readonly bundle: Bundle
  /** The server's `postgres` database, for creating the scenario's own database. */
  readonly adminUrl: string
  /** Our own cluster, when not running on DATABASE_URL. */
  readonly cluster: LocalCluster | undefined
  /** A directory for this scenario's logs. */
  readonly dir: string
  /** Once the faults stop, researches still running are stuck when none has finished for this long. */
  readonly settleMs: number
  readonly log: (line: string) => void
}

export interface ScenarioResult {
  readonly trials: number
  readonly verdict: Verdict
  /** Lines about what was done (kills, timings), printed before the verdict's details. */
  readonly facts: ReadonlyArray<string>
  /** Set when the scenario could not run here (e.g. it needs our own PostgreSQL). */
  readonly skipped?: string
}

export interface Scenario {
  readonly name: string
  readonly description: string
  /** Trials in short (CI) and long runs. */
  readonly trials: { readonly short: number; readonly long: number }
  /**
   * The least number of researches the workload must get accepted, and see
   * completed, for `trials` trials (below it the run fails: a coordinator
   * that refused or dropped the work cannot pass).
   */
  readonly floor: (trials: number) => number
  /** Needs control of the PostgreSQL server (not possible on DATABASE_URL). */
  readonly needsOwnPostgres?: boolean
  readonly run: (context: ScenarioContext) => Promise<ScenarioResult>
}

/** A generator for one purpose of a scenario, derived from its seed. */
export const rngFor = (context: ScenarioContext, purpose: string): Rng => Rng.derive(context.seed, `${context.name}/${purpose}`)

/**
 * Runs `body` in a fresh lab with a workload, then stops the faults, waits
 * (condition wait) for every research to finish, and measures.
 */
export const withLab = async (
  context: ScenarioContext,
  options: Omit<LabOptions, "name" | "seed" | "bundle" | "adminUrl" | "dir" | "log">,
  body: (lab: Lab, workload: Workload, facts: Array<string>) => Promise<{ readonly trials: number; readonly extraAccepted?: ReadonlyArray<string> }>
): Promise<ScenarioResult> => {
  const dir = join(context.dir, context.name)
  mkdirSync(dir, { recursive: true })
  const lab = new Lab({ ...options, name: context.name, seed: context.seed, bundle: context.bundle, adminUrl: context.adminUrl, dir, log: context.log })
  const facts: Array<string> = []
  try {
    const began = Date.now()
    await lab.start()
    facts.push(`lab up in ${secs(Date.now() - began)}: ${options.coordinators} coordinator(s), ${options.workers.length} workers, jobs ${options.jobMs} ms`)
    const workload = new Workload({
      scenario: context.name,
      seed: context.seed,
      apiUrl: () => lab.apiUrl,
      token: options.operatorToken,
      rng: rngFor(context, "workload")
    })
    const faultsBegan = Date.now()
    const { trials, extraAccepted } = await body(lab, workload, facts)
    facts.push(`faults over after ${secs(Date.now() - faultsBegan)}; ${workload.triggers.length} triggers sent`)
    const waited = await settle(lab, workload, options.operatorToken, context.settleMs)
    facts.push(`researches settled ${secs(waited)} after the faults stopped`)
    const verdict = await measure(lab, workload, {
      token: options.operatorToken,
      floor: context.floor,
      ...(extraAccepted === undefined ? {} : { extraAccepted })
    })
    return { trials, verdict, facts }
  } finally {
    await lab.close()
  }
}

/** Pull workers on the Python SDK, beside the TypeScript ones (in the kill scenarios). */
export const pythonWorkers = [
  { id: "py-training-1", type: "training", runtime: "python" },
  { id: "py-backtest-1", type: "backtest", runtime: "python" }
] as const

/** The three-worker lab most scenarios use: two training workers and one backtest worker. */
export const standardWorkers = [
  { id: "training-1", type: "training" },
  { id: "training-2", type: "training" },
  { id: "backtest-1", type: "backtest" }
] as const
