/**
 * Pull workers in the engine, under the TestClock: a job goes only to a
 * worker whose poll waits; an assignment no poll picks up within the
 * acknowledgement time goes back to the head of the queue, uncounted; a poll
 * answers the moment a job is assigned.
 */
import { assert, describe, it } from "@effect/vitest"
import { Coordinator, type Domain, WorkerRegistry, WorkerStore } from "@foreman/core"
import { Clock, Effect, Fiber, Option } from "effect"
import { MemoryWorkers } from "@foreman/adapter-memory"
import { advance, fresh, jobsOf, lead, phaseOf, show } from "@foreman/adapter-memory/TestEngine"

const id = (s: string) => s as Domain.WorkerId

const registerPull = (workerId: string) =>
  Effect.flatMap(WorkerRegistry.WorkerRegistry, (registry) =>
    registry.register({
      id: id(workerId),
      type: "training",
      capacity: 1,
      capabilities: {},
      runningJobs: [],
      finishedJobs: []
    }))

describe("pull workers", () => {
  it.scoped("get a job only while a poll of theirs waits", () =>
    fresh(Effect.gen(function*() {
      yield* registerPull("py-1")
      yield* lead
      const coordinator = yield* Coordinator.Coordinator
      const research = yield* coordinator.trigger({ brief: "Only when asked", force: true })
      yield* advance(30)
      const waiting = yield* show(research.id)
      assert.strictEqual(waiting.research.waitingFor?.workerType, "training")
      assert.deepStrictEqual(yield* jobsOf(research.id), ["design:completed"])
      const registry = yield* WorkerRegistry.WorkerRegistry
      const poll = yield* Effect.fork(registry.poll(id("py-1"), { waitSeconds: 20, running: [] }))
      yield* advance(0)
      const answer = yield* Fiber.join(poll)
      assert.lengthOf(answer.jobs, 1)
      assert.strictEqual(answer.jobs[0]!.kind, "training")
      assert.deepStrictEqual(yield* jobsOf(research.id), ["design:completed", "training:running"])
    })))

  it.scoped("an assignment no poll picks up goes back to the head of the queue, uncounted", () =>
    fresh(Effect.gen(function*() {
      yield* registerPull("py-1")
      yield* lead
      const store = yield* WorkerStore.WorkerStore
      const now = yield* Clock.currentTimeMillis
      // Its poll said it waits for a minute, then the poll died without a word (its replica was killed).
      yield* store.heartbeat(id("py-1"), now, true, now + 60_000)
      const coordinator = yield* Coordinator.Coordinator
      const research = yield* coordinator.trigger({ brief: "Nobody picks it up", force: true })
      yield* advance(5)
      assert.deepStrictEqual(yield* jobsOf(research.id), ["design:completed", "training:pending"])
      yield* advance(10)
      const detail = yield* show(research.id)
      assert.strictEqual(detail.jobs[1]!.status, "refused")
      assert.match(detail.jobs[1]!.error ?? "", /not picked up by worker py-1 within 10s/)
      assert.strictEqual(detail.research.failures, 0)
      assert.strictEqual(detail.research.waitingFor?.workerType, "training")
    }), { config: { pollIntervalSeconds: 1 } }))
})

describe("in-memory pull workers", () => {
  it.scoped("run researches to the end, a cancel reaches them, a crashed one's job is retried on another", () =>
    fresh(Effect.gen(function*() {
      const pool = yield* MemoryWorkers.MemoryWorkers
      yield* pool.spawn({ id: "pull-t1", type: "training", protocol: "pull" })
      yield* pool.spawn({ id: "pull-t2", type: "training", protocol: "pull" })
      yield* pool.spawn({ id: "pull-b1", type: "backtest", protocol: "pull" })
      yield* lead
      const coordinator = yield* Coordinator.Coordinator
      const first = yield* coordinator.trigger({ brief: "Pulled all the way", force: true })
      yield* advance(400)
      assert.strictEqual(yield* phaseOf(first.id), "completed:assessing")

      const cancelled = yield* coordinator.trigger({ brief: "Cancelled mid-training", force: true })
      yield* advance(30)
      const training = (yield* show(cancelled.id)).jobs.find((j) => j.kind === "training")!
      assert.strictEqual(training.status, "running")
      const holder = training.workerId!
      yield* coordinator.cancel(cancelled.id)
      yield* advance(10)
      assert.deepStrictEqual(pool.running(holder), [], "stopped within one heartbeat")

      const crashed = yield* coordinator.trigger({ brief: "Its worker dies", force: true })
      yield* advance(30)
      const victim = (yield* show(crashed.id)).jobs.find((j) => j.kind === "training")!.workerId!
      yield* pool.crash(victim)
      yield* advance(1_000)
      const detail = yield* show(crashed.id)
      assert.strictEqual(detail.research.status, "completed")
      assert.deepStrictEqual(detail.jobs.filter((j) => j.kind === "training").map((j) => j.status), ["lost", "completed"])
      const stats = yield* pool.stats
      assert.deepStrictEqual(stats.duplicateStarts, [])
    }), { config: { pollIntervalSeconds: 1 } }))
})

