/**
 * `foreman agent list` (history with totals), `agent wait` (blocks until a
 * research ends; exit 0 completed, 1 failed or cancelled) and `status --watch`
 * keeping a research that just ended on screen — in-process against the API
 * on 127.0.0.1 over a fresh in-memory engine.
 */
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import type { Memory } from "@foreman/adapter-memory"
import { instantHandlers } from "@foreman/adapter-memory/TestEngine"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import { ConfigProvider, Effect, Fiber, Layer } from "effect"
import { Cli } from "../src/index.js"
import { against, capturing } from "./cliHarness.js"

const stuck: Memory.MemoryOptions["handlers"] = { training: () => Effect.never, backtest: () => Effect.never }
const idOf = (stdout: string) => /^Research triggered: (op_\w+)$/.exec(stdout)![1]!

describe("foreman agent list", () => {
  it.scopedLive("lists finished researches too, filtered, with how many match and their cost", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: instantHandlers, config: { maxConcurrentResearches: 5 } } })
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const run = against(server.baseUrl)
      const ids = [
        idOf((yield* run(["agent", "trigger", "--brief", "Explore RSI variations"])).stdout),
        idOf((yield* run(["agent", "trigger", "--brief", "Test MACD strategies"])).stdout)
      ]
      const api = yield* server.client()
      yield* eventually(api.agent.list({ urlParams: { status: "completed", limit: 50, offset: 0 } }), (p) => p.total === 2, 20)

      const all = yield* run(["agent", "list"])
      assert.strictEqual(all.code, 0, all.stderr)
      for (const id of ids) assert.include(all.stdout, id)
      assert.match(all.stdout, /^ID +STATUS +PHASE +STRATEGY +VERDICT +COST +CREATED +TOOK$/m)
      assert.match(all.stdout, /1-2 of 2 researches; \$0\.\d\d in all$/)

      const json = JSON.parse((yield* run(["agent", "list", "--status", "completed", "--limit", "1", "--json"])).stdout)
      assert.deepStrictEqual([json.total, json.researches.length, json.researches[0].id], [2, 1, ids[1]])
      assert.include((yield* run(["agent", "list", "--since", "1h"])).stdout, "1-2 of 2")
      assert.strictEqual((yield* run(["agent", "list", "--since", "2999-01-01"])).stdout, "No researches match.")
      const badSince = yield* run(["agent", "list", "--since", "last week"])
      assert.strictEqual(badSince.code, 2)
      assert.include(badSince.stderr, "--since takes a date")
      assert.strictEqual((yield* run(["agent", "list", "--limit", "0"])).code, 2)
    }))
})

describe("foreman agent wait", () => {
  it.scopedLive("exits 0 when the research completes, 1 when it is cancelled or the timeout passes", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuck, config: { maxConcurrentResearches: 5 } } })
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      const run = against(server.baseUrl)
      const id = idOf((yield* run(["agent", "trigger", "--brief", "Explore RSI variations"])).stdout)

      const timedOut = yield* run(["agent", "wait", id, "--timeout", "0.5"])
      assert.strictEqual(timedOut.code, 1)
      assert.match(timedOut.stderr, new RegExp(`^${id} has not ended after 0.5 s \\(still (designing|training)\\)`))

      const waiting = yield* Effect.fork(run(["agent", "wait", id]))
      yield* eventually(server.coordinator.show(id as never), (d) => d.research.phase === "training", 10)
      yield* run(["agent", "cancel", id])
      const cancelled = yield* Fiber.join(waiting)
      assert.strictEqual(cancelled.code, 1)
      assert.include(cancelled.stderr, `${id} cancelled`)

      const unknown = yield* run(["agent", "wait", "op_nope"])
      assert.strictEqual(unknown.code, 1)
    }))

  it.scopedLive("a research that completes while waiting: exit 0", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: instantHandlers } })
      const run = against(server.baseUrl)
      const id = idOf((yield* run(["agent", "trigger", "--brief", "Explore RSI variations"])).stdout)
      const waiting = yield* Effect.fork(run(["agent", "wait", id, "--timeout", "30"]))
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const done = yield* Fiber.join(waiting)
      assert.strictEqual(done.code, 0, done.stderr)
      assert.match(done.stdout, new RegExp(`^${id} completed \\(strategy \\w+\\)$`))
    }))
})

describe("foreman agent status --watch", () => {
  it.scopedLive("keeps a research that just ended on screen with how it ended", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuck } })
      const run = against(server.baseUrl)
      const id = idOf((yield* run(["agent", "trigger", "--brief", "Explore RSI variations"])).stdout)
      const captured = capturing()
      const fiber = yield* Cli.run(["agent", "status", "--watch", "--interval", "30", "--api-url", server.baseUrl]).pipe(
        Effect.provide(Layer.merge(NodeContext.layer, Cli.layer)),
        Effect.withConsole(captured.console),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
        Effect.fork
      )
      yield* eventually(Effect.sync(() => captured.stdout()), (out) => out.includes("Active researches: 1"), 10)
      yield* run(["agent", "cancel", id])
      // With a 30 s interval, the redraw comes from the event stream.
      const out = yield* eventually(Effect.sync(() => captured.stdout()), (text) => text.includes("Just ended:"), 10)
      yield* Fiber.interrupt(fiber)
      const last = out.split("\x1b[2J\x1b[H").filter((f) => f !== "").at(-1)!
      assert.include(last, "Active researches: 0")
      assert.include(last, `${id}  CANCELLED`)
    }))
})
