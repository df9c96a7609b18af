/**
 * Workers in any language, as a lab runs them: two `foreman server` replicas
 * on one PostgreSQL database; a training worker written from
 * docs/worker-protocol.md with nothing but Python's urllib, the Python SDK's
 * scikit-learn training and pandas backtest workers, and a TypeScript worker,
 * each talking to one replica or the other. Researches triggered on one
 * replica complete end to end, and the workers list shows each worker's
 * runtime and protocol.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { createDatabase } from "@foreman/testing/PgDatabase"
import * as Python from "@foreman/testing/Python"
import { Effect } from "effect"
import { bin, cleanEnv, closedPort, foreman, root, waitFor } from "./processes.js"

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
  it.live("a urllib worker, the Python SDK's workers and a TypeScript worker complete researches across two replicas", () =>
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
        FOREMAN_HEARTBEAT_INTERVAL_SECONDS: "2"
      })
      const workers = [
        start(python!, ["examples/python/urllib_worker.py"], workerEnv(urlB, "py-urllib-1", "training")),
        start(python!, ["examples/python/training_worker.py"], workerEnv(urlA, "py-sdk-train-1", "training")),
        start(python!, ["examples/python/backtest_worker.py"], workerEnv(urlB, "py-sdk-back-1", "backtest")),
        start(process.execPath, [bin, "worker", "--type", "backtest"], workerEnv(urlA, "ts-back-1", "backtest"))
      ]
      const everything = () => `${logs()}\n${workers.map((w) => w.output()).join("\n")}`

      const listed = await waitFor("four registered workers", async () => {
        const out = await foreman(["workers", "--json"], { FOREMAN_API_URL: urlA })
        const all = JSON.parse(out.stdout) as ReadonlyArray<Listed>
        return all.length === 4 ? all : undefined
      }, 60_000, everything)
      const byId = new Map(listed.map((w) => [w.id, w]))
      assert.match(byId.get("py-urllib-1")?.runtime ?? "", /^python 3\.\d+ \(urllib\)$/)
      assert.match(byId.get("py-sdk-train-1")?.runtime ?? "", /^python 3\.\d+/)
      assert.strictEqual(byId.get("py-urllib-1")?.protocol, "pull")
      assert.strictEqual(byId.get("py-sdk-back-1")?.protocol, "pull")

      const ids: Array<string> = []
      for (let i = 0; i < 4; i++) {
        const triggered = await foreman(["agent", "trigger", "--brief", `Momentum on EURUSD, variant ${i}`], { FOREMAN_API_URL: urlA })
        assert.strictEqual(triggered.code, 0, triggered.stderr)
        ids.push(/^Research triggered: (op_\w+)$/m.exec(triggered.stdout)![1]!)
      }
      interface Shown {
        readonly research: { readonly status: string; readonly error: string | null; readonly results: Record<string, Record<string, unknown>> }
        readonly jobs: ReadonlyArray<{ readonly kind: string; readonly status: string; readonly workerId: string | null }>
      }
      const finished: Array<Shown> = []
      for (const id of ids) {
        finished.push(await waitFor(`research ${id} to finish`, async () => {
          const out = await foreman(["agent", "show", id, "--json"], { FOREMAN_API_URL: urlB })
          const detail = JSON.parse(out.stdout) as Shown
          return ["completed", "failed", "cancelled"].includes(detail.research.status) ? detail : undefined
        }, 240_000, everything))
      }
      for (const shown of finished) assert.strictEqual(shown.research.status, "completed", shown.research.error ?? "")
      const ran = new Set(finished.flatMap((s) => s.jobs.filter((j) => j.status === "completed").map((j) => j.workerId)))
      // Every research trained and backtested on one of the workers above; which one took which is the queue's call.
      for (const shown of finished) {
        const training = shown.jobs.find((j) => j.kind === "training" && j.status === "completed")
        const backtest = shown.jobs.find((j) => j.kind === "backtest" && j.status === "completed")
        assert.include(["py-urllib-1", "py-sdk-train-1"], training?.workerId)
        assert.include(["py-sdk-back-1", "ts-back-1"], backtest?.workerId)
      }
      assert.isAbove(ran.size, 2, `workers that ran jobs: ${[...ran].join(", ")}`)
      const fromSdk = finished.find((s) => s.jobs.some((j) => j.workerId === "py-sdk-back-1" && j.kind === "backtest"))
      if (fromSdk !== undefined) {
        const curve = fromSdk.research.results["backtest"]!["equityCurve"] as ReadonlyArray<{ readonly strategy: number }>
        assert.strictEqual(curve[0]!.strategy, 1)
      }
    }), 420_000)
})
