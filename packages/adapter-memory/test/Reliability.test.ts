/**
 * No research fails for the coordinator's own bookkeeping: a registration never
 * erases a claim made meanwhile, a worker that is full or shutting down sends
 * the job back to its place in the queue, a leaked slot is freed, and a result
 * held through an outage is used even after its job was declared lost.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Domain, WorkerRegistry, WorkerStore } from "@foreman/core"
import { Effect, Option, Schema } from "effect"
import { MemoryWorkers } from "../src/index.js"
import { advance, fresh, goodTraining, jobsOf, show, startLab, takes } from "../src/TestEngine.js"

const register = (input: WorkerRegistry.RegistrationInput) =>
  Effect.flatMap(WorkerRegistry.WorkerRegistry, (r) =>
    Effect.flatMap(Schema.decodeUnknown(WorkerRegistry.Registration)(input), (decoded) => r.register(decoded)))

const strategy = { name: "rsi_probe", spec: { indicators: ["rsi"] } }

/** Training jobs that never finish by themselves. */
const endless = { handlers: { training: () => Effect.never, backtest: () => Effect.never } }

describe("Reliability", () => {
  it.scoped("a registration keeps a slot claimed while it was being read", () =>
    fresh(Effect.gen(function*() {
      const store = yield* WorkerStore.WorkerStore
      yield* register({ id: "w-1", type: "training", endpoint: "http://127.0.0.1:5005" })
      // The loop claims the only slot; its job row is not written yet when the worker registers again.
      const [claimed] = yield* store.claim("training", ["job_inflight" as Domain.JobId], 0)
      assert.strictEqual(claimed?.id, "w-1")
      const again = yield* register({ id: "w-1", type: "training", endpoint: "http://127.0.0.1:5005" })
      assert.deepStrictEqual(again.worker.currentJobs, ["job_inflight" as Domain.JobId])
      assert.strictEqual(again.worker.status, "busy")
      assert.deepStrictEqual(yield* store.claim("training", ["job_next" as Domain.JobId], 0), [], "no double booking")
    })))

  it.scoped("a registration delivered after a later one changes nothing (it would declare lost a job accepted since)", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1, backtest: 0 })
      const worker = { id: "training-1", type: "training", endpoint: "memory://training-1" } as const
      yield* register({ ...worker, sequence: 1000 })
      const research = yield* coordinator.trigger({ strategy, force: true })
      yield* advance(1)
      const job = (yield* show(research.id)).research.activeJobId!
      // The worker accepted the job and said so in its latest registration...
      yield* register({ ...worker, sequence: 3000, runningJobs: [job] })
      // ...then one it had sent before, without the job, arrives late.
      const late = yield* register({ ...worker, sequence: 2000, runningJobs: [] })
      assert.deepStrictEqual(late.cancel, [])
      assert.deepStrictEqual(late.worker.currentJobs, [job])
      assert.deepStrictEqual(yield* jobsOf(research.id), ["training:running"], "not declared lost")
    }), endless))

  it.scoped("a worker that says it is full: the research goes back to its place in the queue, no attempt counted", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1, backtest: 0 })
      const store = yield* WorkerStore.WorkerStore
      const first = yield* coordinator.trigger({ strategy, force: true })
      yield* advance(1)
      const running = (yield* show(first.id)).research.activeJobId!
      // Bookkeeping goes wrong behind the coordinator's back: the worker's slot looks free.
      yield* store.release("training-1" as Domain.WorkerId, running)
      const second = yield* coordinator.trigger({ strategy, force: true })
      yield* advance(1)
      const third = yield* coordinator.trigger({ strategy, force: true })
      yield* advance(1)
      const refused = yield* show(second.id)
      assert.deepStrictEqual(refused.jobs.map((j) => `${j.kind}:${j.status}`), ["training:refused"])
      assert.strictEqual(refused.research.failures, 0)
      assert.strictEqual(refused.research.status, "running")
      assert.strictEqual(refused.research.waitingFor?.since, refused.jobs[0]!.queuedSince, "its place in the queue")
      const worker = Option.getOrThrow(yield* store.get("training-1" as Domain.WorkerId))
      assert.strictEqual(worker.status, "busy", "no more jobs until the worker says otherwise")
      assert.deepStrictEqual(yield* jobsOf(third.id), [], "the third waits behind the second")
      // Each heartbeat says the worker is free and each try is refused again, uncounted,
      // until the first finishes (at 100 s): then the second, not the third, runs.
      yield* advance(110)
      assert.deepStrictEqual(yield* jobsOf(first.id), ["training:completed"])
      const tries = yield* jobsOf(second.id)
      assert.deepStrictEqual(tries.slice(0, -1), tries.slice(0, -1).map(() => "training:refused"))
      assert.strictEqual(tries.at(-1), "training:running")
      assert.strictEqual((yield* show(second.id)).research.failures, 0)
      assert.deepStrictEqual(yield* jobsOf(third.id), [])
    }), { handlers: { training: takes(100, goodTraining), backtest: () => Effect.never } }))

  it.scoped("a worker shutting down is marked draining and gets no more jobs", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1, backtest: 0 })
      const registry = yield* WorkerRegistry.WorkerRegistry
      yield* registry.markRefusing("training-1" as Domain.WorkerId, "job_none" as Domain.JobId, "draining")
      yield* coordinator.trigger({ strategy, force: true })
      yield* advance(30)
      const worker = yield* registry.get("training-1" as Domain.WorkerId)
      assert.strictEqual(worker.status, "draining", "heartbeats keep it draining")
      assert.strictEqual((yield* coordinator.status()).active[0]?.waitingFor?.workerType, "training")
    }), endless))

  it.scoped("a slot held for a job no research runs is freed by the loop once it is still so 5 s later", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1, backtest: 0 })
      const store = yield* WorkerStore.WorkerStore
      // A coordinator killed between its claim and its commit leaves this behind.
      yield* store.claim("training", ["job_leaked" as Domain.JobId], 0)
      const research = yield* coordinator.trigger({ strategy, force: true })
      // First only suspected (a report frees its slot in a write of its own): the research waits.
      yield* advance(3)
      assert.deepStrictEqual(yield* jobsOf(research.id), [])
      // Nothing else happens meanwhile: the loop wakes itself when the grace ends.
      yield* advance(3)
      assert.deepStrictEqual(yield* jobsOf(research.id), ["training:running"])
      const worker = Option.getOrThrow(yield* store.get("training-1" as Domain.WorkerId))
      assert.deepStrictEqual(worker.currentJobs, [(yield* show(research.id)).research.activeJobId!])
    }), endless))

  it.scoped("a result held through an outage is used after its job was declared lost, before the retry", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1, backtest: 0 })
      const pool = yield* MemoryWorkers.MemoryWorkers
      const research = yield* coordinator.trigger({ strategy, force: true })
      yield* advance(1)
      const job = (yield* show(research.id)).research.activeJobId!
      // The worker falls silent (30 s to offline, then the 60 s grace) and its job is declared lost.
      yield* pool.crash("training-1")
      yield* advance(91)
      const lost = yield* show(research.id)
      assert.deepStrictEqual(lost.jobs.map((j) => `${j.kind}:${j.status}`), ["training:lost"])
      assert.deepInclude(lost.research, { failures: 1, activeJobId: null })
      // It comes back before the retry starts, with the result it finished meanwhile.
      const answer = yield* register({
        id: "training-1",
        type: "training",
        endpoint: "memory://training-1",
        finishedJobs: [{ _tag: "Completed", jobId: job, workerId: "training-1", result: goodTraining }]
      })
      assert.strictEqual(answer.retryWithinSeconds, 30, "half the orphan grace")
      yield* advance(1)
      const after = yield* show(research.id)
      assert.deepStrictEqual(after.jobs.map((j) => `${j.kind}:${j.status}`), ["training:completed"], "not run again")
      assert.deepInclude(after.research, { phase: "backtesting", failures: 0 })
    }), endless))

  it.scoped("a held result storage cannot keep does not block the registration: the job fails with the reason", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1, backtest: 0 })
      const research = yield* coordinator.trigger({ strategy, force: true })
      yield* advance(1)
      const job = (yield* show(research.id)).research.activeJobId!
      const answer = yield* register({
        id: "training-1",
        type: "training",
        endpoint: "memory://training-1",
        runningJobs: [],
        finishedJobs: [{ _tag: "Completed", jobId: job, workerId: "training-1", result: { note: "bad \u0000 byte" } }]
      })
      assert.strictEqual(answer.worker.id, "training-1")
      const stored = (yield* show(research.id)).jobs.find((j) => j.id === job)!
      assert.strictEqual(stored.status, "failed")
      assert.match(stored.error ?? "", /could not be stored: text must be valid Unicode without NUL characters/)
    }), endless))
})
