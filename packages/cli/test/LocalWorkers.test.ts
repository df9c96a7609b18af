/**
 * `foreman worker` processes started by `LocalWorkers` (as `foreman server
 * --local-workers` does): they register with the coordinator on their own
 * loopback ports, a killed one is restarted, and closing the scope drains
 * them and they deregister.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import { parseLocalWorkers } from "../src/commands/server.js"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import { LocalWorkers } from "../src/index.js"
import { capturing } from "./cliHarness.js"

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
      for (const w of registered) assert.match(w.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/)
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
