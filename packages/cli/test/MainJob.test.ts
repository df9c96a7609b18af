/**
 * The main job as a newcomer runs it: `npm start` (foreman server with two
 * training and one backtest example worker, as child processes) on a database
 * of its own; a research triggered with the `foreman` CLI goes through every
 * phase, and its result carries real metrics from the example workers; Ctrl+C
 * (SIGINT to the process group) stops the workers and the server cleanly.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { createDatabase } from "@foreman/testing/PgDatabase"
import { Effect } from "effect"
import { apiGet, cleanEnv, cliJson, closedPort, exited, foreman, root, signalGroup, waitFor } from "./processes.js"

interface Shown {
  readonly research: {
    readonly status: string
    readonly results: Record<string, Record<string, unknown>>
    readonly gates: Record<string, { readonly passed: boolean }>
  }
  readonly jobs: ReadonlyArray<{ readonly kind: string; readonly status: string; readonly workerId: string | null }>
}

let lab: ChildProcess | undefined
afterAll(() => {
  // Whatever the test left running (a failed run): the lab's whole process group.
  signalGroup(lab)
})

describe("npm start", () => {
  it.live("runs a lab where a research triggered with the CLI completes every phase with real metrics", () =>
    Effect.promise(async () => {
      const port = await Effect.runPromise(closedPort)
      const apiUrl = `http://127.0.0.1:${port}`
      const databaseUrl = await createDatabase("foreman_cli_main_job")
      let output = ""
      lab = spawn("npm", ["start"], {
        cwd: root,
        env: { ...cleanEnv, DATABASE_URL: databaseUrl, FOREMAN_PORT: String(port) },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true
      })
      lab.stdout?.on("data", (chunk) => (output += String(chunk)))
      lab.stderr?.on("data", (chunk) => (output += String(chunk)))

      // The banner tells the newcomer where the API and docs are and what to type next.
      await waitFor("the banner", async () => (output.includes("Next:") ? true : undefined), 60_000)
      assert.include(output, `Docs:  ${apiUrl}/docs`)
      assert.include(output, "Agents: offline: designs and assessments are not from a model")
      assert.include(output, `npx foreman agent trigger --brief`)
      await waitFor("three registered workers", async () => {
        const workers = await apiGet<ReadonlyArray<{ readonly status: string }>>(apiUrl, "/workers")
        return workers.filter((w) => w.status === "available").length === 3 ? true : undefined
      }, 90_000)

      const triggered = await foreman(["agent", "trigger", "--brief", "Explore RSI variations on EURUSD"], { FOREMAN_API_URL: apiUrl })
      assert.strictEqual(triggered.code, 0, triggered.stderr)
      const id = /^Research triggered: (op_\w+)$/m.exec(triggered.stdout)?.[1]
      assert.isDefined(id, triggered.stdout)

      await waitFor("the research to finish", async () => {
        const detail = await apiGet<Shown>(apiUrl, `/agent/researches/${id!}`)
        return detail.research.status === "completed" || detail.research.status === "failed" ? true : undefined
      }, 120_000)
      const shown = await cliJson<Shown>(["agent", "show", id!], apiUrl)

      assert.strictEqual(shown.research.status, "completed", JSON.stringify(shown.research))
      assert.deepStrictEqual(shown.jobs.map((j) => [j.kind, j.status]), [
        ["design", "completed"],
        ["training", "completed"],
        ["backtest", "completed"],
        ["assessment", "completed"]
      ])
      assert.match(shown.jobs[1]!.workerId ?? "", /^training-[12]$/)
      assert.strictEqual(shown.jobs[2]!.workerId, "backtest-1")

      // Real training: a trained model, per-epoch losses, accuracy from a test window.
      const training = shown.research.results["training"]!
      const epochLosses = training["epochLosses"] as ReadonlyArray<number>
      assert.isAbove(epochLosses.length, 10)
      // The fit improves on its start at some epoch (on a strategy whose features carry no
      // signal, the last epoch can end a hair above the first: 0.6913 after 0.6909).
      assert.isBelow(Math.min(...epochLosses), epochLosses[0]!)
      assert.isAbove(training["testAccuracy"] as number, 0.3)
      assert.isBelow(training["testAccuracy"] as number, 0.8)
      assert.isDefined(training["model"])
      // Real backtest: trades on held-out data, after costs.
      const backtest = shown.research.results["backtest"]!
      assert.isAbove(backtest["totalTrades"] as number, 0)
      assert.isTrue(Number.isFinite(backtest["sharpeRatio"] as number))
      assert.isAtLeast(backtest["maxDrawdown"] as number, 0)
      assert.isAtMost(backtest["maxDrawdown"] as number, 1)
      assert.isDefined(shown.research.results["assessment"])
      assert.isTrue(shown.research.gates["training"]!.passed)

      // The activity lines show the research's moves.
      assert.include(output, `${id}  training   started on training-`)
      assert.include(output, `${id}  COMPLETED`)

      // Ctrl+C: workers drain and stop, then the server.
      signalGroup(lab, "SIGINT")
      const code = await Promise.race([exited(lab), new Promise<string>((r) => setTimeout(() => r("timeout"), 60_000))])
      assert.notStrictEqual(code, "timeout", output)
      assert.include(output, "Local workers stopped")
      assert.notInclude(output, "Error:")
    }), 300_000)
})
