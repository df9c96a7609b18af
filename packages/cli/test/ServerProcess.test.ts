/**
 * `foreman server` and `foreman worker` as child processes on an embedded
 * PostgreSQL: with `--json`, stdout carries only the JSON line (read line by
 * line with `JSON.parse`, as `… --json | jq` would), while logs and the local
 * workers' output go to stderr; `--log-level` after the flags applies; and a
 * clean stop (SIGTERM) logs no warning from PostgreSQL about connections it
 * had to cut.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { apiGet, bin, cleanEnv, exited, signalGroup, waitFor } from "./processes.js"

const started: Array<ChildProcess> = []
const dataDirs: Array<string> = []
afterAll(() => {
  // Whatever a failed run left: each child's process group.
  for (const child of started) signalGroup(child)
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true })
})

/** A child `foreman <args>`: its stdout split into lines as they arrive, its stderr as text. */
const run = (args: ReadonlyArray<string>, env: Record<string, string>) => {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...cleanEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true
  })
  started.push(child)
  const lines: Array<string> = []
  let partial = ""
  let stderr = ""
  child.stdout?.on("data", (chunk) => {
    const parts = (partial + String(chunk)).split("\n")
    partial = parts.pop() ?? ""
    lines.push(...parts)
  })
  child.stderr?.on("data", (chunk) => (stderr += String(chunk)))
  return {
    child,
    /** The complete lines of stdout so far, and what is left of an unfinished one. */
    stdout: () => ({ lines, partial }),
    stderr: () => stderr,
    /** SIGTERM, then its exit code. */
    stop: async () => {
      child.kill("SIGTERM")
      return exited(child)
    }
  }
}

/** Each line of stdout, parsed as JSON (a line that is not JSON fails the test, naming it). */
const parsedLines = (lines: ReadonlyArray<string>): ReadonlyArray<unknown> =>
  lines.map((line) => {
    try {
      return JSON.parse(line) as unknown
    } catch {
      throw new Error(`not a JSON line on stdout: ${line}`)
    }
  })

const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "foreman-server-process-"))
  // As root, PostgreSQL runs as the postgres user, which must be able to enter it.
  chmodSync(dir, 0o755)
  dataDirs.push(dir)
  return join(dir, "pg")
}

interface Ready {
  readonly apiUrl: string
}

describe("foreman server and worker as processes", () => {
  it.live("--json: stdout is the JSON line alone; logs and the local workers' output go to stderr", () =>
    Effect.promise(async () => {
      const env = { FOREMAN_DATA_DIR: dataDir() }
      // --log-level after the flags: PostgreSQL's own lines are logged at debug level.
      const server = run(["server", "--port", "0", "--local-workers", "training=1", "--json", "--log-level", "debug"], env)
      const ready = await waitFor(
        "the server's JSON line",
        async () => server.stdout().lines[0],
        90_000,
        () => `${server.stdout().lines.join("\n")}\n${server.stderr()}`
      )
      const { apiUrl } = parsedLines([ready])[0] as Ready
      assert.match(apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
      await waitFor("the local worker's output", async () => (server.stderr().includes("[training-1] ") ? true : undefined), 60_000, server.stderr)

      const worker = run(["worker", "--type", "backtest", "--json", "--api-url", apiUrl], {})
      await waitFor("the worker's registration", async () => {
        const workers = await apiGet<ReadonlyArray<{ readonly type: string; readonly status: string }>>(apiUrl, "/workers")
        return workers.some((w) => w.type === "backtest" && w.status === "available") ? true : undefined
      }, 60_000, worker.stderr)
      assert.strictEqual(await worker.stop(), 0, worker.stderr())
      const workerOut = worker.stdout()
      assert.strictEqual(workerOut.partial, "")
      const [workerReady, ...more] = parsedLines(workerOut.lines)
      assert.deepStrictEqual(more, [], "one JSON line")
      assert.include(workerReady as object, { type: "backtest", protocol: "pull", endpoint: null, apiUrl })
      assert.match(worker.stderr(), /INFO/, "the worker's logs are on stderr")

      assert.strictEqual(await server.stop(), 0, server.stderr())
      const serverOut = server.stdout()
      assert.strictEqual(serverOut.partial, "")
      assert.strictEqual(parsedLines(serverOut.lines).length, 1, serverOut.lines.join("\n"))
      const stderr = server.stderr()
      assert.include(stderr, "Started training worker training-1")
      assert.include(stderr, "Local workers stopped")
      assert.match(stderr, /INFO .*embedded PostgreSQL is ready/)
      assert.match(stderr, /DEBUG .*database system is ready to accept connections/)
    }), 240_000)

  it.live("a clean stop logs no warning: PostgreSQL cuts no connection", () =>
    Effect.promise(async () => {
      // The connections' closing and the database's stop raced: run a few stops on one cluster.
      const env = { FOREMAN_DATA_DIR: dataDir() }
      for (let round = 1; round <= 4; round++) {
        const server = run(["server", "--port", "0", "--json"], env)
        const ready = await waitFor("the server's JSON line", async () => server.stdout().lines[0], 90_000, server.stderr)
        const { apiUrl } = JSON.parse(ready) as Ready
        await Promise.all(Array.from({ length: 5 }, () => fetch(`${apiUrl}/api/v1/agent/status`).then((r) => r.text())))
        assert.strictEqual(await server.stop(), 0, server.stderr())
        const stderr = server.stderr()
        assert.include(stderr, "stopped embedded PostgreSQL", stderr)
        assert.notMatch(stderr, /terminating connection|FATAL/, `round ${round}:\n${stderr}`)
      }
    }), 240_000)
})
