/** Registration, reconciliation, heartbeats and reports, on the memory adapter. */
import { assert, describe, it } from "@effect/vitest"
import { type Domain, WorkerRegistry } from "@foreman/core"
import { Effect, Schema } from "effect"
import { advance, fresh, goodTraining, jobsOf, show, startLab } from "../src/TestEngine.js"

const register = (input: WorkerRegistry.RegistrationInput) =>
  Effect.flatMap(WorkerRegistry.WorkerRegistry, (r) =>
    Effect.flatMap(Schema.decodeUnknown(WorkerRegistry.Registration)(input), r.register))

/** Training jobs that never finish by themselves: the test reports for the worker. */
const slowTraining = { handlers: { training: () => Effect.never, backtest: () => Effect.never } }

describe("WorkerRegistry", () => {
  it.scoped("registers with defaults and lists by type and status", () =>
    fresh(Effect.gen(function*() {
      const registry = yield* WorkerRegistry.WorkerRegistry
      const { worker } = yield* register({ id: "w-1", type: "training", endpoint: "http://127.0.0.1:5005" })
      assert.deepInclude(worker, { status: "available", capacity: 1, currentJobs: [] })
      yield* register({ id: "w-2", type: "backtest", endpoint: "http://127.0.0.1:5003", capacity: 2 })
      assert.deepStrictEqual((yield* registry.list({ type: "backtest" })).map((w) => w.id), ["w-2"])
      assert.deepStrictEqual((yield* registry.list({ status: "available" })).length, 2)
      const missing = yield* Effect.flip(registry.heartbeat("w-9" as Domain.WorkerId))
      assert.strictEqual(missing._tag, "WorkerNotFound")
      assert.match(missing.message, /register again/)
      yield* registry.deregister("w-2" as Domain.WorkerId)
      assert.strictEqual((yield* Effect.flip(registry.get("w-2" as Domain.WorkerId)))._tag, "WorkerNotFound")
    })))

  it.scoped("rejects a registration that fails validation", () =>
    fresh(Effect.gen(function*() {
      const error = yield* Effect.flip(register({ id: "bad id!", type: "Training", endpoint: "x", capacity: 0 }))
      assert.strictEqual(error._tag, "ParseError")
    })))

  it.scoped("applies results of jobs that finished while the coordinator was away", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1 })
      const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      yield* advance(1)
      const job = (yield* show(research.id)).research.activeJobId!
      // The worker comes back: it finished the job and runs one the coordinator never gave it.
      const again = yield* register({
        id: "training-1",
        type: "training",
        endpoint: "http://127.0.0.1:5005",
        runningJobs: ["job_stranger"],
        finishedJobs: [{ _tag: "Completed", jobId: job, workerId: "training-1", result: goodTraining }]
      })
      assert.deepStrictEqual(again.cancel, ["job_stranger"])
      assert.deepStrictEqual(again.worker.currentJobs, [])
      yield* advance(1)
      assert.deepStrictEqual((yield* jobsOf(research.id)).slice(0, 2), ["design:completed", "training:completed"])
      assert.strictEqual((yield* show(research.id)).research.phase, "backtesting")
    }), slowTraining))

  it.scoped("declares lost a job the worker re-registers without, and tells the worker not to run it", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1 })
      const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      yield* advance(1)
      const job = (yield* show(research.id)).research.activeJobId!
      // The dispatch of `job` crossed this registration: the worker did not list it.
      const again = yield* register({ id: "training-1", type: "training", endpoint: "http://h:1", runningJobs: [] })
      assert.deepStrictEqual(again.cancel, [job])
      assert.deepStrictEqual(again.worker.currentJobs, [])
      assert.deepStrictEqual((yield* jobsOf(research.id)).slice(0, 2), ["design:completed", "training:lost"])
    }), slowTraining))

  it.scoped("keeps a running job the worker re-reports, and accepts reports only from its worker", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1 })
      const registry = yield* WorkerRegistry.WorkerRegistry
      const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      yield* advance(1)
      const job = (yield* show(research.id)).research.activeJobId!
      const again = yield* register({ id: "training-1", type: "training", endpoint: "http://h:1", runningJobs: [job] })
      assert.deepStrictEqual(again.worker.currentJobs, [job])
      assert.strictEqual(again.worker.status, "busy")

      const intruder = yield* Effect.flip(registry.report({ _tag: "Completed", jobId: job, workerId: "w-x" as Domain.WorkerId, result: {} }))
      assert.strictEqual(intruder._tag, "JobNotAssigned")
      const unknown = yield* Effect.flip(registry.report({ _tag: "Failed", jobId: "job_nope" as Domain.JobId, workerId: "training-1" as Domain.WorkerId, error: "x" }))
      assert.strictEqual(unknown._tag, "JobNotFound")

      yield* registry.report({ _tag: "Progress", jobId: job, workerId: "training-1" as Domain.WorkerId, progress: 0.4, message: "epoch 4/10" })
      const status = yield* coordinator.status()
      assert.deepStrictEqual(status.active[0]!.job?.progress, 0.4)
      yield* registry.report({ _tag: "Completed", jobId: job, workerId: "training-1" as Domain.WorkerId, result: goodTraining })
      // A repeated report is ignored.
      const repeat = yield* registry.report({ _tag: "Failed", jobId: job, workerId: "training-1" as Domain.WorkerId, error: "late" })
      assert.strictEqual(repeat.status, "completed")
      assert.deepStrictEqual((yield* registry.get("training-1" as Domain.WorkerId)).currentJobs, [])
    }), slowTraining))
})
