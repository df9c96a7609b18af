/**
 * The coordinator's behaviour from the seeds, on the in-memory adapter with
 * scripted workers and the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Budget, Coordinator, CoordinatorEvents, type Domain, Pipeline, WorkerRegistry } from "@foreman/core"
import { Chunk, Duration, Effect, Fiber, Queue, Ref } from "effect"
import { MemoryWorkers } from "../src/index.js"
import {
  advance,
  badTraining,
  fresh,
  goodBacktest,
  goodTraining,
  jobsOf,
  lead,
  phaseOf,
  show,
  spawnWorkers,
  startLab,
  takes
} from "../src/TestEngine.js"

const workerOf = (id: string) =>
  Effect.flatMap(WorkerRegistry.WorkerRegistry, (r) => r.get(id as Domain.WorkerId))

describe("Coordinator", () => {
  it.scoped("runs a research through every phase", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab()
      const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      yield* advance(1)
      assert.strictEqual(yield* phaseOf(research.id), "running:training")
      yield* advance(100)
      assert.strictEqual(yield* phaseOf(research.id), "running:backtesting")
      yield* advance(50)
      assert.strictEqual(yield* phaseOf(research.id), "completed:assessing")
      const shown = yield* show(research.id)
      assert.deepStrictEqual(shown.jobs.map((j) => j.kind), ["design", "training", "backtest", "assessment"])
      assert.isTrue(shown.research.gates["training"]?.passed)
      assert.isTrue(shown.research.gates["backtest"]?.passed)
      assert.strictEqual(shown.research.strategy?.name.startsWith("rsi_"), true)
      assert.isTrue(shown.research.costUsd > 0)
      assert.strictEqual(shown.progress, 1)
    })))

  it.scoped("accepts two researches at once", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab()
      const a = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      const b = yield* coordinator.trigger({ brief: "Test MACD strategies" })
      assert.notStrictEqual(a.id, b.id)
      assert.match(a.id, /^op_[0-9a-f]+$/)
      const status = yield* coordinator.status()
      assert.strictEqual(status.active.length, 2)
      assert.deepStrictEqual(status.capacity, { active: 2, limit: 3 })
    })))

  it.scoped("skips design when given a strategy", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab()
      const research = yield* coordinator.trigger({ strategy: { name: "mtf_momentum_1", spec: { indicators: ["rsi"] } } })
      yield* advance(1)
      assert.strictEqual(yield* phaseOf(research.id), "running:training")
      assert.deepStrictEqual(yield* jobsOf(research.id), ["training:running"])
    })))

  it.scoped("rejects a trigger without brief or strategy", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab()
      const error = yield* Effect.flip(coordinator.trigger({ brief: "   " }))
      assert.strictEqual(error._tag, "InvalidInput")
    })))

  it.scoped("records the research a trigger follows, lists it among its parent's children, and refuses an unknown parent", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab()
      const parent = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      assert.isNull(parent.parentId, "a manual trigger has no parent")
      const child = yield* coordinator.trigger({ brief: "RSI with a volume filter", parentId: parent.id })
      assert.strictEqual(child.parentId, parent.id)
      assert.deepStrictEqual((yield* show(parent.id)).children.map((r) => r.id), [child.id])
      assert.strictEqual((yield* show(child.id)).research.parentId, parent.id)
      assert.deepStrictEqual((yield* show(child.id)).children, [])
      const unknown = yield* Effect.flip(coordinator.trigger({ brief: "x", parentId: "op_missing" as Domain.ResearchId }))
      assert.strictEqual(unknown._tag, "InvalidInput")
      assert.include(unknown.message, "op_missing")
    })))

  it.scoped("refuses at capacity with the seeds' message, and --force overrides", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab()
      for (let i = 0; i < 3; i++) yield* coordinator.trigger({ brief: `research ${i}` })
      const error = yield* Effect.flip(coordinator.trigger({ brief: "Another experiment" }))
      assert.strictEqual(error._tag, "AtCapacity")
      assert.strictEqual(error.message, "Cannot trigger: at capacity (3 active researches, limit is 3)")
      assert.deepStrictEqual(error._tag === "AtCapacity" && [error.active, error.limit], [3, 3])
      const forced = yield* coordinator.trigger({ brief: "Another experiment", force: true })
      assert.isTrue(forced.forced)
      assert.strictEqual((yield* coordinator.status()).capacity.active, 4)
    })))

  it.scoped("uses the configured concurrency limit over the derived one", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab({ training: 3, backtest: 3 })
        yield* coordinator.trigger({ brief: "one" })
        const error = yield* Effect.flip(coordinator.trigger({ brief: "two" }))
        assert.strictEqual(error.message, "Cannot trigger: at capacity (1 active researches, limit is 1)")
      }),
      { config: { maxConcurrentResearches: 1 } }
    ))

  it.scoped("admits triggers arriving together in order, each counting against the capacity of the next", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab()
      const events = yield* CoordinatorEvents.CoordinatorEvents
      const subscription = yield* events.subscribe
      const outcomes = yield* Effect.all(
        Array.from({ length: 8 }, (_, i) => Effect.either(coordinator.trigger({ brief: `research ${i}`, force: i === 6 }))),
        { concurrency: "unbounded" }
      )
      // Limit 3: the first three are accepted, the forced one too, the other four refused at 3 active, then 4.
      assert.deepStrictEqual(outcomes.map((o) => o._tag), ["Right", "Right", "Right", "Left", "Left", "Left", "Right", "Left"])
      assert.deepStrictEqual(
        outcomes.flatMap((o) => o._tag === "Left" && o.left._tag === "AtCapacity" ? [o.left.active] : []),
        [3, 3, 3, 4]
      )
      const published = Chunk.toReadonlyArray(yield* Queue.takeAll(subscription))
      assert.deepStrictEqual(
        published.flatMap((e): Array<number | string> =>
          e._tag === "Triggered" ? [e.activeBefore] : e._tag === "Refused" ? [e.reason] : []
        ),
        [0, 1, 2, "capacity", "capacity", "capacity", 3, "capacity"]
      )
      assert.strictEqual((yield* coordinator.status()).capacity.active, 4)
    })))

  it.scoped("refuses on an exhausted budget, --force overrides, and active researches still finish", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab()
        const first = yield* coordinator.trigger({ brief: "Explore RSI variations" })
        yield* advance(1)
        const error = yield* Effect.flip(coordinator.trigger({ brief: "Expensive experiment" }))
        assert.strictEqual(error._tag, "BudgetExhausted")
        assert.match(error.message, /^Cannot trigger: daily budget exhausted \(\$0\.1[0-5] remaining\)$/)
        assert.strictEqual(error._tag === "BudgetExhausted" && error.active, 1)
        const forced = yield* coordinator.trigger({ brief: "Expensive experiment", force: true })
        yield* advance(400)
        assert.strictEqual(yield* phaseOf(first.id), "completed:assessing")
        assert.strictEqual(yield* phaseOf(forced.id), "completed:assessing")
        const budget = yield* (yield* Budget.Budget).status()
        assert.isTrue(budget.remainingUsd! < budget.estimateUsd)
        assert.strictEqual(budget.cyclesAffordable, 0)
        assert.isFalse(budget.canAfford)
      }),
      { config: { dailyBudgetUsd: 0.16 } }
    ))

  it.scoped("reports an unlimited budget as JSON-safe nulls", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab()
        const status = yield* coordinator.status()
        const json = JSON.parse(JSON.stringify(status.budget))
        assert.deepInclude(json, { unlimited: true, limitUsd: 0, remainingUsd: null, cyclesAffordable: null })
      }),
      { config: { dailyBudgetUsd: 0 } }
    ))

  it.scoped("cancels one research, frees its worker and leaves the others alone", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 2 })
      const a = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      const b = yield* coordinator.trigger({ brief: "Test MACD strategies" })
      yield* advance(1)
      const jobA = (yield* show(a.id)).research.activeJobId!
      const workerA = (yield* show(a.id)).jobs.find((j) => j.kind === "training")!.workerId!
      assert.deepStrictEqual((yield* workerOf(workerA)).currentJobs, [jobA])

      const cancelled = yield* coordinator.cancel(a.id)
      assert.strictEqual(cancelled.status, "cancelled")
      assert.deepStrictEqual((yield* workerOf(workerA)).currentJobs, [])
      assert.strictEqual((yield* workerOf(workerA)).status, "available")
      assert.deepStrictEqual((yield* MemoryWorkers.MemoryWorkers).running(workerA), [])
      assert.deepStrictEqual(yield* jobsOf(a.id), ["design:completed", "training:cancelled"])
      // Idempotent.
      assert.strictEqual((yield* coordinator.cancel(a.id)).status, "cancelled")

      yield* advance(200)
      assert.strictEqual(yield* phaseOf(a.id), "cancelled:training")
      assert.strictEqual(yield* phaseOf(b.id), "completed:assessing")
      const notCancellable = yield* Effect.flip(coordinator.cancel(b.id))
      assert.strictEqual(notCancellable._tag, "NotCancellable")
      const unknown = yield* Effect.flip(coordinator.cancel("op_doesnotexist" as Domain.ResearchId))
      assert.strictEqual(unknown._tag, "ResearchNotFound")
    })))

  it.scoped("cancels a research during its in-process design", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab()
        const a = yield* coordinator.trigger({ brief: "Explore RSI variations" })
        yield* advance(1)
        assert.deepStrictEqual(yield* jobsOf(a.id), ["design:running"])
        yield* coordinator.cancel(a.id)
        yield* advance(60)
        assert.deepStrictEqual(yield* jobsOf(a.id), ["design:cancelled"])
        assert.strictEqual(yield* phaseOf(a.id), "cancelled:designing")
      }),
      { agents: { designLatency: Duration.seconds(30) } }
    ))

  it.scoped("two training workers, three researches: two train, the third waits, then proceeds", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 2 })
      const ids = [] as Array<Domain.ResearchId>
      for (const brief of ["Explore RSI variations", "Test MACD strategies", "Multi-timeframe experiment"]) {
        ids.push((yield* coordinator.trigger({ brief, force: true })).id)
      }
      yield* advance(1)
      const status = yield* coordinator.status()
      const [a, b, c] = ids.map((id) => status.active.find((r) => r.id === id)!)
      assert.strictEqual(a!.job?.kind, "training")
      assert.strictEqual(b!.job?.kind, "training")
      assert.strictEqual(c!.job, null)
      assert.deepStrictEqual(c!.waitingFor?.workerType, "training")
      assert.deepStrictEqual(status.workers["training"], { busy: 2, total: 2, workers: 2 })
      yield* advance(100)
      assert.strictEqual(yield* phaseOf(ids[2]!), "running:training")
      yield* advance(300)
      for (const id of ids) assert.strictEqual(yield* phaseOf(id), "completed:assessing")
    })))

  it.scoped("keeps the design while waiting for a worker and never designs again", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1 })
      const first = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      const second = yield* coordinator.trigger({ brief: "Test MACD strategies" })
      yield* advance(1)
      const waiting = yield* show(second.id)
      assert.strictEqual(waiting.research.phase, "training")
      assert.strictEqual(waiting.research.waitingFor?.workerType, "training")
      assert.isNotNull(waiting.research.strategy)
      // Many polls later, still one design.
      yield* advance(60)
      assert.deepStrictEqual(yield* jobsOf(second.id), ["design:completed"])
      yield* advance(100)
      assert.deepStrictEqual(yield* jobsOf(second.id), ["design:completed", "training:running"])
      assert.deepStrictEqual((yield* show(second.id)).research.strategy, waiting.research.strategy)
      yield* advance(400)
      assert.strictEqual(yield* phaseOf(first.id), "completed:assessing")
      assert.strictEqual((yield* jobsOf(second.id)).filter((j) => j.startsWith("design")).length, 1)
    })))

  it.scoped("sends a model rejected by the training gate straight to assessment, with no backtest worker", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab({ training: 1, backtest: 0 })
        const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
        yield* advance(101)
        const shown = yield* show(research.id)
        assert.strictEqual(shown.research.status, "completed")
        assert.deepStrictEqual(shown.research.gates["training"], {
          passed: false,
          reason: "accuracy_below_threshold (5.0% < 10%)",
          bypassed: false
        })
        assert.deepStrictEqual(shown.jobs.map((j) => j.kind), ["design", "training", "assessment"])
        assert.strictEqual((shown.research.results["assessment"] as { verdict: string }).verdict, "rejected")
      }),
      { handlers: { training: takes(100, badTraining), backtest: takes(50, goodBacktest) } }
    ))

  it.scoped("bypass-gates lets a weak model through to the backtest", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab()
        const research = yield* coordinator.trigger({ brief: "Explore RSI variations", bypassGates: true })
        yield* advance(160)
        const shown = yield* show(research.id)
        assert.deepStrictEqual(shown.jobs.map((j) => j.kind), ["design", "training", "backtest", "assessment"])
        assert.isTrue(shown.research.gates["training"]?.bypassed)
      }),
      { handlers: { training: takes(100, badTraining), backtest: takes(50, goodBacktest) } }
    ))

  it.scoped("queues for the backtest worker", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 2, backtest: 1 })
      yield* coordinator.trigger({ brief: "Explore RSI variations" })
      yield* coordinator.trigger({ brief: "Test MACD strategies" })
      yield* advance(101)
      const status = yield* coordinator.status()
      const running = status.active.filter((r) => r.job?.kind === "backtest")
      const waiting = status.active.filter((r) => r.waitingFor?.workerType === "backtest")
      assert.strictEqual(running.length, 1)
      assert.strictEqual(waiting.length, 1)
      assert.deepStrictEqual(status.workers["backtest"], { busy: 1, total: 1, workers: 1 })
      yield* advance(50)
      assert.strictEqual(yield* phaseOf(running[0]!.id), "completed:assessing")
      assert.strictEqual(yield* phaseOf(waiting[0]!.id), "running:backtesting")
      yield* advance(50)
      assert.strictEqual(yield* phaseOf(waiting[0]!.id), "completed:assessing")
    })))

  it.scoped("serves waiting researches first come, first served, starving none", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1, backtest: 1 })
      const ids = [] as Array<Domain.ResearchId>
      for (let i = 0; i < 5; i++) {
        ids.push((yield* coordinator.trigger({ brief: `research ${i}`, force: true })).id)
        yield* advance(1)
      }
      yield* advance(5 * 100 + 200)
      const trainings = [] as Array<[number, Domain.ResearchId]>
      for (const id of ids) {
        const shown = yield* show(id)
        assert.strictEqual(shown.research.status, "completed")
        trainings.push([shown.jobs.find((j) => j.kind === "training")!.createdAt, id])
      }
      assert.deepStrictEqual(trainings.sort(([x], [y]) => x - y).map(([, id]) => id), ids)
    })))

  it.scoped("retries a job whose worker is lost mid-job on another worker", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 2 })
      const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      yield* advance(10)
      const first = (yield* show(research.id)).jobs.find((j) => j.kind === "training")!
      yield* (yield* MemoryWorkers.MemoryWorkers).crash(first.workerId!)
      // Offline after 30 s without heartbeats, lost after the 60 s grace, then retried after a 5 s backoff.
      yield* advance(120)
      const jobs = (yield* show(research.id)).jobs.filter((j) => j.kind === "training")
      assert.strictEqual(jobs.length, 2)
      assert.strictEqual(jobs[0]!.status, "lost")
      assert.match(jobs[0]!.error!, /stopped answering/)
      assert.notStrictEqual(jobs[1]!.workerId, first.workerId)
      assert.strictEqual(jobs[1]!.attempt, 2)
      assert.strictEqual((yield* workerOf(first.workerId!)).status, "offline")
      yield* advance(200)
      assert.strictEqual(yield* phaseOf(research.id), "completed:assessing")
    })))

  it.scoped("declares a job lost when its worker re-registers without it", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 1 })
      const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      yield* advance(10)
      const pool = yield* MemoryWorkers.MemoryWorkers
      yield* pool.crash("training-1")
      yield* pool.restart("training-1")
      yield* advance(10)
      assert.deepStrictEqual(yield* jobsOf(research.id), ["design:completed", "training:lost", "training:running"])
      yield* advance(200)
      assert.strictEqual(yield* phaseOf(research.id), "completed:assessing")
    })))

  it.scoped("retries a failed dispatch on another worker", () =>
    Effect.gen(function*() {
      const failures = yield* Ref.make(1)
      const dispatchFails = Ref.modify(failures, (n) => [n > 0, n - 1] as const)
      yield* fresh(
        Effect.gen(function*() {
          const coordinator = yield* startLab({ training: 2 })
          const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
          yield* advance(10)
          const jobs = (yield* show(research.id)).jobs.filter((j) => j.kind === "training")
          assert.deepStrictEqual(jobs.map((j) => j.status), ["lost", "running"])
          assert.match(jobs[0]!.error!, /simulated network failure/)
          yield* advance(200)
          assert.strictEqual(yield* phaseOf(research.id), "completed:assessing")
        }),
        { dispatchFails }
      )
    }))

  it.scoped("gives up after the configured number of infrastructure failures", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab({ training: 1 })
        const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
        yield* advance(120)
        const shown = yield* show(research.id)
        assert.strictEqual(shown.research.status, "failed")
        assert.match(shown.research.error!, /^training failed 3 times, giving up/)
      }),
      { dispatchFails: Effect.succeed(true) }
    ))

  it.scoped("fails the research with the job's own error", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab()
        const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
        yield* advance(20)
        const shown = yield* show(research.id)
        assert.strictEqual(shown.research.status, "failed")
        assert.strictEqual(shown.research.error, "training job failed: CUDA out of memory")
        assert.strictEqual((yield* workerOf("training-1")).status, "available")
      }),
      {
        handlers: {
          training: () => Effect.zipRight(Effect.sleep(Duration.seconds(10)), Effect.fail("CUDA out of memory")),
          backtest: takes(50, goodBacktest)
        }
      }
    ))

  it.scoped("fails a research whose worker returns a malformed result", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab()
        const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
        yield* advance(20)
        const shown = yield* show(research.id)
        assert.strictEqual(shown.research.status, "failed")
        assert.match(shown.research.error!, /^invalid training result/)
      }),
      { handlers: { training: takes(10, { accuracy: "high" }), backtest: takes(50, goodBacktest) } }
    ))

  it.scoped("restarts orphaned design and assessment after a restart, leaving worker jobs alone", () =>
    fresh(
      Effect.gen(function*() {
        yield* spawnWorkers({ training: 2, backtest: 1 })
        const leader = yield* lead
        const coordinator = yield* Coordinator.Coordinator
        const pool = yield* MemoryWorkers.MemoryWorkers
        // `late` reaches assessment, `early` is designing, `mid` is training when the coordinator dies.
        const late = yield* coordinator.trigger({ strategy: { name: "late_strategy", spec: {} } })
        yield* advance(151)
        const early = yield* coordinator.trigger({ brief: "Explore RSI variations" })
        const mid = yield* coordinator.trigger({ strategy: { name: "mid_strategy", spec: {} } })
        yield* advance(1)
        assert.deepStrictEqual(yield* jobsOf(late.id), ["training:completed", "backtest:completed", "assessment:running"])
        assert.deepStrictEqual(yield* jobsOf(early.id), ["design:running"])
        assert.deepStrictEqual(yield* jobsOf(mid.id), ["training:running"])
        const midJob = (yield* show(mid.id)).research.activeJobId
        const startsBefore = (yield* pool.stats).starts

        yield* Fiber.interrupt(leader)
        yield* lead
        yield* advance(1)

        const earlyJobs = (yield* show(early.id)).jobs
        assert.deepStrictEqual(earlyJobs.map((j) => `${j.kind}:${j.status}`), ["design:failed", "design:running"])
        assert.match(earlyJobs[0]!.error!, /^orphaned: coordinator epoch 1 stopped while this design job was running/)
        const lateJobs = (yield* show(late.id)).jobs
        assert.deepStrictEqual(lateJobs.map((j) => `${j.kind}:${j.status}`).slice(-2), [
          "assessment:failed",
          "assessment:running"
        ])
        assert.strictEqual((yield* show(mid.id)).research.activeJobId, midJob)
        assert.strictEqual((yield* pool.stats).starts, startsBefore)

        yield* advance(400)
        for (const id of [early.id, mid.id, late.id]) assert.strictEqual(yield* phaseOf(id), "completed:assessing")
        assert.deepStrictEqual(yield* jobsOf(mid.id), [
          "training:completed",
          "backtest:completed",
          "assessment:completed"
        ])
        assert.deepStrictEqual((yield* pool.stats).duplicateStarts, [])
      }),
      { agents: { designLatency: Duration.seconds(30), assessLatency: Duration.seconds(30) } }
    ))

  it.scoped("runs a custom pipeline with a phase on another worker type", () => {
    const base = Pipeline.research
    const riskChecked: Pipeline.PipelineShape = {
      ...base,
      phases: {
        ...base.phases,
        backtesting: {
          ...base.phases["backtesting"]!,
          onResult: (r, result, gates) => {
            const outcome = base.phases["backtesting"]!.onResult(r, result, gates)
            return outcome._tag === "Next" ? { ...outcome, phase: "risk" } : outcome
          }
        },
        risk: {
          phase: "risk",
          kind: "risk",
          progress: 0.8,
          runner: { _tag: "Worker", workerType: "risk" },
          input: (r) => ({ strategy: r.strategy }),
          onResult: (r, result) => ({
            _tag: "Next",
            phase: "assessing",
            research: { ...r, results: { ...r.results, risk: result } }
          })
        }
      }
    }
    return Effect.gen(function*() {
      const coordinator = yield* startLab()
      yield* (yield* MemoryWorkers.MemoryWorkers).spawn({ id: "risk-1", type: "risk" })
      const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      yield* advance(200)
      const shown = yield* show(research.id)
      assert.deepStrictEqual(shown.jobs.map((j) => j.kind), ["design", "training", "backtest", "risk", "assessment"])
      assert.deepStrictEqual(shown.research.results["risk"], { valueAtRisk: 0.02 })
      assert.strictEqual(shown.research.status, "completed")
      assert.deepStrictEqual(Object.keys((yield* coordinator.status()).workers).sort(), ["backtest", "risk", "training"])
    }).pipe(
      (self) =>
        fresh(self, {
          handlers: {
            training: takes(100, goodTraining),
            backtest: takes(50, goodBacktest),
            risk: takes(10, { valueAtRisk: 0.02 })
          }
        }),
      Effect.provideService(Pipeline.Pipeline, riskChecked)
    )
  })
})
