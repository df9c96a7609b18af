/**
 * A storage failure answers 503 `StorageError` with its reason and nothing
 * more (the failure underneath stays on the server), and the server's log
 * keeps that failure: the `StorageError`'s cause.
 */
import { HttpServer } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Memory } from "@foreman/adapter-memory"
import * as MemoryWorkers from "@foreman/adapter-memory/MemoryWorkers"
import * as OfflineAgents from "@foreman/agents/OfflineAgents"
import { Engine, Errors, ForemanConfig, ResearchStore } from "@foreman/core"
import { Cause, Context, Effect, Layer, Logger } from "effect"
import { tokenConfig } from "@foreman/testing/ApiHarness"
import { ApiServer } from "../src/index.js"

/** What the driver said, as the adapter keeps it. */
const driverError = Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" })

/** The in-memory stores, but reading one research fails as a lost database would. */
const failingStorage = Layer.effect(
  ResearchStore.ResearchStore,
  Effect.map(ResearchStore.ResearchStore, (store) =>
    ResearchStore.ResearchStore.of({
      ...store,
      get: () => Effect.fail(new Errors.StorageError({ reason: "connection lost", cause: driverError }))
    }))
).pipe(Layer.provideMerge(Memory.storage))

const engine = Engine.layer({
  storage: failingStorage,
  agents: OfflineAgents.layer(),
  transport: MemoryWorkers.layer({ handlers: Memory.defaultHandlers }),
  config: ForemanConfig.layerWith()
})

describe("a storage failure over HTTP", () => {
  it.scopedLive("answers 503 with the reason, and logs the cause", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.make(({ cause, message }) => {
        lines.push(`${String(message)}\n${Cause.pretty(cause, { renderErrorCause: true })}`)
      })
      const context = yield* Layer.build(ApiServer.serve({ host: "127.0.0.1", port: 0 }).pipe(Layer.provide(engine))).pipe(
        Effect.withConfigProvider(tokenConfig()),
        Effect.provide(Logger.replace(Logger.defaultLogger, capture))
      )
      const address = Context.get(context, HttpServer.HttpServer).address
      const baseUrl = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
      const answer = yield* Effect.promise(async () => {
        const response = await fetch(`${baseUrl}/api/v1/agent/researches/op_1`)
        return { status: response.status, text: await response.text() }
      }).pipe(Effect.zipLeft(Effect.sleep("50 millis")))
      assert.strictEqual(answer.status, 503)
      const body = JSON.parse(answer.text) as Record<string, unknown>
      assert.strictEqual(body["_tag"], "StorageError")
      assert.strictEqual(body["message"], "Storage failure: connection lost")
      assert.notInclude(answer.text, "administrator command", "the cause stays on the server")
      const logged = lines.find((line) => line.includes("answered 503"))
      assert.isDefined(logged)
      assert.include(logged, "Storage failure: connection lost")
      assert.include(logged, "[cause]: Error: terminating connection due to administrator command")
    }))
})
