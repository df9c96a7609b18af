/**
 * Support for the conformance tests: the two SDKs' controllable workers
 * (`python_worker.py`, `typescript_worker.ts`), a real coordinator (`foreman
 * server`, no local workers) on a PostgreSQL database of its own, its API for
 * operators and for a raw protocol client, the workers' log files, and a proxy
 * that loses one answer on its way back to a worker.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { request, createServer, type IncomingMessage, type Server } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { bundled } from "@foreman/testing/Bundle"
import { createDatabase } from "@foreman/testing/PgDatabase"
import * as Python from "@foreman/testing/Python"
import { bin, cleanEnv, closedPort, exited, root, waitFor } from "../processes.js"

/** A Python of at least 3.11 (the SDK's floor), or undefined. */
const python = Python.find()

/** One SDK under test: how to run its conformance worker, if it can run here. */
export interface Sdk {
  readonly name: "python" | "typescript"
  /** Whether the SDK can run on this machine. */
  readonly available: boolean
  /** What to install when it cannot. */
  readonly missing: string
  /** The command and arguments that run the worker (built the first time it is asked for). */
  readonly command: () => Promise<ReadonlyArray<string>>
  /**
   * What its worker does when the coordinator refuses its token (401) at the
   * first registration: exit non-zero, or log and retry with backoff. The
   * protocol leaves it open.
   */
  readonly badToken: { readonly does: "exit" | "retry"; readonly says: RegExp }
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))

export const sdks: ReadonlyArray<Sdk> = [
  {
    name: "python",
    available: python !== undefined,
    missing: "no python3 (3.11 or newer) found: apt-get install python3",
    command: async () => [python!, here("./python_worker.py")],
    badToken: { does: "exit", says: /refused the registration of \S+: 401 Unauthorized/ }
  },
  {
    name: "typescript",
    available: true,
    missing: "",
    // Bundled with the workspace's current sources (as the `foreman` binary is): it starts in a second where tsx takes five.
    command: async () => [process.execPath, await bundled(here("./typescript_worker.ts"))],
    badToken: { does: "retry", says: /rejected the token \(401\): check FOREMAN_WORKER_TOKEN; retrying/ }
  }
]

