/**
 * One real run of `npm run plan-accuracy`: a database of its own, the real
 * bundled `foreman server` on a free loopback port with offline agents (no LLM
 * key reaches it), the real example workers as `foreman worker` processes,
 * researches triggered at the schedule's offsets, and a wait (on a condition)
 * until every one of them has ended. What the run showed is measured from its
 * researches' jobs through the API, not taken from the plan.
 */
import { join } from "node:path"
import * as Api from "../../chaos/lib/api.js"
import * as Foreman from "../../chaos/lib/foreman.js"
import * as Postgres from "../../chaos/lib/postgres.js"
import * as Processes from "../../chaos/lib/processes.js"
import { freePort, sleep, until } from "../../chaos/lib/wait.js"
import type { Observed } from "./verdict.js"

export interface RunOptions {
  /** Names the database and the log files. */
  readonly name: string
  /** The `foreman.mjs` bundle run with node. */
  readonly bundle: string
  readonly adminUrl: string
  readonly logDir: string
  /** Workers per type, e.g. `{ training: 1, backtest: 1 }`. */
  readonly workers: Readonly<Record<string, number>>
  /** When each research arrives, in milliseconds from the first. */
  readonly offsets: ReadonlyArray<number>
  /** How long every research gets to end once the last has arrived. */
  readonly timeoutMs: number
  readonly log: (line: string) => void
}

/** A job as `GET /agent/researches/{id}` shows it (the fields used here). */
export interface JobView {
  readonly kind: string
  readonly workerType: string | null
  readonly queuedSince?: number
  readonly createdAt: number
  readonly finishedAt: number | null
}

export interface Detail {
  readonly research: { readonly id: string; readonly status: string; readonly finishedAt?: number | null }
  readonly jobs: ReadonlyArray<JobView>
}

/** What a finished run leaves: its window, its researches and what they showed. */
export interface RunResult {
  readonly apiUrl: string
  /** The first arrival and the end of the last research (as the coordinator recorded it), epoch milliseconds. */
  readonly startedAt: number
  readonly endedAt: number
  readonly researches: number
  readonly byStatus: Readonly<Record<string, number>>
  readonly observed: Observed
  /** Per job kind, the mean time from start (claim) to end of its finished jobs, in seconds. */
  readonly jobSeconds: Readonly<Record<string, number>>
  /** How late each trigger was sent against its offset, at most (a loaded machine shows here). */
  readonly maxTriggerLagMs: number
}

const terminal = new Set(["completed", "failed", "cancelled"])

/**
 * The environment of the server and its workers: ours without Foreman,
 * database or LLM settings (so the agents are the offline ones), plus `extra`.
 */
const environment = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env = Foreman.childEnv(extra)
  for (const key of Object.keys(env)) {
    if (/^(ANTHROPIC|OPENAI)_/.test(key)) delete env[key]
  }
  return env
}

/** The observed figures: the per-job queue waits by worker type, and the researches that ended (completed or failed). */
export const observe = (details: ReadonlyArray<Detail>): Observed => {
  const sums: Record<string, { total: number; count: number }> = {}
  for (const detail of details) {
    for (const job of detail.jobs) {
      if (job.workerType === null) continue
      const entry = (sums[job.workerType] ??= { total: 0, count: 0 })
      entry.total += Math.max(0, job.createdAt - (job.queuedSince ?? job.createdAt)) / 1000
      entry.count++
    }
  }
  const waits: Record<string, { meanSeconds: number; count: number }> = {}
  for (const [type, { total, count }] of Object.entries(sums)) waits[type] = { meanSeconds: total / count, count }
  // Finished as the plan counts it: completed or failed (a failed research has ended its pipeline too).
  const finished = details.filter((d) => d.research.status === "completed" || d.research.status === "failed").length
  return { researchesFinished: finished, waits }
}

/** Per job kind, the mean seconds from start to end of its finished jobs. */
export const jobSeconds = (details: ReadonlyArray<Detail>): Record<string, number> => {
  const sums: Record<string, { total: number; count: number }> = {}
  for (const job of details.flatMap((d) => d.jobs)) {
    if (job.finishedAt === null) continue
    const entry = (sums[job.kind] ??= { total: 0, count: 0 })
    entry.total += (job.finishedAt - job.createdAt) / 1000
    entry.count++
  }
  return Object.fromEntries(Object.entries(sums).map(([kind, { total, count }]) => [kind, total / count]))
}

/**
 * A real run, started by `start` and left running (so the plan can read its
 * history) until `close`.
 */
export class RealRun {
  private server: Processes.Child | undefined
  private readonly workers: Array<Processes.Child> = []
  private database = ""
  apiUrl = ""

  constructor(readonly options: RunOptions) {}

