/**
 * Heartbeats by pulse: a worker whose beats the memory store applies when it is
 * read stands, at every read and write, as if each beat had been written on time,
 * and stays as its last beat left it once the pulse stops.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Domain, WorkerStore } from "@foreman/core"
import { Duration, Effect, Option, TestClock } from "effect"
import { MemoryWorkerStore } from "../src/index.js"

const ID = "w-1" as Domain.WorkerId

const worker = (status: Domain.Worker["status"]): Domain.Worker => ({
  id: ID,
  type: "training",
  endpoint: "memory://w-1",
  status,
  capacity: 1,
  currentJobs: [],
  capabilities: {},
  registeredAt: 0,
  lastHeartbeatAt: 0
})

const heardAt = Effect.flatMap(WorkerStore.WorkerStore, (store) => store.get(ID)).pipe(
  Effect.map(Option.map((w) => [w.lastHeartbeatAt, w.status] as const)),
  Effect.map(Option.getOrThrow)
)

describe("MemoryWorkerStore pulses", () => {
  it.effect("applies the latest beat due when read, then nothing once stopped", () =>
    Effect.gen(function*() {
      const store = yield* WorkerStore.WorkerStore
      const pulses = yield* MemoryWorkerStore.Pulses
      yield* store.register(worker("available"), [], null, null)
      yield* pulses.start(ID, 0, 10_000)
      assert.deepStrictEqual(yield* heardAt, [0, "available"])
      yield* TestClock.adjust(Duration.millis(9_999))
      assert.deepStrictEqual(yield* heardAt, [0, "available"])
      yield* TestClock.adjust(Duration.millis(25_001))
      assert.deepStrictEqual(yield* heardAt, [30_000, "available"])
      // Stopped at 40 s (a crash): its beat at 40 s was sent, none after.
      yield* TestClock.adjust(Duration.seconds(5))
      yield* pulses.stop(ID)
      yield* TestClock.adjust(Duration.minutes(1))
      assert.deepStrictEqual(yield* heardAt, [40_000, "available"])
    }).pipe(Effect.provide(MemoryWorkerStore.layer)))

  it.effect("a beat due before a write is applied first, as a written beat would have been", () =>
    Effect.gen(function*() {
      const store = yield* WorkerStore.WorkerStore
      const pulses = yield* MemoryWorkerStore.Pulses
      yield* store.register(worker("available"), [], null, null)
      yield* pulses.start(ID, 0, 10_000)
      // Refused as full: busy until its next beat says otherwise.
      yield* store.markRefusing(ID, "job-1" as Domain.JobId, "busy")
      assert.deepStrictEqual(yield* heardAt, [0, "busy"])
      yield* TestClock.adjust(Duration.seconds(10))
      assert.deepStrictEqual(yield* heardAt, [10_000, "available"])
      // Offline limit 30 s: the beats keep it in.
      yield* TestClock.adjust(Duration.seconds(45))
      const expired = yield* store.expire(55_000 - 30_000, Number.NEGATIVE_INFINITY)
      assert.deepStrictEqual(expired, { offline: [], removed: [] })
    }).pipe(Effect.provide(MemoryWorkerStore.layer)))

  it.effect("leaves a worker out of the rotation as it is: a sent beat brings it back", () =>
    Effect.gen(function*() {
      const store = yield* WorkerStore.WorkerStore
      const pulses = yield* MemoryWorkerStore.Pulses
      yield* store.register(worker("available"), [], null, null)
      yield* pulses.start(ID, 0, 10_000)
      yield* store.markUnreachable(ID, "job-1" as Domain.JobId)
      yield* TestClock.adjust(Duration.seconds(25))
      assert.deepStrictEqual(yield* heardAt, [0, "error"])
      yield* store.heartbeat(ID, 25_000, true, undefined)
      yield* TestClock.adjust(Duration.seconds(10))
      assert.deepStrictEqual(yield* heardAt, [30_000, "available"])
    }).pipe(Effect.provide(MemoryWorkerStore.layer)))
})
