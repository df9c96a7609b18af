/**
 * `foreman worker` processes started by `LocalWorkers` (as `foreman server
 * --local-workers` does): they register with the coordinator as pull workers
 * (no ports), a killed one is restarted, and closing the scope drains them and
 * they deregister. With the Python runtime: the interpreter found (or the one
 * line when there is none), and the repository's Python workers registering.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Scope } from "effect"
import { parseLocalWorkers } from "../src/commands/server.js"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import * as Python from "@foreman/testing/Python"
import { LocalWorkers } from "../src/index.js"
import { capturing } from "./cliHarness.js"

const python = Python.orSkip(
  "the Python local workers' test",
  ["sklearn", "pandas"],
  "apt-get install python3-sklearn python3-pandas"
)

describe("--local-workers", () => {
  it.effect("parses type=count pairs; duplicates, unknown types and non-decimal counts are refused", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* parseLocalWorkers("training=2, backtest=0"), [
        { type: "training", count: 2 },
        { type: "backtest", count: 0 }
      ])
      for (const text of ["training=1,training=2", "training=0x2", "training=1e1", "training=-1", "training=33", "gpu=1", "training="]) {
        yield* Effect.flip(parseLocalWorkers(text))
      }
    }))
})

describe("LocalWorkers", () => {
  it.scopedLive("starts example workers that register, restarts a dead one, and stops them cleanly", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const api = yield* server.client()
      const captured = capturing()
      const scope = yield* Scope.make()
      const started = yield* LocalWorkers.start({
        apiUrl: server.baseUrl,
        workers: [{ type: "training", count: 1 }, { type: "backtest", count: 1 }],
        restartBackoff: "100 millis",
        stopTimeout: "20 seconds"
      }).pipe(Scope.extend(scope), Effect.withConsole(captured.console))
      assert.deepStrictEqual(started.map((w) => w.id), ["training-1", "backtest-1"])

      const registered = yield* eventually(
        api.workers.list({ urlParams: {} }),
        (list) => list.filter((w) => w.status === "available").length === 2,
        60
      )
      assert.deepStrictEqual(registered.map((w) => w.id).sort(), ["backtest-1", "training-1"])
      for (const w of registered) {
        assert.strictEqual(w.protocol, "pull")
        assert.match(w.runtime ?? "", /^node \d+\./)
      }
      assert.include(captured.stdout(), "Started training worker training-1 (pid ")

      const first = started[0]!.pid()
      process.kill(first!, "SIGKILL")
      yield* eventually(Effect.sync(() => started[0]!.pid()), (pid) => pid !== undefined && pid !== first, 30)
      assert.include(captured.stderr(), "Worker training-1 exited unexpectedly by SIGKILL; restarting in 100ms")

      yield* Scope.close(scope, Exit.void).pipe(Effect.withConsole(captured.console))
      assert.include(captured.stdout(), "Local workers stopped")
      const after = yield* api.workers.list({ urlParams: {} })
      assert.deepStrictEqual(after.filter((w) => w.id === "backtest-1"), [])
    }), 120_000)
})

describe("LocalWorkers with the Python runtime", () => {
  const withEnvironment = (entries: ReadonlyArray<readonly [string, string]>) =>
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries)))

  it.live("fails with one line when no interpreter has scikit-learn and pandas", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(LocalWorkers.python(["training"], ["/nonexistent/python3"]).pipe(withEnvironment([])))
      assert.strictEqual(
        error.message,
        "--worker-runtime python needs a python3 with scikit-learn and pandas " +
          "(apt-get install python3-sklearn python3-pandas), or FOREMAN_PYTHON set to one"
      )
    }))

  it.live("takes FOREMAN_PYTHON as it is, and names a worker type with no Python worker", () =>
    Effect.gen(function*() {
      const runtime = yield* LocalWorkers.python(["training", "backtest"], []).pipe(
        withEnvironment([["FOREMAN_PYTHON", "/opt/lab/bin/python"]])
      )
      assert.deepStrictEqual(runtime, { _tag: "Python", python: "/opt/lab/bin/python" })
      const error = yield* Effect.flip(LocalWorkers.python(["gpu"]).pipe(withEnvironment([])))
      assert.match(error.message, /^--worker-runtime python runs the repository's Python example workers: .*gpu_worker\.py not found$/)
    }))

  it.scopedLive.skipIf(python === undefined)("starts the repository's Python workers, which register to pull jobs", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const api = yield* server.client()
      const captured = capturing()
      const runtime = yield* LocalWorkers.python(["training", "backtest"]).pipe(
        withEnvironment([["FOREMAN_PYTHON", python!]])
      )
      yield* LocalWorkers.start({
        apiUrl: server.baseUrl,
        workers: [{ type: "training", count: 1 }, { type: "backtest", count: 1 }],
        runtime,
        stopTimeout: "20 seconds"
      }).pipe(Effect.withConsole(captured.console))
      const registered = yield* eventually(
        api.workers.list({ urlParams: {} }),
        (list) => list.filter((w) => w.status === "available").length === 2,
        60
      )
      assert.deepStrictEqual(registered.map((w) => [w.id, w.type, w.protocol]).sort(), [
        ["backtest-1", "backtest", "pull"],
        ["training-1", "training", "pull"]
      ])
      for (const w of registered) assert.match(w.runtime ?? "", /^python 3\./)
      assert.include(captured.stdout(), "Started training worker training-1 (python, pid ")
    }), 120_000)
})
