/** `foreman workers`: the table and its filters. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { startServer } from "@foreman/testing/ApiHarness"
import { against } from "./cliHarness.js"

describe("foreman workers", () => {
  it.scopedLive("lists id, type, status, runtime, protocol and jobs; filters by type and status; --json", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      yield* server.workers.spawn({ id: "training-1", type: "training", capacity: 2 })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const run = against(server.baseUrl)

      const all = yield* run(["workers"])
      assert.strictEqual(all.code, 0)
      assert.deepStrictEqual(all.stdout.split("\n"), [
        "ID          TYPE      STATUS     RUNTIME                PROTOCOL                  JOBS",
        "backtest-1  backtest  available  in-memory (simulated)  push memory://backtest-1  0/1",
        "training-1  training  available  in-memory (simulated)  push memory://training-1  0/2"
      ].sort((a, b) => (a.startsWith("ID") ? -1 : b.startsWith("ID") ? 1 : a.localeCompare(b))))

      const training = yield* run(["workers", "--type", "training"])
      assert.strictEqual(training.stdout.split("\n").length, 2)
      assert.include(training.stdout, "training-1")

      const busy = yield* run(["workers", "--status", "busy"])
      assert.strictEqual(busy.stdout, "No workers registered.")

      const json = JSON.parse((yield* run(["workers", "--json"])).stdout) as Array<{ id: string; endpoint: string }>
      assert.deepStrictEqual(json.map((w) => w.id).sort(), ["backtest-1", "training-1"])

      assert.strictEqual((yield* run(["workers", "--status", "sleeping"])).code, 2)
    }))
})
