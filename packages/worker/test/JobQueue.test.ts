/**
 * The execution queue and its resource pool: enqueue (single, batch,
 * idempotent), statuses, retries up to the maximum, summary, wait-until-empty,
 * clear, cancel, drain, bounded parallelism, and resources always given back.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Option, Ref, Scope } from "effect"
import * as JobQueue from "../src/JobQueue.js"
import * as ResourcePool from "../src/ResourcePool.js"

/** A job that waits for its gate and then succeeds with its input doubled. */
const gated = (gates: Map<string, Deferred.Deferred<void>>) => (input: number, ctx: JobQueue.RunContext) =>
  Effect.gen(function*() {
    const gate = gates.get(ctx.id)
    if (gate !== undefined) yield* Deferred.await(gate)
    return input * 2
  })

const statusOf = <I, A>(queue: JobQueue.JobQueue<I, A>, id: string) =>
  Effect.map(queue.get(id), Option.match({ onNone: () => "unknown", onSome: (e) => e.status }))

/** Waits (yielding) until `predicate` holds; the queue works on other fibers. */
const eventually = (check: Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000; i++) {
      if (yield* check) return
      yield* Effect.sleep(Duration.millis(1))
    }
    return yield* Effect.dieMessage("condition never held")
  })

describe("JobQueue", () => {
  it.scopedLive("runs an enqueued job to completion", () =>
    Effect.gen(function*() {
      const queue = yield* JobQueue.make({ concurrency: 1, run: (n: number) => Effect.succeed(n + 1) })
      const { created, entry } = yield* queue.enqueue("a", 41)
      assert.isTrue(created)
      assert.strictEqual(entry.status, "pending")
      yield* queue.awaitEmpty
      const done = Option.getOrThrow(yield* queue.get("a"))
      assert.strictEqual(done.status, "completed")
      assert.strictEqual(done.result, 42)
      assert.strictEqual(done.attempts, 1)
      assert.strictEqual(done.progress, 1)
      assert.isNotNull(done.finishedAt)
    }))

  it.scopedLive("is idempotent by id: a repeat returns the existing job and runs nothing", () =>
    Effect.gen(function*() {
      const runs = yield* Ref.make(0)
      const queue = yield* JobQueue.make({ concurrency: 2, run: (n: number) => Effect.as(Ref.update(runs, (r) => r + 1), n) })
      yield* queue.enqueue("a", 1)
      const again = yield* queue.enqueue("a", 99)
      assert.isFalse(again.created)
      assert.strictEqual(again.entry.input, 1)
      yield* queue.awaitEmpty
      const afterwards = yield* queue.enqueue("a", 7)
      assert.isFalse(afterwards.created)
      assert.strictEqual(afterwards.entry.status, "completed")
      yield* queue.awaitEmpty
      assert.strictEqual(yield* Ref.get(runs), 1)
    }))

  it.scopedLive("batch enqueue runs every job, in order on one runner", () =>
    Effect.gen(function*() {
      const order: Array<string> = []
      const queue = yield* JobQueue.make({
        concurrency: 1,
        run: (n: number, ctx) => Effect.sync(() => order.push(ctx.id)).pipe(Effect.as(n))
      })
      const added = yield* queue.enqueueAll([1, 2, 3, 4].map((n) => ({ id: `job-${n}`, input: n })))
      assert.deepStrictEqual(added.map((a) => a.created), [true, true, true, true])
      yield* queue.awaitEmpty
      assert.deepStrictEqual(order, ["job-1", "job-2", "job-3", "job-4"])
      assert.deepStrictEqual((yield* queue.list).map((e) => e.status), ["completed", "completed", "completed", "completed"])
    }))

  it.scopedLive("moves through pending, running and completed or failed", () =>
    Effect.gen(function*() {
      const gates = new Map([["a", yield* Deferred.make<void>()], ["b", yield* Deferred.make<void>()]])
      const queue = yield* JobQueue.make({
        concurrency: 1,
        run: (n: number, ctx) => Effect.zipRight(gated(gates)(n, ctx), ctx.id === "b" ? Effect.fail("broken") : Effect.succeed(n))
      })
      yield* queue.enqueueAll([{ id: "a", input: 1 }, { id: "b", input: 2 }])
      yield* eventually(Effect.map(statusOf(queue, "a"), (s) => s === "running"))
      assert.strictEqual(yield* statusOf(queue, "b"), "pending")
      yield* Deferred.succeed(gates.get("a")!, undefined)
      yield* eventually(Effect.map(statusOf(queue, "b"), (s) => s === "running"))
      assert.strictEqual(yield* statusOf(queue, "a"), "completed")
      yield* Deferred.succeed(gates.get("b")!, undefined)
      yield* queue.awaitEmpty
      const b = Option.getOrThrow(yield* queue.get("b"))
      assert.strictEqual(b.status, "failed")
      assert.strictEqual(b.error, "broken")
    }))

  it.scopedLive("retries a failing job up to the maximum, then marks it failed", () =>
    Effect.gen(function*() {
      const attempts: Array<number> = []
      const queue = yield* JobQueue.make({
        concurrency: 1,
        maxRetries: 2,
        run: (_: number, ctx) => Effect.sync(() => attempts.push(ctx.attempt)).pipe(Effect.zipRight(Effect.fail(new Error(`try ${ctx.attempt}`))))
      })
      yield* queue.enqueue("a", 0)
      yield* queue.awaitEmpty
      assert.deepStrictEqual(attempts, [1, 2, 3])
      const entry = Option.getOrThrow(yield* queue.get("a"))
      assert.strictEqual(entry.status, "failed")
      assert.strictEqual(entry.attempts, 3)
      assert.strictEqual(entry.error, "try 3")
      assert.strictEqual((yield* queue.summary).retries, 2)
    }))

  it.scopedLive("a retry that succeeds completes the job; defects are retried too", () =>
    Effect.gen(function*() {
      const queue = yield* JobQueue.make({
        concurrency: 1,
        maxRetries: 3,
        run: (n: number, ctx) => (ctx.attempt < 3 ? Effect.dieMessage(`crash ${ctx.attempt}`) : Effect.succeed(n))
      })
      yield* queue.enqueue("a", 5)
      yield* queue.awaitEmpty
      const entry = Option.getOrThrow(yield* queue.get("a"))
      assert.strictEqual(entry.status, "completed")
      assert.strictEqual(entry.attempts, 3)
      assert.strictEqual(entry.result, 5)
    }))

  it.scopedLive("summarises the results", () =>
    Effect.gen(function*() {
      const queue = yield* JobQueue.make({
        concurrency: 2,
        maxRetries: 1,
        run: (n: number) => (n % 2 === 0 ? Effect.succeed(n) : Effect.fail("odd"))
      })
      yield* queue.enqueueAll([1, 2, 3, 4, 6].map((n) => ({ id: `n${n}`, input: n })))
      yield* queue.awaitEmpty
      assert.deepStrictEqual(yield* queue.summary, {
        total: 5,
        pending: 0,
        running: 0,
        completed: 3,
        failed: 2,
        cancelled: 0,
        retries: 2
      })
    }))

  it.scopedLive("waits until empty, counting retries and late additions", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const queue = yield* JobQueue.make({
        concurrency: 1,
        run: (n: number) => Effect.as(Deferred.await(gate), n)
      })
      yield* queue.enqueue("a", 1)
      const waiter = yield* Effect.fork(queue.awaitEmpty)
      yield* Effect.sleep(Duration.millis(20))
      assert.isNull(waiter.unsafePoll())
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(waiter)
      assert.strictEqual((yield* queue.summary).completed, 1)
      yield* queue.awaitEmpty
    }))

  it.scopedLive("clears: stops pending and running jobs and forgets every job", () =>
    Effect.gen(function*() {
      const interrupted = yield* Ref.make(0)
      const queue = yield* JobQueue.make({
        concurrency: 1,
        run: (_: number) => Effect.never.pipe(Effect.onInterrupt(() => Ref.update(interrupted, (n) => n + 1)))
      })
      yield* queue.enqueueAll([{ id: "a", input: 1 }, { id: "b", input: 2 }])
      yield* eventually(Effect.map(statusOf(queue, "a"), (s) => s === "running"))
      yield* queue.clear
      assert.deepStrictEqual(yield* queue.list, [])
      assert.strictEqual(yield* Ref.get(interrupted), 1)
      yield* queue.awaitEmpty
      const again = yield* queue.enqueue("a", 3)
      assert.isTrue(again.created)
    }))

  it.scopedLive("cancels a pending job and a running one", () =>
    Effect.gen(function*() {
      const queue = yield* JobQueue.make({ concurrency: 1, run: (_: number) => Effect.never })
      yield* queue.enqueueAll([{ id: "a", input: 1 }, { id: "b", input: 2 }])
      yield* eventually(Effect.map(statusOf(queue, "a"), (s) => s === "running"))
      const b = Option.getOrThrow(yield* queue.cancel("b", "not needed"))
      assert.strictEqual(b.status, "cancelled")
      assert.strictEqual(b.error, "not needed")
      const a = Option.getOrThrow(yield* queue.cancel("a"))
      assert.strictEqual(a.status, "cancelled")
      assert.isTrue(Option.isNone(yield* queue.cancel("nope")))
      yield* queue.awaitEmpty
    }))

  it.scopedLive("runs at most `concurrency` jobs at once", () =>
    Effect.gen(function*() {
      let current = 0
      let peak = 0
      const queue = yield* JobQueue.make({
        concurrency: 3,
        run: (n: number) =>
          Effect.acquireUseRelease(
            Effect.sync(() => {
              current++
              peak = Math.max(peak, current)
            }),
            () => Effect.sleep(Duration.millis(5)).pipe(Effect.as(n)),
            () => Effect.sync(() => current--)
          )
      })
      yield* queue.enqueueAll(Array.from({ length: 12 }, (_, i) => ({ id: `j${i}`, input: i })))
      yield* queue.awaitEmpty
      assert.strictEqual(peak, 3)
      assert.strictEqual((yield* queue.summary).completed, 12)
    }))

  it.scopedLive("refuses jobs beyond its limit, and a batch that does not fit", () =>
    Effect.gen(function*() {
      const queue = yield* JobQueue.make({ concurrency: 1, limit: 2, run: (_: number) => Effect.never })
      yield* queue.enqueueAll([{ id: "a", input: 1 }, { id: "b", input: 2 }])
      const full = yield* Effect.flip(queue.enqueue("c", 3))
      assert.strictEqual(full._tag, "QueueFull")
      // A repeat of a known id is not a new job.
      assert.isFalse((yield* queue.enqueue("a", 1)).created)
      yield* queue.cancel("b")
      const batch = yield* Effect.flip(queue.enqueueAll([{ id: "c", input: 3 }, { id: "d", input: 4 }]))
      assert.strictEqual(batch._tag, "QueueFull")
      assert.isTrue(Option.isNone(yield* queue.get("c")))
      assert.isTrue((yield* queue.enqueue("c", 3)).created)
    }))

  it.scopedLive("gives each run a resource and always gives it back, on failure, defect or interruption", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const queue = yield* JobQueue.make({
        concurrency: 4,
        resources: ["gpu:0", "gpu:1"],
        run: (n: number, ctx) =>
          Effect.gen(function*() {
            seen.push(ctx.resource)
            if (n === 0) return yield* Effect.fail("bad input")
            if (n === 1) return yield* Effect.dieMessage("crashed")
            if (n === 2) return yield* Effect.never
            return n
          })
      })
      yield* queue.enqueueAll([0, 1, 2, 3, 4].map((n) => ({ id: `j${n}`, input: n })))
      yield* eventually(Effect.map(statusOf(queue, "j2"), (s) => s === "running"))
      yield* queue.cancel("j2")
      yield* queue.awaitEmpty
      assert.strictEqual(seen.length, 5)
      assert.isTrue(seen.every((r) => r === "gpu:0" || r === "gpu:1"))
      assert.deepStrictEqual(
        (yield* queue.list).map((e) => e.status),
        ["failed", "failed", "cancelled", "completed", "completed"]
      )
    }))

  it.scopedLive("drains: refuses new jobs, cancels unstarted ones, lets running ones finish", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const queue = yield* JobQueue.make({ concurrency: 1, run: (n: number) => Effect.as(Deferred.await(gate), n) })
      yield* queue.enqueueAll([{ id: "a", input: 1 }, { id: "b", input: 2 }])
      yield* eventually(Effect.map(statusOf(queue, "a"), (s) => s === "running"))
      const draining = yield* Effect.fork(queue.drain(Duration.seconds(5)))
      yield* eventually(Effect.map(queue.accepting, (a) => !a))
      assert.strictEqual((yield* Effect.flip(queue.enqueue("c", 3)))._tag, "QueueClosed")
      assert.isFalse((yield* queue.enqueue("a", 1)).created)
      yield* Deferred.succeed(gate, undefined)
      const result = yield* Fiber.join(draining)
      assert.deepStrictEqual(result, { notStarted: ["b"], interrupted: [] })
      assert.strictEqual(yield* statusOf(queue, "a"), "completed")
      assert.strictEqual(yield* statusOf(queue, "b"), "cancelled")
    }))

  it.scopedLive("drains: interrupts what is still running at the deadline", () =>
    Effect.gen(function*() {
      const queue = yield* JobQueue.make({ concurrency: 2, run: (_: number) => Effect.never })
      yield* queue.enqueueAll([{ id: "a", input: 1 }, { id: "b", input: 2 }])
      yield* eventually(Effect.map(queue.summary, (s) => s.running === 2))
      const result = yield* queue.drain(Duration.millis(20))
      assert.deepStrictEqual([...result.interrupted].sort(), ["a", "b"])
      const a = Option.getOrThrow(yield* queue.get("a"))
      assert.strictEqual(a.status, "cancelled")
      assert.include(a.error ?? "", "shutting down")
    }))

  it.scopedLive("records progress of the current run", () =>
    Effect.gen(function*() {
      const seen: Array<number> = []
      const queue = yield* JobQueue.make({
        concurrency: 1,
        run: (n: number, ctx) => Effect.as(Effect.zipRight(ctx.progress(0.25, "a quarter"), ctx.progress(7)), n),
        onProgress: (entry) => Effect.sync(() => seen.push(entry.progress))
      })
      yield* queue.enqueue("a", 1)
      yield* queue.awaitEmpty
      assert.deepStrictEqual(seen, [0.25, 1])
      assert.strictEqual(Option.getOrThrow(yield* queue.get("a")).message, "a quarter")
    }))

  it.live("closing its scope interrupts running jobs and marks them cancelled", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const settled: Array<string> = []
      const queue = yield* JobQueue.make({
        concurrency: 1,
        run: (_: number) => Effect.never,
        onSettled: (entry) => Effect.sync(() => settled.push(`${entry.id}:${entry.status}`))
      }).pipe(Scope.extend(scope))
      yield* queue.enqueue("a", 1)
      yield* eventually(Effect.map(statusOf(queue, "a"), (s) => s === "running"))
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual(settled, ["a:cancelled"])
    }))
})

