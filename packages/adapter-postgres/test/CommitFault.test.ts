/**
 * A database connection lost at COMMIT or ROLLBACK, through a proxy that drops
 * it at that statement: the stores fail with `StorageError` (never a defect),
 * the pool recovers, and a trigger retried with its request id answers the
 * research its first attempt wrote (its batch's one statement, lost after the
 * server ran it) instead of creating a second one.
 */
import { assert, describe, it } from "@effect/vitest"
import { Coordinator, type Errors, Researches } from "@foreman/core"
import { Cause, Context, Effect, Exit, Layer, Logger, LogLevel, Option } from "effect"
import { beforeAll } from "vitest"
import { research } from "@foreman/adapter-memory/TestEngine"
import * as PgResearchStore from "../src/PgResearchStore.js"
import * as Postgres from "../src/Postgres.js"
import { engine } from "@foreman/testing/PgEngine"
import { faultProxy } from "@foreman/testing/FaultProxy"
import { freshPorts } from "@foreman/testing/PgDatabase"
import { createDatabase } from "@foreman/testing/PgDatabase"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_commit_fault")
})

const quiet = Logger.withMinimumLogLevel(LogLevel.Error)

/** The research store on a pool that reaches PostgreSQL through `proxyUrl`. */
const storeVia = (proxyUrl: string) =>
  Effect.map(
    Layer.build(PgResearchStore.layer.pipe(Layer.provide(Postgres.client({ url: proxyUrl, maxConnections: 2 })))),
    Context.get(Researches.Researches)
  )

/** The failure of an exit that must fail, never die. */
const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
  assert.isFalse(Cause.isDie(exit.cause), `expected a typed failure, got a defect: ${Cause.pretty(exit.cause)}`)
  return Option.getOrThrow(Cause.failureOption(exit.cause))
}

describe("a connection lost at COMMIT or ROLLBACK", () => {
  it.scopedLive("after the server committed: StorageError, and the write is there", () =>
    Effect.gen(function*() {
      const direct = yield* Researches.Researches
      const proxy = yield* faultProxy(url)
      const store = yield* storeVia(proxy.url)
      const dropped = yield* proxy.dropAt("COMMIT", "after")
      const exit = yield* Effect.exit(store.insert(research("op_committed")))
      yield* dropped
      assert.strictEqual((failureOf(exit) as { _tag: string })._tag, "StorageError")
      assert.isTrue(Option.isSome(yield* direct.get("op_committed" as never)))
      assert.strictEqual(yield* store.countActive, 1, "the pool replaced the lost connection")
    }).pipe(Effect.provide(Layer.fresh(freshPorts(url)))))

  it.scopedLive("before the server committed: StorageError, and nothing is written", () =>
    Effect.gen(function*() {
      const direct = yield* Researches.Researches
      const proxy = yield* faultProxy(url)
      const store = yield* storeVia(proxy.url)
      const dropped = yield* proxy.dropAt("COMMIT", "before")
      const exit = yield* Effect.exit(store.insert(research("op_lost")))
      yield* dropped
      const error = failureOf(exit) as Errors.StorageError
      assert.strictEqual(error._tag, "StorageError")
      assert.strictEqual((error.cause as { _tag?: string } | undefined)?._tag, "SqlError", "the SQL error is kept as the cause")
      assert.isTrue(Option.isNone(yield* direct.get("op_lost" as never)))
      assert.strictEqual(yield* store.countActive, 0)
    }).pipe(Effect.provide(Layer.fresh(freshPorts(url)))))

  it.scopedLive("at ROLLBACK: StorageError, and nothing is written", () =>
    Effect.gen(function*() {
      const direct = yield* Researches.Researches
      const taken = research("op_taken", { createdAt: 1000 })
      yield* direct.insert(taken, { id: "key-old", fingerprint: null, recordedAt: 1000 })
      const proxy = yield* faultProxy(url)
      const store = yield* storeVia(proxy.url)
      const dropped = yield* proxy.dropAt("ROLLBACK", "before")
      // The insert's transaction lets the expired key go, then fails on the id already taken, and rolls back.
      const exit = yield* Effect.exit(
        store.insert(research("op_taken", { brief: "another" }), { id: "key-old", fingerprint: null, recordedAt: 3000 }, 2000)
      )
      yield* dropped
      assert.strictEqual((failureOf(exit) as { _tag: string })._tag, "StorageError")
      assert.deepStrictEqual(Option.getOrThrow(yield* direct.findByRequestId("key-old")).research, taken, "the key stays")
    }).pipe(Effect.provide(Layer.fresh(freshPorts(url)))))

  it.scopedLive("a trigger retried with its request id answers the research its first attempt committed", () =>
    Effect.gen(function*() {
      const direct = yield* Researches.Researches
      const proxy = yield* faultProxy(url)
      const context = yield* Layer.build(engine(proxy.url))
      const coordinator = Context.get(context, Coordinator.Coordinator)
      const request = { brief: "Explore RSI variations", requestId: "cli-7f3a" }
      const dropped = yield* proxy.dropAt({ containing: "foreman_admit" }, "after")
      const error = yield* Effect.flip(coordinator.trigger(request))
      yield* dropped
      assert.strictEqual(error._tag, "StorageError")
      const retried = yield* coordinator.trigger(request)
      const stored = yield* direct.list({ limit: 10, offset: 0 })
      assert.deepStrictEqual(stored.map((r) => r.id), [retried.id], "one research, the one first committed")
    }).pipe(Effect.provide(Layer.fresh(freshPorts(url))), quiet))
})
