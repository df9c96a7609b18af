/**
 * Triggers with a request id, on the in-memory adapter: a repeat answers the
 * research the first one started, past the capacity and budget checks, and
 * concurrent repeats start one research. The same id with another request is
 * refused, and an id expires after its lifetime (simulated time).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { advance, fresh, startLab } from "../src/TestEngine.js"

describe("Coordinator.trigger with a request id", () => {
  it.scoped("a repeat answers the first research, even at capacity, and starts nothing", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab()
        const first = yield* coordinator.trigger({ brief: "Explore RSI variations", requestId: "cli-1" })
        const repeat = yield* coordinator.trigger({ brief: "Explore RSI variations", requestId: "cli-1" })
        assert.strictEqual(repeat.id, first.id)
        assert.strictEqual((yield* coordinator.list({ limit: 10, offset: 0 })).length, 1)
        const refused = yield* Effect.flip(coordinator.trigger({ brief: "Another", requestId: "cli-2" }))
        assert.strictEqual(refused._tag, "AtCapacity")
        const another = yield* coordinator.trigger({ brief: "Another", requestId: "cli-2", force: true })
        assert.notStrictEqual(another.id, first.id)
        assert.strictEqual((yield* coordinator.trigger({ brief: "Another", requestId: "cli-2", force: true })).id, another.id)
        assert.strictEqual((yield* coordinator.list({ limit: 10, offset: 0 })).length, 2)
      }),
      { config: { maxConcurrentResearches: 1 } }
    ))

  it.scoped("concurrent repeats start one research", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab()
      const answers = yield* Effect.all(
        Array.from({ length: 5 }, () => coordinator.trigger({ brief: "Explore RSI variations", requestId: "same" })),
        { concurrency: "unbounded" }
      )
      const stored = yield* coordinator.list({ limit: 10, offset: 0 })
      assert.strictEqual(stored.length, 1)
      assert.deepStrictEqual(answers.map((r) => r.id), answers.map(() => stored[0]!.id))
    })))

  it.scoped("refuses a request id outside 1 to 200 letters, digits or -_.:", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab()
      for (const requestId of ["", "x".repeat(201), "has space", "ünï", "a/b"]) {
        const error = yield* Effect.flip(coordinator.trigger({ brief: "Explore RSI variations", requestId }))
        assert.strictEqual(error._tag, "InvalidInput", JSON.stringify(requestId))
      }
      const ok = yield* coordinator.trigger({ brief: "Explore", requestId: "0f8fad5b-d9cb-469f-a165-70867728950e" })
      assert.match(ok.id, /^op_/)
    })))

  it.scoped("the same id with another request is refused, naming the id; the same request in another order is a repeat", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab()
        const first = yield* coordinator.trigger({ brief: "Explore RSI variations", model: "sonnet", requestId: "k-1" })
        const reordered = yield* coordinator.trigger({ requestId: "k-1", model: "sonnet", brief: "Explore RSI variations" })
        assert.strictEqual(reordered.id, first.id)
        for (
          const other of [
            { brief: "Explore MACD", requestId: "k-1" },
            { brief: "Explore RSI variations", requestId: "k-1" },
            { brief: "Explore RSI variations", model: "sonnet", force: true, requestId: "k-1" }
          ]
        ) {
          const refused = yield* Effect.flip(coordinator.trigger(other))
          assert.strictEqual(refused._tag, "IdempotencyKeyReused", JSON.stringify(other))
          assert.include(refused.message, "k-1")
        }
        assert.strictEqual((yield* coordinator.list({ limit: 10, offset: 0 })).length, 1)
      }),
      { config: { maxConcurrentResearches: 5 } }
    ))

  it.scoped("an id expires after idempotencyKeyTtlSeconds: then it starts a new research", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab()
        const first = yield* coordinator.trigger({ brief: "Explore RSI variations", requestId: "k-1" })
        yield* advance(60)
        assert.strictEqual((yield* coordinator.trigger({ brief: "Explore RSI variations", requestId: "k-1" })).id, first.id)
        assert.strictEqual(
          (yield* Effect.flip(coordinator.trigger({ brief: "Explore MACD", requestId: "k-1" })))._tag,
          "IdempotencyKeyReused"
        )
        yield* advance(1)
        const next = yield* coordinator.trigger({ brief: "Explore MACD", requestId: "k-1" })
        assert.notStrictEqual(next.id, first.id)
        assert.strictEqual((yield* coordinator.trigger({ brief: "Explore MACD", requestId: "k-1" })).id, next.id)
        assert.strictEqual(
          (yield* Effect.flip(coordinator.trigger({ brief: "Explore RSI variations", requestId: "k-1" })))._tag,
          "IdempotencyKeyReused",
          "the key is the new research's now"
        )
        assert.strictEqual((yield* coordinator.list({ limit: 10, offset: 0 })).length, 2)
      }),
      { config: { maxConcurrentResearches: 5, idempotencyKeyTtlSeconds: 60 } }
    ))
})
