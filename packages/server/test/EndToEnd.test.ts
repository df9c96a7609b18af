/**
 * End to end with real processes on loopback: the coordinator server on
 * PostgreSQL, two training and one backtest worker processes (one training
 * worker on the legacy push protocol, the others pulling). Researches queue
 * and complete; a cancel reaches its worker; the server is SIGKILLed while a
 * research trains and a new one finishes it with the worker's result; a worker
 * SIGKILLed mid-job has its job retried on another.
 *
 * The workers run the fixture bundled from the current sources (as the server
 * runs the `foreman` bundle). Processes start slowly on a loaded machine, so
 * every wait is on a condition with a generous deadline, and the test timeouts
 * leave room for them. The push worker listens on a port the system chooses;
 * the server's port is found free, and another is tried if it was taken meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { bundled } from "@foreman/testing/Bundle"
import { createDatabase } from "@foreman/testing/PgDatabase"

/** The `foreman` command, whose `server` is the production composition. */
const foreman = fileURLToPath(new URL("../../cli/bin/foreman.mjs", import.meta.url))
const workerScript = fileURLToPath(new URL("./fixtures/worker.ts", import.meta.url))

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })

interface Proc {
  readonly child: ChildProcess
  readonly output: Array<string>
}

/** Runs the JavaScript file `script` with node. */
const start = (script: string, env: Record<string, string>, args: ReadonlyArray<string> = []): Proc => {
  const { DATABASE_URL: _a, FOREMAN_DATABASE_URL: _b, ...inherited } = process.env
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...inherited, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const output: Array<string> = []
  child.stdout?.on("data", (chunk) => output.push(String(chunk)))
  child.stderr?.on("data", (chunk) => output.push(String(chunk)))
  return { child, output }
}

const stop = (proc: Proc | undefined, signal: NodeJS.Signals = "SIGKILL") =>
  new Promise<void>((resolve) => {
    if (proc === undefined || proc.child.exitCode !== null || proc.child.signalCode !== null) return resolve()
    proc.child.once("exit", () => resolve())
    proc.child.kill(signal)
  })

/** Generous: a condition that holds within seconds on an idle machine may take a minute on a loaded one. */
const patience = 120_000

const waitFor = async <A>(what: string, probe: () => Promise<A | undefined>, timeoutMs = patience): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

interface Job {
  readonly id: string
  readonly kind: string
  readonly status: string
  readonly workerId: string | null
  readonly result: unknown
  readonly error: string | null
}
interface Detail {
  readonly research: { readonly id: string; readonly status: string; readonly phase: string; readonly error: string | null }
  readonly jobs: ReadonlyArray<Job>
}
interface Status {
  readonly active: ReadonlyArray<{
    readonly id: string
    readonly phase: string
    readonly waitingFor: { readonly workerType: string } | null
    readonly job: { readonly kind: string; readonly workerId: string | null } | null
  }>
}
interface Worker {
  readonly id: string
  readonly status: string
  readonly currentJobs: ReadonlyArray<string>
}

const serverEnv = {
  FOREMAN_POLL_INTERVAL_SECONDS: "0.5",
  FOREMAN_HEARTBEAT_INTERVAL_SECONDS: "1",
  FOREMAN_WORKER_OFFLINE_AFTER_SECONDS: "3",
  FOREMAN_ORPHAN_GRACE_SECONDS: "8",
  FOREMAN_RETRY_BACKOFF_SECONDS: "0.5",
  FOREMAN_DAILY_BUDGET_USD: "0",
  FOREMAN_MAX_CONCURRENT_RESEARCHES: "20"
}

