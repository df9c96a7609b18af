/**
 * A push worker whose process died without a word (kill -9) stays registered
 * and `available` until it goes silent past the offline delay. Deliveries to it
 * fail without reaching it; they must not use up its jobs' attempts, and it
 * must leave the rotation until it is heard from again.
 */
import { assert, describe, it } from "@effect/vitest"
import { CoordinatorEvents, type Domain, Metrics, WorkerRegistry } from "@foreman/core"
import { Chunk, Effect, Metric, Queue } from "effect"
import { MemoryWorkers } from "../src/index.js"
import { advance, fresh, phaseOf, show, startLab } from "../src/TestEngine.js"

const strategy = { name: "mtf_momentum_1", spec: { indicators: ["rsi"] } }

const statusOf = (id: string) =>
  Effect.map(Effect.flatMap(WorkerRegistry.WorkerRegistry, (r) => r.get(id as Domain.WorkerId)), (w) => w.status)

/** How many training dispatches the metric counted with `outcome` (the registry is per process: compare counts). */
const dispatches = (outcome: string) =>
  Effect.map(
    Metric.value(Metrics.labelled(Metrics.dispatchLatency, { worker_type: "training", outcome })),
    (state) => state.count
  )

const trainingJobs = (id: Domain.ResearchId) =>
  Effect.map(show(id), (s) => s.jobs.filter((j) => j.kind === "training"))

describe("a push worker that cannot be reached", () => {
  it.scoped("costs no attempt while it is dead, leaves the rotation, and takes the job once it is back", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1 })
      const pool = yield* MemoryWorkers.MemoryWorkers
      yield* pool.crash("training-1")
      const research = yield* coordinator.trigger({ strategy })
      // Still `available` for the 30 s offline delay: the default three attempts would fit in it many times.
      yield* advance(25)
      assert.strictEqual(yield* phaseOf(research.id), "running:training")
      const refused = yield* trainingJobs(research.id)
      assert.deepStrictEqual(refused.map((j) => j.status), ["refused"])
      assert.match(refused[0]!.error!, /connection refused/)
      assert.strictEqual((yield* show(research.id)).research.failures, 0)
      assert.strictEqual(yield* statusOf("training-1"), "error")
      yield* advance(100)
      assert.strictEqual(yield* statusOf("training-1"), "offline")
      assert.strictEqual(yield* phaseOf(research.id), "running:training")
      yield* pool.restart("training-1")
      yield* advance(1)
      assert.deepStrictEqual((yield* trainingJobs(research.id)).map((j) => j.status), ["refused", "running"])
      assert.strictEqual((yield* show(research.id)).research.failures, 0)
      yield* advance(200)
      assert.strictEqual(yield* phaseOf(research.id), "completed:assessing")
    })))

  it.scoped("sends the job to a live worker of the type at once, and says the other is unreachable", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 2 })
      yield* (yield* MemoryWorkers.MemoryWorkers).crash("training-1")
      const subscription = yield* (yield* CoordinatorEvents.CoordinatorEvents).subscribe
      const [unreachableBefore, failedBefore] = [yield* dispatches("unreachable"), yield* dispatches("failed")]
      const research = yield* coordinator.trigger({ strategy })
      yield* advance(1)
      // The dispatch metric tells an unreachable worker from a failed dispatch.
      assert.strictEqual((yield* dispatches("unreachable")) - unreachableBefore, 1)
      assert.strictEqual((yield* dispatches("failed")) - failedBefore, 0)
      const changes = Chunk.toReadonlyArray(yield* Queue.takeAll(subscription)).flatMap((e) =>
        e._tag === "WorkerChanged" ? [`${e.workerId} ${e.change}`] : []
      )
      assert.deepStrictEqual(changes, ["training-1 unreachable"])
      const jobs = yield* trainingJobs(research.id)
      assert.deepStrictEqual(jobs.map((j) => `${j.workerId}:${j.status}`), ["training-1:refused", "training-2:running"])
      assert.strictEqual((yield* show(research.id)).research.failures, 0)
      assert.strictEqual(yield* statusOf("training-1"), "error")
    })))

  it.scoped("counts the attempt when the request may have reached the worker, and leaves it out until its next heartbeat", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab({ training: 2 })
        const research = yield* coordinator.trigger({ strategy })
        // The first attempt is lost at once; the retry, 5 s later, goes to the other worker.
        yield* advance(6)
        const jobs = yield* trainingJobs(research.id)
        assert.deepStrictEqual(jobs.map((j) => `${j.workerId}:${j.status}`), ["training-1:lost", "training-2:lost"])
        assert.strictEqual((yield* show(research.id)).research.failures, 2)
        assert.deepStrictEqual([yield* statusOf("training-1"), yield* statusOf("training-2")], ["error", "error"])
        // Both beat again at 10 s: back in the rotation.
        yield* advance(5)
        assert.deepStrictEqual([yield* statusOf("training-1"), yield* statusOf("training-2")], ["available", "available"])
      }),
      { dispatchFails: Effect.succeed(true) }
    ))

  it.scoped("a cancel that cannot reach the job's worker takes the worker out of the rotation and frees its slot", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1 })
      const research = yield* coordinator.trigger({ strategy })
      yield* advance(1)
      assert.deepStrictEqual((yield* trainingJobs(research.id)).map((j) => `${j.workerId}:${j.status}`), ["training-1:running"])
      yield* (yield* MemoryWorkers.MemoryWorkers).crash("training-1")
      const subscription = yield* (yield* CoordinatorEvents.CoordinatorEvents).subscribe
      const cancelled = yield* coordinator.cancel(research.id)
      assert.strictEqual(cancelled.status, "cancelled")
      // The worker was not told: it is unreachable, as a dispatch that cannot reach it says, until it is heard again.
      assert.strictEqual(yield* statusOf("training-1"), "error")
      const worker = yield* Effect.flatMap(WorkerRegistry.WorkerRegistry, (r) => r.get("training-1" as Domain.WorkerId))
      assert.deepStrictEqual(worker.currentJobs, [])
      const changes = Chunk.toReadonlyArray(yield* Queue.takeAll(subscription)).flatMap((e) =>
        e._tag === "WorkerChanged" ? [`${e.workerId} ${e.change}`] : []
      )
      assert.deepStrictEqual(changes, ["training-1 unreachable"])
    })))
})