describe("ResourcePool", () => {
  it.scopedLive("hands out each resource to one borrower at a time and takes it back after a failure", () =>
    Effect.gen(function*() {
      const pool = yield* ResourcePool.make(["cuda:0", "cuda:1"])
      const holding = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const first = yield* Effect.fork(pool.use((r) => Effect.zipRight(Deferred.succeed(holding, undefined), Effect.as(Deferred.await(release), r))))
      yield* Deferred.await(holding)
      const failed = yield* Effect.exit(pool.use(() => Effect.fail("boom")))
      assert.isTrue(Exit.isFailure(failed))
      assert.strictEqual((yield* pool.free).length, 1)
      assert.strictEqual((yield* pool.busy).length, 1)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(first)
      assert.deepStrictEqual([...(yield* pool.free)].sort(), ["cuda:0", "cuda:1"])
    }))

  it.scopedLive("a borrower waits for a free resource, and an interrupted waiter takes none", () =>
    Effect.gen(function*() {
      const pool = yield* ResourcePool.slots(1)
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(pool.use(() => Deferred.await(release)))
      yield* eventually(Effect.map(pool.busy, (b) => b.length === 1))
      const waiter = yield* Effect.fork(pool.use((r) => Effect.succeed(r)))
      yield* Effect.sleep(Duration.millis(10))
      assert.isNull(waiter.unsafePoll())
      const impatient = yield* Effect.fork(pool.use((r) => Effect.succeed(r)))
      yield* Fiber.interrupt(impatient)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      assert.strictEqual(yield* Fiber.join(waiter), "slot-0")
      assert.deepStrictEqual(yield* pool.free, ["slot-0"])
    }))
})