  /** Creates the database, starts the server and the workers, and waits until every worker is registered. */
  async start(): Promise<void> {
    const { options } = this
    this.database = `plan_accuracy_${options.name.replace(/[^a-z0-9]/g, "_")}_${process.pid}`.slice(0, 63)
    const databaseUrl = await Postgres.createDatabase(options.adminUrl, this.database)
    const port = await freePort()
    this.apiUrl = `http://127.0.0.1:${port}`
    const server = Processes.start({
      name: `${options.name}-server`,
      command: process.execPath,
      args: [options.bundle, "server", "--host", "127.0.0.1", "--port", String(port), "--json"],
      cwd: Foreman.repoRoot,
      env: environment({
        DATABASE_URL: databaseUrl,
        FOREMAN_MAX_CONCURRENT_RESEARCHES: "1000",
        FOREMAN_DAILY_BUDGET_USD: "0"
      }),
      logFile: join(options.logDir, `${options.name}-server.log`)
    })
    this.server = server
    await until(`${server.name} to answer`, async () => {
      if (!server.alive()) throw new Error(`foreman server exited:\n${Processes.tail(server)}`)
      return (await Api.call(this.apiUrl, "GET", "/api/v1/health", { timeoutMs: 2_000 })).status === 200
    }, { timeoutMs: 90_000, everyMs: 200 }).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${Processes.tail(server)}`)
    })
    const ids: Array<string> = []
    for (const [type, count] of Object.entries(options.workers)) {
      for (let i = 1; i <= count; i++) {
        const id = `${type}-${i}`
        ids.push(id)
        this.workers.push(Processes.start({
          name: `${options.name}-${id}`,
          command: process.execPath,
          args: [options.bundle, "worker", "--type", type, "--id", id, "--api-url", this.apiUrl, "--json"],
          cwd: Foreman.repoRoot,
          env: environment({}),
          logFile: join(options.logDir, `${options.name}-${id}.log`)
        }))
      }
    }
    await until("every worker to register", async () => {
      const dead = this.workers.find((w) => !w.alive())
      if (dead !== undefined) throw new Error(`${dead.name} exited:\n${Processes.tail(dead)}`)
      const reply = await Api.call(this.apiUrl, "GET", "/api/v1/workers")
      if (reply.status !== 200 || !Array.isArray(reply.json)) return false
      const live = (reply.json as Array<{ id: string; status: string }>).filter((w) => ids.includes(w.id) && w.status !== "offline")
      return live.length === ids.length
    }, { timeoutMs: 60_000, everyMs: 200 })
  }

  /** Triggers the researches at their offsets, waits until every one has ended, and measures the run. */
  async run(): Promise<RunResult> {
    const { options } = this
    const startedAt = Date.now()
    let maxTriggerLagMs = 0
    const triggers: Array<Promise<string>> = []
    for (const [i, offset] of options.offsets.entries()) {
      await sleep(startedAt + offset - Date.now())
      maxTriggerLagMs = Math.max(maxTriggerLagMs, Date.now() - (startedAt + offset))
      triggers.push(this.trigger(i))
    }
    const ids = await Promise.all(triggers)
    options.log(`  ${ids.length} researches triggered over ${((Date.now() - startedAt) / 1000).toFixed(0)} s; waiting for them to end`)
    let lastReport = Date.now()
    await until("every research to end", async () => {
      const reply = await Api.call(this.apiUrl, "GET", "/api/v1/agent/status")
      if (reply.status !== 200) return false
      const active = (reply.json as { active: ReadonlyArray<unknown> }).active.length
      if (Date.now() - lastReport >= 30_000) {
        lastReport = Date.now()
        options.log(`  ${active} still active`)
      }
      return active === 0
    }, { timeoutMs: options.timeoutMs, everyMs: 500 })
    const details = await Promise.all(ids.map((id) => this.detail(id)))
    const open = details.filter((d) => !terminal.has(d.research.status))
    if (open.length > 0) throw new Error(`${open.length} researches have not ended: ${open.map((d) => d.research.id).join(", ")}`)
    const byStatus: Record<string, number> = {}
    for (const d of details) byStatus[d.research.status] = (byStatus[d.research.status] ?? 0) + 1
    return {
      apiUrl: this.apiUrl,
      startedAt,
      endedAt: Math.max(...details.map((d) => d.research.finishedAt ?? 0)),
      researches: ids.length,
      byStatus,
      observed: observe(details),
      jobSeconds: jobSeconds(details),
      maxTriggerLagMs
    }
  }

  private async trigger(index: number): Promise<string> {
    const reply = await Api.call(this.apiUrl, "POST", "/api/v1/agent/trigger", {
      body: { brief: `plan-accuracy research ${index + 1}`, requestId: `${this.options.name}-${index + 1}` }
    })
    if (reply.status !== 202) throw new Error(`trigger ${index + 1} answered ${reply.status}: ${reply.text}`)
    return (reply.json as { researchId: string }).researchId
  }

  private async detail(id: string): Promise<Detail> {
    const reply = await Api.call(this.apiUrl, "GET", `/api/v1/agent/researches/${id}`)
    if (reply.status !== 200) throw new Error(`GET research ${id} answered ${reply.status}: ${reply.text}`)
    return reply.json as Detail
  }

  /** Stops the workers and the server and drops the database. */
  async close(): Promise<void> {
    await Promise.all([...this.workers, ...(this.server === undefined ? [] : [this.server])].map((child) => Processes.kill(child)))
    if (this.database !== "") await Postgres.dropDatabase(this.options.adminUrl, this.database)
  }
}