describe("end to end with real processes", () => {
  let databaseUrl = ""
  let workerBundle = ""
  let api = ""
  let serverPort = 0
  let server: Proc | undefined
  const workers = new Map<string, Proc>()
  const dir = mkdtempSync(join(tmpdir(), "foreman-e2e-"))
  const startsFile = join(dir, "starts.log")
  const stopsFile = join(dir, "stops.log")

  const call = async <A>(method: string, path: string, body?: unknown): Promise<{ status: number; body: A }> => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await response.text()
    return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as A }
  }
  const show = async (id: string) => (await call<Detail>("GET", `/api/v1/agent/researches/${id}`)).body
  const trigger = async (brief: string) => {
    const response = await call<{ researchId: string }>("POST", "/api/v1/agent/trigger", { brief })
    expect(response.status).toBe(202)
    return response.body.researchId
  }
  const finished = (id: string) =>
    waitFor(`${id} to finish`, async () => {
      const detail = await show(id)
      return detail.research.status === "completed" || detail.research.status === "failed" ? detail : undefined
    }, 180_000)
  const trainingOf = (id: string) =>
    waitFor(`${id} to train`, async () => {
      const detail = await show(id)
      return detail.jobs.find((j) => j.kind === "training" && j.status === "running")
    })

  /** Starts the server on `serverPort`: whether it answers, or exited first (its port taken, say). */
  const startServer = async (): Promise<boolean> => {
    const proc = start(foreman, { ...serverEnv, DATABASE_URL: databaseUrl, FOREMAN_PORT: String(serverPort) }, ["server"])
    server = proc
    const up = await waitFor("the server", async () => {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) return false
      const response = await fetch(`${api}/api/v1/health`)
      return response.ok ? true : undefined
    })
    return up
  }
  /** Starts the server on a port found free, trying another if it was taken before the server bound it. */
  const startServerAnywhere = async () => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      serverPort = await freePort()
      api = `http://127.0.0.1:${serverPort}`
      if (await startServer()) return
    }
    throw new Error(`the server did not start:\n${server?.output.join("") ?? ""}`)
  }
  const startWorker = (id: string, type: string, protocol: "pull" | "push" = "pull") => {
    workers.set(
      id,
      start(workerBundle, {
        FOREMAN_API_URL: api,
        FOREMAN_WORKER_ID: id,
        FOREMAN_WORKER_TYPE: type,
        FOREMAN_WORKER_PROTOCOL: protocol,
        FOREMAN_WORKER_HOST: "127.0.0.1",
        FOREMAN_WORKER_PORT: "0",
        FOREMAN_POLL_WAIT_SECONDS: "5",
        FOREMAN_HEARTBEAT_INTERVAL_SECONDS: "1",
        FOREMAN_WORKER_DRAIN_SECONDS: "2",
        FOREMAN_TEST_JOB_SECONDS: "3",
        FOREMAN_TEST_STARTS_FILE: startsFile,
        FOREMAN_TEST_STOPS_FILE: stopsFile
      })
    )
  }

  beforeAll(async () => {
    databaseUrl = await createDatabase("foreman_e2e")
    workerBundle = await bundled(workerScript)
    writeFileSync(startsFile, "")
    writeFileSync(stopsFile, "")
    await startServerAnywhere()
    startWorker("training-1", "training")
    startWorker("training-2", "training", "push")
    startWorker("backtest-1", "backtest")
    await waitFor("three workers", async () => {
      const list = await call<ReadonlyArray<Worker>>("GET", "/api/v1/workers")
      return list.body.filter((w) => w.status === "available").length === 3 ? true : undefined
    }, 240_000)
  }, 600_000)

  afterAll(async () => {
    await Promise.all([...workers.values()].map((w) => stop(w)))
    await stop(server, "SIGTERM")
    rmSync(dir, { recursive: true, force: true })
  })

  const dump = () => [server, ...workers.values()].flatMap((p) => p?.output.slice(-20) ?? []).join("")

  it("runs three researches: two train at once, the third waits, all complete", async () => {
    const ids = [await trigger("Explore RSI variations"), await trigger("Test MACD strategies")]
    ids.push(await trigger("Multi-timeframe experiment"))
    const status = await waitFor("two training and one waiting", async () => {
      const s = (await call<Status>("GET", "/api/v1/agent/status")).body
      const training = s.active.filter((r) => r.job?.kind === "training")
      const waiting = s.active.filter((r) => r.waitingFor?.workerType === "training")
      return training.length === 2 && waiting.length === 1 ? s : undefined
    })
    expect(new Set(status.active.filter((r) => r.job !== null).map((r) => r.job!.workerId)).size).toBe(2)
    for (const id of ids) {
      const detail = await finished(id)
      expect(detail.research.status, dump()).toBe("completed")
      expect(detail.jobs.map((j) => j.kind)).toEqual(["design", "training", "backtest", "assessment"])
    }
  }, 600_000)

  it("cancels a research: the cancel reaches the worker and frees it", async () => {
    const id = await trigger("Cancel me")
    const job = await trainingOf(id)
    const cancelled = await call<{ status: string }>("DELETE", `/api/v1/agent/researches/${id}`)
    expect(cancelled.status).toBe(200)
    expect(cancelled.body.status).toBe("cancelled")
    const worker = (await call<Worker>("GET", `/api/v1/workers/${job.workerId}`)).body
    expect(worker.currentJobs).toEqual([])
    // Told at once (push) or by its next heartbeat (pull), the worker stops the job.
    await waitFor(`${job.id} to stop on ${job.workerId}`, async () =>
      readFileSync(stopsFile, "utf8").split("\n").includes(`${job.id} ${job.workerId}`) ? true : undefined)
    const again = await call<{ _tag: string }>("DELETE", `/api/v1/agent/cancel/${id}`)
    expect(again.status).toBe(200)
  }, 300_000)

  it("finishes a research whose server was SIGKILLed while it trained, with the worker's result", async () => {
    const id = await trigger("Survive a restart")
    const job = await trainingOf(id)
    await stop(server, "SIGKILL")
    // Down for a moment, as in a real crash: the worker's report finds nobody.
    await new Promise((r) => setTimeout(r, 1_000))
    // The same port, which the workers know; it was ours a second ago.
    if (!(await startServer())) throw new Error(`the server did not start again:\n${dump()}`)
    const detail = await finished(id)
    expect(detail.research.status, dump()).toBe("completed")
    const trainings = detail.jobs.filter((j) => j.kind === "training")
    expect(trainings.map((j) => [j.id, j.status])).toEqual([[job.id, "completed"]])
    expect(trainings[0]!.result).toMatchObject({ testAccuracy: 0.6 })
    const starts = readFileSync(startsFile, "utf8").trim().split("\n").map((line) => line.split(" ")[0])
    expect(starts.length, "no worker job started twice").toBe(new Set(starts).size)
  }, 600_000)

  it("retries on another worker the job of a worker SIGKILLed mid-job", async () => {
    const id = await trigger("Lose a worker")
    const job = await trainingOf(id)
    await stop(workers.get(job.workerId!), "SIGKILL")
    const detail = await finished(id)
    expect(detail.research.status, dump()).toBe("completed")
    const trainings = detail.jobs.filter((j) => j.kind === "training")
    expect(trainings.map((j) => j.status)).toEqual(["lost", "completed"])
    expect(trainings[1]!.workerId).not.toBe(job.workerId)
    const gone = (await call<Worker>("GET", `/api/v1/workers/${job.workerId}`)).body
    expect(gone.status).toBe("offline")
  }, 600_000)
})
