/**
 * `foreman preflight` against an in-process coordinator: passing with real
 * `WorkerHost` workers of both types (a push worker answering on HTTP, a pull
 * worker with no endpoint to check), and failing for each check.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Domain } from "@foreman/core"
import { Effect } from "effect"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import { startPushWorker, startWorker } from "@foreman/testing/WorkerHarness"
import { against, closedPort, foreman, refusingUrl } from "./cliHarness.js"

interface Report {
  readonly checks: ReadonlyArray<{ name: string; ok: boolean; detail: string; cause?: string; cure?: string }>
  readonly ok: boolean
}

const registration = (id: string, type: string, endpoint: string) => ({
  payload: { id: id as Domain.WorkerId, type, endpoint, capacity: 1, capabilities: {}, runningJobs: [], finishedJobs: [] }
})

describe("foreman preflight", () => {
  it.scopedLive("passes with a training and a backtest worker registered and answering", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const api = yield* server.client()
      yield* startPushWorker(() => Effect.never, { apiUrl: server.baseUrl, type: "training", id: "trainer-1" })
      yield* startWorker(() => Effect.never, { apiUrl: server.baseUrl, type: "backtest", id: "backtester-1" })
      yield* eventually(api.workers.list({ urlParams: {} }), (list) => list.length === 2)

      const run = against(server.baseUrl)
      const out = yield* run(["preflight"])
      assert.strictEqual(out.code, 0)
      assert.deepStrictEqual(out.stdout.split("\n"), [
        `OK: Coordinator at ${server.baseUrl} answers; 2 workers registered`,
        "OK: Both worker types available (training=1, backtest=1)",
        "OK: No workers in error or offline state",
        "OK: The live worker endpoint answers; 1 pull worker needs none",
        "Pre-flight passed"
      ])
      const json = JSON.parse((yield* run(["preflight", "--json"])).stdout) as Report
      assert.isTrue(json.ok)
      assert.deepStrictEqual(json.checks.map((c) => [c.name, c.ok]), [
        ["coordinator reachable, workers registered", true],
        ["worker types", true],
        ["worker states", true],
        ["worker endpoints", true]
      ])
    }))

  it.effect("fails check 1 when the coordinator is unreachable, with symptom, cause and cure", () =>
    Effect.gen(function*() {
      const out = yield* foreman(["preflight", "--api-url", refusingUrl])
      assert.strictEqual(out.code, 1)
      const lines = out.stdout.split("\n")
      assert.strictEqual(lines[0], `FAIL: Cannot reach the coordinator at ${refusingUrl} (connection refused)`)
      assert.match(lines[1]!, /^ {2}Symptom: /)
      assert.match(lines[2]!, /^ {2}Cause: The coordinator is not running/)
      assert.match(lines[3]!, /^ {2}Cure: Start it with: npx foreman server/)
      assert.strictEqual(lines[4], "Pre-flight failed (1 check failed)")
      const json = JSON.parse((yield* foreman(["preflight", "--json", "--api-url", refusingUrl])).stdout) as Report
      assert.isFalse(json.ok)
      assert.strictEqual(json.checks.length, 1)
      assert.isString(json.checks[0]!.cause)
      assert.isString(json.checks[0]!.cure)
    }))

  it.effect("an unusable --api-url is a usage error, as for every command: exit 2 before any check", () =>
    Effect.gen(function*() {
      const out = yield* foreman(["preflight", "--api-url", "ftp://example"])
      assert.deepStrictEqual(out, {
        code: 2,
        stdout: "",
        stderr: "--api-url must be an http(s) URL such as http://127.0.0.1:8000, got \"ftp://example\""
      })
      const json = yield* foreman(["preflight", "--json"], { FOREMAN_API_URL: "not a url" })
      assert.deepStrictEqual(json, {
        code: 2,
        stdout: "",
        stderr: "FOREMAN_API_URL must be an http(s) URL such as http://127.0.0.1:8000, got \"not a url\""
      })
    }))

  it.scopedLive("fails check 1 when no worker is registered", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const out = yield* against(server.baseUrl)(["preflight"])
      assert.strictEqual(out.code, 1)
      assert.strictEqual(out.stdout.split("\n")[0], `FAIL: No workers registered with the coordinator at ${server.baseUrl}`)
    }))

  it.scopedLive("fails check 2 when a worker type is missing, check 4 when endpoints do not answer", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      const out = yield* against(server.baseUrl)(["preflight"])
      assert.strictEqual(out.code, 1)
      const lines = out.stdout.split("\n")
      assert.include(lines, "FAIL: Missing worker type: backtest (training=1, backtest=0)")
      assert.include(lines, "OK: No workers in error or offline state")
      assert.include(lines, "FAIL: Worker endpoints do not answer: training-1 at memory://training-1 (not an http(s) URL)")
      assert.strictEqual(lines.at(-1), "Pre-flight failed (2 checks failed)")
    }))

  it.scopedLive("fails check 3 for a worker in error and check 4 for an unreachable endpoint", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const api = yield* server.client()
      const port = yield* closedPort
      yield* api.workers.register(registration("training-9", "training", `http://127.0.0.1:${port}`))
      const backtest = yield* api.workers.register(registration("backtest-9", "backtest", `http://127.0.0.1:${port}`))
      yield* api.workers.heartbeat({
        path: { workerId: "backtest-9" as Domain.WorkerId },
        headers: { "x-foreman-worker-secret": backtest.secret },
        payload: { healthy: false }
      })
      const out = yield* against(server.baseUrl)(["preflight", "--json"])
      assert.strictEqual(out.code, 1)
      const report = JSON.parse(out.stdout) as Report
      assert.deepStrictEqual(report.checks.map((c) => c.ok), [true, true, false, false])
      assert.strictEqual(report.checks[2]!.detail, "Workers in error or offline state: backtest-9 (error)")
      assert.include(report.checks[3]!.detail, `training-9 at http://127.0.0.1:${port} (unreachable)`)
    }))
})