describe("pull workers and the coordinator's limits", () => {
  it.scoped("a poll answers (empty) by half the offline limit, so a waiting worker never goes offline", () =>
    fresh(Effect.gen(function*() {
      yield* registerPull("py-1")
      yield* lead
      const registry = yield* WorkerRegistry.WorkerRegistry
      const poll = yield* Effect.fork(registry.poll(id("py-1"), { waitSeconds: 60, running: [] }))
      yield* advance(15)
      const answer = yield* Fiber.join(poll)
      assert.deepStrictEqual(answer, { jobs: [], stop: [] })
      assert.strictEqual((yield* registry.get(id("py-1"))).status, "available")
    }), { config: { workerOfflineAfterSeconds: 30 } }))

  it.scoped("a new leader forgets the polls waiting before it: no job goes to a poll that died with the old leader", () =>
    fresh(Effect.gen(function*() {
      yield* registerPull("py-1")
      const store = yield* WorkerStore.WorkerStore
      const now = yield* Clock.currentTimeMillis
      yield* store.heartbeat(id("py-1"), now, true, now + 30_000)
      yield* lead
      assert.strictEqual(Option.getOrThrow(yield* store.get(id("py-1"))).pollingUntil, null)
      const coordinator = yield* Coordinator.Coordinator
      const research = yield* coordinator.trigger({ brief: "After a restart", force: true })
      yield* advance(5)
      assert.deepStrictEqual(yield* jobsOf(research.id), ["design:completed"], "waits for a live poll")
    })))
})

describe("a pull worker that deregisters", () => {
  it.scoped("gives its jobs back at once: one it never took uncounted, one it ran as lost, retried", () =>
    fresh(Effect.gen(function*() {
      yield* registerPull("py-1")
      yield* registerPull("py-2")
      yield* lead
      const registry = yield* WorkerRegistry.WorkerRegistry
      const coordinator = yield* Coordinator.Coordinator
      const running = yield* coordinator.trigger({ brief: "Taken, then left", force: true })
      const poll = yield* Effect.fork(registry.poll(id("py-1"), { waitSeconds: 60, running: [] }))
      yield* advance(5)
      assert.lengthOf((yield* Fiber.join(poll)).jobs, 1)
      const store = yield* WorkerStore.WorkerStore
      const now = yield* Clock.currentTimeMillis
      // py-2 asked, then left before its poll's answer: its job is assigned, not taken.
      yield* store.heartbeat(id("py-2"), now, true, now + 60_000)
      const pending = yield* coordinator.trigger({ brief: "Assigned, never taken", force: true })
      yield* advance(1)
      assert.deepStrictEqual(yield* jobsOf(pending.id), ["design:completed", "training:pending"])
      yield* registry.deregister(id("py-1"))
      yield* registry.deregister(id("py-2"))
      yield* advance(1)
      const left = yield* show(running.id)
      assert.strictEqual(left.jobs[1]!.status, "lost")
      assert.strictEqual(left.jobs[1]!.error, "worker py-1 deregistered while running it")
      const never = yield* show(pending.id)
      assert.strictEqual(never.jobs[1]!.status, "refused")
      assert.strictEqual(never.research.failures, 0)
      assert.strictEqual(never.research.waitingFor?.workerType, "training")
    })))
})

/** A research whose training job a poll of pull worker py-1 has just been answered. */
const delivered = (brief: string) =>
  Effect.gen(function*() {
    yield* registerPull("py-1")
    yield* lead
    const registry = yield* WorkerRegistry.WorkerRegistry
    const research = yield* Effect.flatMap(Coordinator.Coordinator, (c) => c.trigger({ brief, force: true }))
    const poll = yield* Effect.fork(registry.poll(id("py-1"), { waitSeconds: 60, running: [] }))
    yield* advance(5)
    const [job] = (yield* Fiber.join(poll)).jobs
    return { job, registry, research }
  })

describe("a pull worker that registers again", () => {
  it.scoped("without a job its poll just delivered (the two crossed): keeps it, and a poll listing it acknowledges it", () =>
    fresh(Effect.gen(function*() {
      const { job, registry, research } = yield* delivered("Crossed")
      // A registration sent before that answer arrived lists no job.
      const answer = yield* registerPull("py-1")
      assert.deepStrictEqual(answer.cancel, [])
      assert.deepStrictEqual(answer.worker.currentJobs, [job!.jobId])
      const again = yield* registry.poll(id("py-1"), { waitSeconds: 0, running: [job!.jobId] })
      assert.deepStrictEqual(again, { jobs: [], stop: [] })
      yield* advance(30)
      assert.deepStrictEqual(yield* jobsOf(research.id), ["design:completed", "training:running"])
      assert.strictEqual((yield* show(research.id)).research.failures, 0)
    })))

  it.scoped("after a restart (it holds nothing): the job is offered to it again, not lost", () =>
    fresh(Effect.gen(function*() {
      const { job, registry, research } = yield* delivered("Restarted")
      yield* registerPull("py-1")
      const offered = yield* registry.poll(id("py-1"), { waitSeconds: 0, running: [] })
      assert.deepStrictEqual(offered.jobs.map((j) => j.jobId), [job!.jobId])
      assert.deepStrictEqual(yield* jobsOf(research.id), ["design:completed", "training:running"])
      assert.strictEqual((yield* show(research.id)).research.failures, 0)
    })))
})