/** A child process whose output is kept for failure messages. */
export interface Proc {
  readonly name: string
  readonly child: ChildProcess
  readonly output: () => string
  /** The exit code (null when a signal ended it), once it exits. */
  readonly exited: Promise<number | null>
  /** Sends `signal` (if it still runs). */
  readonly signal: (signal: NodeJS.Signals) => void
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null

const startProcess = (name: string, command: ReadonlyArray<string>, env: Record<string, string>): Proc => {
  const child = spawn(command[0]!, command.slice(1), { cwd: root, env: { ...cleanEnv, ...env }, stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout?.on("data", (chunk) => (output += String(chunk)))
  child.stderr?.on("data", (chunk) => (output += String(chunk)))
  return {
    name,
    child,
    output: () => output,
    exited: exited(child),
    signal: (signal) => void (running(child) && child.kill(signal))
  }
}

/** A research as `GET /agent/researches/{id}` answers it, as far as the tests read it. */
export interface Shown {
  readonly research: {
    readonly id: string
    readonly status: string
    readonly phase: string
    readonly error: string | null
    readonly waitingFor: { readonly workerType: string } | null
    readonly results: Record<string, Record<string, unknown>>
  }
  readonly jobs: ReadonlyArray<ShownJob>
}

export interface ShownJob {
  readonly id: string
  readonly kind: string
  readonly status: string
  readonly attempt: number
  readonly workerId: string | null
  readonly progress: number
  readonly message: string | null
  readonly result: unknown
  readonly error: string | null
}

/** A registered worker as `GET /workers` answers it. */
export interface ListedWorker {
  readonly id: string
  readonly type: string
  readonly status: string
  readonly protocol?: string
  readonly pollingUntil?: number | null
  readonly currentJobs: ReadonlyArray<string>
}

/** An answer of the API: its status and decoded body. */
export interface Answer {
  readonly status: number
  readonly body: Record<string, unknown>
}

/** Calls the coordinator's API (`/api/v1` + `path`) with JSON in and out; never throws on an error status. */
export const call = async (
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Promise<Answer> => {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  return { status: response.status, body: text === "" ? {} : JSON.parse(text) as Record<string, unknown> }
}

/** The results that pass the coordinator's gates, as the workers return them. */
export const results = {
  training: { kind: "classification", testAccuracy: 0.6, testLoss: 0.4 },
  backtest: { sharpeRatio: 1.2, winRate: 0.55, totalReturn: 0.1, totalTrades: 30, maxDrawdown: 0.1, netReturn: 0.09, tradeCount: 30 }
} as const

const terminal = ["completed", "failed", "cancelled"]

/** Coordinator settings that make lost workers and retries take seconds. */
export const quickRecovery = {
  FOREMAN_WORKER_OFFLINE_AFTER_SECONDS: "2",
  FOREMAN_ORPHAN_GRACE_SECONDS: "2"
}

/** A worker process of the SDK under test, with its log of job events. */
export interface WorkerProcess extends Proc {
  readonly id: string
  /** Its log lines: `start <jobId> <attempt>`, `done <jobId>`, `cancelled <jobId>`. */
  readonly lines: () => ReadonlyArray<string>
}

export interface WorkerOptions {
  readonly type: "training" | "backtest"
  /** How long each job takes (default 1). */
  readonly seconds?: number
  /** The worker's own settings, over the defaults (a 1 s heartbeat, 2 s polls). */
  readonly env?: Record<string, string>
  /** Another coordinator URL than the lab's (a proxy in front of it). */
  readonly apiUrl?: string
}

/**
 * One test's world: a coordinator on a database of its own, the workers it
 * starts, and a folder for their logs. `close` kills whatever still runs.
 */
export interface Lab {
  readonly url: string
  /** SIGKILLs the coordinator and waits until it is gone. */
  readonly killCoordinator: () => Promise<void>
  /** Starts a coordinator again on the same port and database, and waits until it answers. */
  readonly startCoordinator: () => Promise<void>
  readonly worker: (options: WorkerOptions) => Promise<WorkerProcess>
  /** Calls the API as an operator (with the operator token when one is set). */
  readonly api: (method: string, path: string, body?: unknown) => Promise<Answer>
  readonly trigger: (brief?: string) => Promise<string>
  readonly show: (id: string) => Promise<Shown>
  readonly workers: () => Promise<ReadonlyArray<ListedWorker>>
  /** Waits until `probe` answers something other than undefined, failing with every process's output. */
  readonly until: <A>(what: string, probe: () => Promise<A | undefined> | A | undefined, timeoutMs?: number) => Promise<A>
  /** Waits until the research is completed, failed or cancelled. */
  readonly finished: (id: string, timeoutMs?: number) => Promise<Shown>
  /** Waits until the research has a job of `kind` in one of `statuses`. */
  readonly job: (id: string, kind: string, statuses?: ReadonlyArray<string>) => Promise<ShownJob>
  /** Waits until the worker has registered and a poll of its waits. */
  readonly polling: (worker: WorkerProcess) => Promise<void>
  /** Every process's output, for failure messages. */
  readonly context: () => string
  readonly close: () => Promise<void>
}

let labs = 0

/**
 * Starts a coordinator (`foreman server`, PostgreSQL on a fresh database named
 * after `name`) with `env` over settings that keep the tests quick.
 */
export const startLab = async (sdk: Sdk, name: string, env: Record<string, string> = {}): Promise<Lab> => {
  const databaseUrl = await createDatabase(`foreman_conformance_${sdk.name}_${name}`.replace(/[^a-z0-9_]/g, "_"))
  const port = await Effect.runPromise(closedPort)
  const url = `http://127.0.0.1:${port}`
  const dir = mkdtempSync(join(tmpdir(), `foreman-conformance-${sdk.name}-${name}-`))
  const coordinatorEnv = {
    DATABASE_URL: databaseUrl,
    FOREMAN_PORT: String(port),
    FOREMAN_HOST: "127.0.0.1",
    FOREMAN_DAILY_BUDGET_USD: "0",
    FOREMAN_MAX_CONCURRENT_RESEARCHES: "10",
    FOREMAN_POLL_INTERVAL_SECONDS: "0.5",
    FOREMAN_RETRY_BACKOFF_SECONDS: "0.5",
    ...env
  }
  const operator: Record<string, string> = env["FOREMAN_API_TOKEN"] === undefined
    ? {}
    : { authorization: `Bearer ${env["FOREMAN_API_TOKEN"]}` }
  const processes: Array<Proc> = []
  let coordinator: Proc | undefined
  const lab = ++labs

  const context = () =>
    processes.map((p) => `--- ${p.name} ---\n${p.output().split("\n").slice(-60).join("\n")}`).join("\n") +
    readLogs()
  const readLogs = () =>
    processes.filter((p): p is WorkerProcess => "lines" in p)
      .map((w) => `\n--- log of ${w.id} ---\n${w.lines().join("\n")}`).join("")

  const until: Lab["until"] = (what, probe, timeoutMs = 60_000) =>
    waitFor(what, async () => probe(), timeoutMs, context)

  const startCoordinator = async () => {
    coordinator = startProcess(`coordinator ${processes.filter((p) => p.name.startsWith("coordinator")).length + 1}`, [
      process.execPath,
      bin,
      "server"
    ], coordinatorEnv)
    processes.push(coordinator)
    await until("the coordinator to answer", async () => ((await fetch(`${url}/api/v1/health`)).ok ? true : undefined), 90_000)
  }

  const api: Lab["api"] = (method, path, body) => call(url, method, path, body, operator)
  const ok = async (method: string, path: string, body?: unknown) => {
    const answer = await api(method, path, body)
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`)
    return answer.body
  }
  const show = async (id: string) => (await ok("GET", `/agent/researches/${id}`)) as unknown as Shown
  const workers = async () => (await ok("GET", "/workers")) as unknown as ReadonlyArray<ListedWorker>

  let workerCount = 0
  const worker = async (options: WorkerOptions): Promise<WorkerProcess> => {
    const command = await sdk.command()
    const id = `${sdk.name}-${lab}-${options.type}-${++workerCount}`
    const log = join(dir, `${id}.log`)
    appendFileSync(log, "")
    const proc = startProcess(id, command, {
      FOREMAN_API_URL: options.apiUrl ?? url,
      FOREMAN_WORKER_ID: id,
      FOREMAN_WORKER_TYPE: options.type,
      FOREMAN_HEARTBEAT_INTERVAL_SECONDS: "1",
      FOREMAN_POLL_WAIT_SECONDS: "2",
      FOREMAN_WORKER_MAX_RETRIES: "0",
      CONFORMANCE_LOG: log,
      CONFORMANCE_JOB_SECONDS: String(options.seconds ?? 1),
      ...options.env
    })
    const lines = () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((line) => line !== "") : [])
    const workerProcess: WorkerProcess = { ...proc, id, lines }
    processes.push(workerProcess)
    return workerProcess
  }

  const polling = async (w: WorkerProcess) => {
    await until(`${w.id} to poll`, async () => {
      const listed = (await workers()).find((l) => l.id === w.id)
      return listed !== undefined && listed.status === "available" && (listed.pollingUntil ?? 0) > Date.now()
        ? true
        : undefined
    })
  }

  const labApi: Lab = {
    url,
    killCoordinator: async () => {
      coordinator!.signal("SIGKILL")
      await coordinator!.exited
    },
    startCoordinator,
    worker,
    api,
    trigger: async (brief = "Explore RSI variations on EURUSD") =>
      String((await ok("POST", "/agent/trigger", { brief }))["researchId"]),
    show,
    workers,
    until,
    finished: (id, timeoutMs = 60_000) =>
      until(`research ${id} to finish`, async () => {
        const shown = await show(id)
        return terminal.includes(shown.research.status) ? shown : undefined
      }, timeoutMs),
    job: (id, kind, statuses = ["running"]) =>
      until(`a ${kind} job of ${id} in ${statuses.join("/")}`, async () =>
        (await show(id)).jobs.find((j) => j.kind === kind && statuses.includes(j.status))),
    polling,
    context,
    close: async () => {
      for (const p of processes) p.signal("SIGKILL")
      await Promise.all(processes.map((p) => p.exited))
      rmSync(dir, { recursive: true, force: true })
    }
  }
  await startCoordinator()
  return labApi
}

/** `start <jobId> <attempt>` lines of a log, as [jobId, attempt]. */
export const starts = (lines: ReadonlyArray<string>) =>
  lines.filter((line) => line.startsWith("start ")).map((line) => line.split(" ").slice(1) as [string, string])

/** A protocol client speaking for one worker with nothing but fetch (a pseudo-worker). */
export interface RawWorker {
  readonly id: string
  readonly poll: (waitSeconds: number, running?: ReadonlyArray<string>) => Promise<Answer>
  readonly report: (jobId: string, body: unknown) => Promise<Answer>
}

/** Registers a pull worker `id` of `type` and answers a client for its calls. */
export const registerRaw = async (url: string, id: string, type: string): Promise<RawWorker> => {
  const registered = await call(url, "POST", "/workers/register", { id, type, capacity: 1, runtime: "fetch" })
  if (registered.status !== 200) throw new Error(`registering ${id}: ${registered.status} ${JSON.stringify(registered.body)}`)
  const secret = String(registered.body["secret"])
  const headers = { "x-foreman-worker-secret": secret }
  return {
    id,
    poll: (waitSeconds, running = []) => call(url, "POST", `/workers/${id}/poll`, { waitSeconds, running }, headers),
    report: (jobId, body) => call(url, "POST", `/workers/${id}/jobs/${jobId}/report`, body, headers)
  }
}

/**
 * An HTTP proxy in front of the coordinator that forwards everything, except
 * that the answer to the first final report (`Completed` or `Failed`) is lost:
 * the request reaches the coordinator, then the worker's connection is cut.
 */
export interface LossyProxy {
  readonly url: string
  /** The final reports that came through, by job id, in order. */
  readonly finalReports: () => ReadonlyArray<string>
  readonly close: () => Promise<void>
}

export const lossyProxy = async (upstream: string): Promise<LossyProxy> => {
  const target = new URL(upstream)
  const reports: Array<string> = []
  let lost = false
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Array<Buffer> = []
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk))
    incoming.on("end", () => {
      const body = Buffer.concat(chunks)
      const report = /\/jobs\/([^/]+)\/report$/.exec(incoming.url ?? "")
      const tag = report === null ? undefined : (JSON.parse(body.toString()) as { _tag?: string })._tag
      const final = report !== null && (tag === "Completed" || tag === "Failed")
      if (final) reports.push(decodeURIComponent(report[1]!))
      const loseThis = final && !lost
      if (loseThis) lost = true
      const forwarded = request({
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: target.host }
      }, (answer: IncomingMessage) => {
        if (loseThis) {
          answer.resume()
          answer.on("end", () => incoming.socket.destroy())
          return
        }
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(outgoing)
      })
      forwarded.on("error", () => incoming.socket.destroy())
      forwarded.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    finalReports: () => reports,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
