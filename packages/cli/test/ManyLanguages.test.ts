/**
 * Workers in any language, as a lab runs them: two `foreman server` replicas
 * on one PostgreSQL database; the Python SDK's scikit-learn training worker,
 * and as backtest workers one written from docs/worker-protocol.md with nothing
 * but Python's urllib, a TypeScript one and the SDK's pandas one, each talking
 * to one replica or the other. A research triggered on one replica completes
 * end to end on each, and the workers list shows each worker's runtime and
 * protocol.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { createDatabase } from "@foreman/testing/PgDatabase"
import * as Python from "@foreman/testing/Python"
import { Effect } from "effect"
import { apiGet, bin, cleanEnv, cliJson, closedPort, foreman, root, waitFor } from "./processes.js"

const python = Python.orSkip(
  "the Python workers' end-to-end test",
  ["sklearn", "pandas"],
  "apt-get install python3-sklearn python3-pandas"
)

const children: Array<ChildProcess> = []
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
})

/** Starts a child process, keeping its output for failure messages. */
const start = (command: string, args: ReadonlyArray<string>, env: Record<string, string>) => {
  const child = spawn(command, args, { cwd: root, env: { ...cleanEnv, ...env }, stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout?.on("data", (chunk) => (output += String(chunk)))
  child.stderr?.on("data", (chunk) => (output += String(chunk)))
  children.push(child)
  return { child, output: () => output }
}

interface Listed {
  readonly id: string
  readonly status: string
  readonly protocol?: string
  readonly runtime?: string
}

describe.skipIf(python === undefined)("workers in any language", () => {
  it.live("the Python SDK's workers, a urllib worker and a TypeScript worker complete researches across two replicas", () =>
    Effect.promise(async () => {
      const databaseUrl = await createDatabase("foreman_many_languages")
      const [portA, portB] = [await Effect.runPromise(closedPort), await Effect.runPromise(closedPort)]
      const urlA = `http://127.0.0.1:${portA}`
      const urlB = `http://127.0.0.1:${portB}`
      const server = (port: number) =>
        start(process.execPath, [bin, "server"], {
          DATABASE_URL: databaseUrl,
          FOREMAN_PORT: String(port),
          FOREMAN_MAX_CONCURRENT_RESEARCHES: "10"
        })
      const replicas = [server(portA), server(portB)]
      const logs = () => replicas.map((r) => r.output()).join("\n")
      for (const url of [urlA, urlB]) {
        await waitFor(`the replica at ${url}`, async () => ((await fetch(`${url}/api/v1/health`)).ok ? true : undefined), 90_000, logs)
      }

      const workerEnv = (url: string, id: string, type: string) => ({
        FOREMAN_API_URL: url,
        FOREMAN_WORKER_ID: id,
        FOREMAN_WORKER_TYPE: type,
        FOREMAN_HEARTBEAT_INTERVAL_SECONDS: "2",
        FOREMAN_POLL_WAIT_SECONDS: "2"
      })
      // A backtest reads the model its training wrote, so the lab trains with the Python SDK's worker and
      // backtests with workers that read its results: the SDK's own, the urllib worker (made-up metrics,
      // whatever the model) and a TypeScript worker running the chaos suite's fake work. Each backtest
      // worker is the only one up for one research, so each is shown to run one.
      const workers = [start(python!, ["examples/python/training_worker.py"], workerEnv(urlA, "py-sdk-train-1", "training"))]
      const everything = () => `${logs()}\n${workers.map((w) => w.output()).join("\n")}`
      const backtests = [
        { id: "py-urllib-1", command: python!, args: ["examples/python/urllib_worker.py"], url: urlB },
        { id: "ts-back-1", command: process.execPath, args: [bin, "worker", "--type", "backtest", "--module", "chaos/worker/fakeWorker.mjs"], url: urlA },
        { id: "py-sdk-back-1", command: python!, args: ["examples/python/backtest_worker.py"], url: urlB }
      ]
      interface Shown {
        readonly research: { readonly status: string; readonly error: string | null; readonly results: Record<string, Record<string, unknown>> }
        readonly jobs: ReadonlyArray<{ readonly kind: string; readonly status: string; readonly workerId: string | null }>
      }
      const registered = async (id: string) => {
        await waitFor(`${id} to register`, async () =>
          (await apiGet<ReadonlyArray<Listed>>(urlA, "/workers")).some((w) => w.id === id) ? true : undefined, 60_000, everything)
        return (await cliJson<ReadonlyArray<Listed>>(["workers"], urlA)).find((w) => w.id === id)!
      }
      const training = await registered("py-sdk-train-1")
      assert.match(training.runtime ?? "", /^python 3\.\d+$/)
      assert.strictEqual(training.protocol, "pull")
      for (const [i, backtest] of backtests.entries()) {
        const worker = start(backtest.command, backtest.args, workerEnv(backtest.url, backtest.id, "backtest"))
        workers.push(worker)
        const listed = await registered(backtest.id)
        assert.strictEqual(listed.protocol, "pull")
        if (backtest.id === "py-urllib-1") assert.match(listed.runtime ?? "", /^python 3\.\d+ \(urllib\)$/)
        const triggered = await foreman(["agent", "trigger", "--brief", `Momentum on EURUSD, variant ${i}`], { FOREMAN_API_URL: urlA })
        assert.strictEqual(triggered.code, 0, triggered.stderr)
        const id = /^Research triggered: (op_\w+)$/m.exec(triggered.stdout)![1]!
        await waitFor(`research ${id} to finish`, async () => {
          const detail = await apiGet<Shown>(urlB, `/agent/researches/${id}`)
          return ["completed", "failed", "cancelled"].includes(detail.research.status) ? true : undefined
        }, 240_000, everything)
        const shown = await cliJson<Shown>(["agent", "show", id], urlB)
        assert.strictEqual(shown.research.status, "completed", shown.research.error ?? "")
        const ran = (kind: string) => shown.jobs.find((j) => j.kind === kind && j.status === "completed")?.workerId
        assert.strictEqual(ran("training"), "py-sdk-train-1")
        assert.strictEqual(ran("backtest"), backtest.id)
        if (backtest.id === "py-sdk-back-1") {
          const curve = shown.research.results["backtest"]!["equityCurve"] as ReadonlyArray<{ readonly strategy: number }>
          assert.strictEqual(curve[0]!.strategy, 1)
        }
        // It drains and leaves (SIGTERM), so the next research goes to the next worker.
        worker.child.kill("SIGTERM")
        await waitFor(`${backtest.id} to stop`, async () => (worker.child.exitCode !== null ? true : undefined), 60_000, everything)
        assert.strictEqual(worker.child.exitCode, 0, worker.output())
      }
    }), 420_000)
})
