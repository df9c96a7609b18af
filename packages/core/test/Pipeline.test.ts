/**
 * The functional core: the default research pipeline and the pure `advance`
 * step, driven with hand-built researches, jobs and worlds.
 */
import { assert, describe, it } from "@effect/vitest"
import type { GateOutcome, Job, JobId, Research, ResearchId, Worker, WorkerId } from "../src/Domain.js"
import * as ForemanConfig from "../src/ForemanConfig.js"
import * as Gates from "../src/Gates.js"
import * as Pipeline from "../src/Pipeline.js"
import * as fixtures from "@foreman/adapter-memory/TestEngine"

const NOW = 10_000_000
const EPOCH = 2
const config = ForemanConfig.make()
const phases = Pipeline.research.phases

const researchId = "op_test0001" as ResearchId
const jobId = "job_test0001" as JobId
const trainerId = "trainer-1" as WorkerId

const world = (overrides: Partial<Pipeline.World> = {}): Pipeline.World => ({
  now: NOW,
  epoch: EPOCH,
  hearingSince: NOW - 3_600_000,
  workers: new Map(),
  config,
  ...overrides
})

const makeResearch = (overrides: Partial<Research> = {}): Research =>
  fixtures.research(researchId, {
    status: "running",
    createdAt: NOW - 60_000,
    updatedAt: NOW - 60_000,
    version: 3,
    ...overrides
  })

const makeJob = (overrides: Partial<Job> = {}): Job =>
  fixtures.job(jobId, researchId, {
    kind: "design",
    phase: "designing",
    workerType: null,
    workerId: null,
    input: null,
    epoch: EPOCH,
    createdAt: NOW - 10_000,
    updatedAt: NOW - 10_000,
    ...overrides
  })

const makeWorker = (overrides: Partial<Worker> = {}): Worker =>
  fixtures.worker(trainerId, {
    endpoint: "http://trainer-1:5005",
    status: "busy",
    currentJobs: [jobId],
    capabilities: {},
    registeredAt: 0,
    lastHeartbeatAt: NOW - 1_000,
    ...overrides
  })

const workersOf = (...workers: ReadonlyArray<Worker>): ReadonlyMap<WorkerId, Worker> =>
  new Map(workers.map((w) => [w.id, w]))

const strategy = { name: "rsi_momentum", spec: { indicator: "rsi", period: 14 } }
const goodTraining = { testAccuracy: 0.62, testLoss: 0.35, epochLosses: [0.9, 0.6, 0.4] }
const badTraining = { testAccuracy: 0.05, testLoss: 0.35, epochLosses: [0.9, 0.6, 0.4] }
const goodBacktest = {
  sharpeRatio: 1.2,
  winRate: 0.55,
  totalReturn: 0.12,
  totalTrades: 40,
  maxDrawdown: 0.15,
  netReturn: 0.1,
  tradeCount: 40
}
const assessment = { verdict: "promising", summary: "Worth a longer backtest." }
const usage = { model: "sonnet", inputTokens: 1000, outputTokens: 500, costUsd: 0.0105 }

/** A research in `phase` whose active job (of the phase's kind) is `job`. */
const withJob = (phase: string, job: Partial<Job>, research: Partial<Research> = {}) => {
  const definition = phases[phase]
  assert.isDefined(definition)
  const j = makeJob({
    kind: definition.kind,
    phase,
    ...(definition.runner._tag === "Worker" ? { workerType: definition.runner.workerType, workerId: trainerId } : {}),
    ...job
  })
  const r = makeResearch({ phase, activeJobId: j.id, ...research })
  return { research: r, job: j }
}

const step = (research: Research, job: Job | undefined, w: Pipeline.World = world()) =>
  Pipeline.advance(Pipeline.research, research, job, w)

const failedGate = (reason: string): GateOutcome => ({ passed: false, reason, bypassed: false })
const passedGate: GateOutcome = { passed: true, reason: null, bypassed: false }

describe("Pipeline", () => {
  describe("research pipeline", () => {
    it("starts in designing, or in training when given a strategy", () => {
      assert.strictEqual(Pipeline.research.initialPhase({ hasStrategy: false }), "designing")
      assert.strictEqual(Pipeline.research.initialPhase({ hasStrategy: true }), "training")
    })

    it("defines the four phases with their kinds, progress marks and runners", () => {
      const summary = Object.values(phases).map((d) => ({
        phase: d.phase,
        kind: d.kind,
        progress: d.progress,
        runner: d.runner._tag === "Worker" ? d.runner.workerType : "in-process"
      }))
      assert.deepStrictEqual(summary, [
        { phase: "designing", kind: "design", progress: 0.05, runner: "in-process" },
        { phase: "training", kind: "training", progress: 0.2, runner: "training" },
        { phase: "backtesting", kind: "backtest", progress: 0.65, runner: "backtest" },
        { phase: "assessing", kind: "assessment", progress: 0.9, runner: "in-process" }
      ])
    })

    it("sends the strategy and earlier results as job input", () => {
      const r = makeResearch({ strategy, results: { training: goodTraining } })
      assert.deepStrictEqual(phases["designing"]?.input(r), { brief: "Explore RSI variations", model: null })
      assert.deepStrictEqual(phases["training"]?.input(r), { brief: "Explore RSI variations", strategy })
      assert.deepStrictEqual(phases["backtesting"]?.input(r), { strategy, training: goodTraining })
      assert.deepStrictEqual(phases["backtesting"]?.input(makeResearch({ strategy })), { strategy, training: null })
      assert.deepStrictEqual(phases["assessing"]?.input(r), { strategy })
    })
  })

  describe("workerTypes", () => {
    it("lists the worker types of the research pipeline", () => {
      assert.deepStrictEqual(Pipeline.workerTypes(Pipeline.research), ["training", "backtest"])
    })

    it("includes a phase added on another worker type", () => {
      const evaluating: Pipeline.PhaseDefinition = {
        phase: "evaluating",
        kind: "evaluation",
        progress: 0.8,
        runner: { _tag: "Worker", workerType: "gpu-eval" },
        input: () => null,
        onResult: (r) => ({ _tag: "Done", research: r })
      }
      const pipeline: Pipeline.PipelineShape = {
        ...Pipeline.research,
        phases: { ...phases, evaluating }
      }
      assert.deepStrictEqual(Pipeline.workerTypes(pipeline), ["training", "backtest", "gpu-eval"])
    })
  })

  describe("progressOf", () => {
    it("gives the progress mark of the current phase", () => {
      const progress = (phase: string) => Pipeline.progressOf(Pipeline.research, makeResearch({ phase }))
      assert.strictEqual(progress("designing"), 0.05)
      assert.strictEqual(progress("training"), 0.2)
      assert.strictEqual(progress("backtesting"), 0.65)
      assert.strictEqual(progress("assessing"), 0.9)
    })

    it("is 1 when completed and 0 for an unknown phase", () => {
      assert.strictEqual(
        Pipeline.progressOf(Pipeline.research, makeResearch({ phase: "assessing", status: "completed" })),
        1
      )
      assert.strictEqual(Pipeline.progressOf(Pipeline.research, makeResearch({ phase: "nowhere" })), 0)
    })

    it("keeps the phase mark of a failed research", () => {
      assert.strictEqual(
        Pipeline.progressOf(Pipeline.research, makeResearch({ phase: "backtesting", status: "failed" })),
        0.65
      )
    })
  })

  describe("advance: starting phases", () => {
    it("asks to run design in process for a new research", () => {
      const r = makeResearch({ status: "pending" })
      const s = step(r, undefined)
      assert.strictEqual(s.research, r)
      assert.deepStrictEqual(s.jobWrites, [])
      assert.deepStrictEqual(s.notes, [])
      assert.strictEqual(s.action._tag, "RunInProcess")
      if (s.action._tag === "RunInProcess") assert.strictEqual(s.action.definition, phases["designing"])
    })

    it("asks for a training worker since now for a research given a strategy", () => {
      const r = makeResearch({ phase: "training", strategy })
      const s = step(r, undefined)
      assert.strictEqual(s.research, r)
      assert.deepStrictEqual(s.action, {
        _tag: "NeedWorker",
        definition: phases["training"]!,
        workerType: "training",
        since: NOW
      })
    })

    it("keeps the moment a research started waiting for a worker", () => {
      const r = makeResearch({ phase: "training", strategy, waitingFor: { workerType: "training", since: NOW - 42_000 } })
      const s = step(r, undefined)
      assert.strictEqual(s.research, r)
      assert.strictEqual(s.action._tag, "NeedWorker")
      if (s.action._tag === "NeedWorker") assert.strictEqual(s.action.since, NOW - 42_000)
    })

    it("restarts the wait when it was for another worker type", () => {
      const r = makeResearch({ phase: "backtesting", strategy, waitingFor: { workerType: "training", since: NOW - 42_000 } })
      const s = step(r, undefined)
      assert.strictEqual(s.action._tag, "NeedWorker")
      if (s.action._tag === "NeedWorker") {
        assert.strictEqual(s.action.workerType, "backtest")
        assert.strictEqual(s.action.since, NOW)
      }
    })

    it("waits for the retry backoff, then asks again", () => {
      const waiting = makeResearch({ phase: "training", strategy, failures: 1, retryAt: NOW + 1 })
      const s = step(waiting, undefined)
      assert.strictEqual(s.research, waiting)
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: NOW + 1 })
      const due = makeResearch({ phase: "training", strategy, failures: 1, retryAt: NOW })
      assert.strictEqual(step(due, undefined).action._tag, "NeedWorker")
    })

    it("leaves a terminal research alone", () => {
      for (const status of ["completed", "failed", "cancelled"] as const) {
        const r = makeResearch({ status, finishedAt: NOW - 1 })
        const s = step(r, undefined)
        assert.strictEqual(s.research, r)
        assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: null })
        assert.deepStrictEqual(s.jobWrites, [])
      }
    })

    it("fails a research in an unknown phase", () => {
      const s = step(makeResearch({ phase: "nowhere" }), undefined)
      assert.strictEqual(s.research.status, "failed")
      assert.strictEqual(s.research.error, "unknown phase nowhere")
      assert.strictEqual(s.research.finishedAt, NOW)
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: null })
    })
  })

  describe("advance: completed jobs", () => {
    it("stores a designed strategy, moves to training and asks for a training worker", () => {
      const { job, research } = withJob("designing", { status: "completed", result: strategy, usage, finishedAt: NOW })
      const s = step(research, job)
      assert.strictEqual(s.research.phase, "training")
      assert.strictEqual(s.research.status, "running")
      assert.deepStrictEqual(s.research.strategy, strategy)
      assert.deepStrictEqual(s.research.results["design"], strategy)
      assert.strictEqual(s.research.activeJobId, null)
      assert.strictEqual(s.research.attempt, 0)
      assert.strictEqual(s.research.failures, 0)
      assert.strictEqual(s.research.waitingFor, null)
      assert.strictEqual(s.research.costUsd, 0.0105)
      assert.deepStrictEqual(s.jobWrites, [])
      assert.deepStrictEqual(s.action, {
        _tag: "NeedWorker",
        definition: phases["training"]!,
        workerType: "training",
        since: NOW
      })
    })

    it("adds the job's cost to the research's", () => {
      const { job, research } = withJob("designing", { status: "completed", result: strategy, usage }, { costUsd: 0.5 })
      assert.strictEqual(step(research, job).research.costUsd, 0.5105)
    })

    it("resets the attempt and failure counts and the retry moment on the next phase", () => {
      const { job, research } = withJob("designing", { status: "completed", result: strategy }, {
        attempt: 3,
        failures: 2,
        retryAt: NOW - 1
      })
      const s = step(research, job)
      assert.strictEqual(s.research.attempt, 0)
      assert.strictEqual(s.research.failures, 0)
      assert.strictEqual(s.research.retryAt, null)
    })

    it("sends a model that fails the training gate straight to assessment", () => {
      const { job, research } = withJob("training", { status: "completed", result: badTraining }, { strategy })
      const s = step(research, job)
      assert.strictEqual(s.research.phase, "assessing")
      assert.deepStrictEqual(s.research.gates["training"], failedGate("accuracy_below_threshold (5.0% < 10%)"))
      assert.deepStrictEqual(s.research.results["training"], { kind: "classification", ...badTraining })
      assert.strictEqual(s.research.results["backtest"], undefined)
      assert.strictEqual(s.action._tag, "RunInProcess")
      if (s.action._tag === "RunInProcess") assert.strictEqual(s.action.definition, phases["assessing"])
    })

    it("sends a model that passes the training gate to backtesting", () => {
      const { job, research } = withJob("training", { status: "completed", result: goodTraining }, { strategy })
      const s = step(research, job)
      assert.strictEqual(s.research.phase, "backtesting")
      assert.deepStrictEqual(s.research.gates["training"], passedGate)
      assert.deepStrictEqual(s.action, {
        _tag: "NeedWorker",
        definition: phases["backtesting"]!,
        workerType: "backtest",
        since: NOW
      })
    })

    it("keeps what the training worker reported beyond the metrics (the model) for the backtest", () => {
      const model = { weights: [0.1, -0.2], features: ["rsi_14"] }
      const { job, research } = withJob("training", {
        status: "completed",
        result: { ...goodTraining, model, trainAccuracy: 0.7 }
      }, { strategy })
      const s = step(research, job)
      assert.deepStrictEqual(s.research.results["training"], {
        kind: "classification",
        ...goodTraining,
        model,
        trainAccuracy: 0.7
      })
      assert.deepStrictEqual(phases["backtesting"]!.input(s.research), {
        strategy,
        training: s.research.results["training"]
      })
    })

    it("applies the configured training thresholds", () => {
      const strict = ForemanConfig.make({ gates: { trainingMinAccuracy: 0.7 } })
      const { job, research } = withJob("training", { status: "completed", result: goodTraining }, { strategy })
      const s = step(research, job, world({ config: strict }))
      assert.strictEqual(s.research.phase, "assessing")
      assert.deepStrictEqual(s.research.gates["training"], failedGate("accuracy_below_threshold (62.0% < 70%)"))
    })

    it("records bypassed gates and carries on when the trigger bypassed them", () => {
      const training = withJob("training", { status: "completed", result: badTraining }, { strategy, bypassGates: true })
      const afterTraining = step(training.research, training.job)
      assert.strictEqual(afterTraining.research.phase, "backtesting")
      assert.deepStrictEqual(afterTraining.research.gates["training"], Gates.bypassed)
      assert.strictEqual(afterTraining.action._tag, "NeedWorker")

      const backtest = withJob("backtesting", {
        status: "completed",
        result: { ...goodBacktest, winRate: 0 }
      }, { strategy, bypassGates: true })
      const afterBacktest = step(backtest.research, backtest.job)
      assert.strictEqual(afterBacktest.research.phase, "assessing")
      assert.deepStrictEqual(afterBacktest.research.gates["backtest"], Gates.bypassed)
    })

    it("records a passing backtest gate and moves to assessment", () => {
      const { job, research } = withJob("backtesting", { status: "completed", result: goodBacktest }, {
        strategy,
        gates: { training: passedGate }
      })
      const s = step(research, job)
      assert.strictEqual(s.research.phase, "assessing")
      assert.deepStrictEqual(s.research.gates, { training: passedGate, backtest: passedGate })
      assert.deepStrictEqual(s.research.results["backtest"], { kind: "classification", ...goodBacktest })
      assert.strictEqual(s.action._tag, "RunInProcess")
      if (s.action._tag === "RunInProcess") assert.strictEqual(s.action.definition, phases["assessing"])
    })

    it("records a failing backtest gate and still moves to assessment", () => {
      const { job, research } = withJob("backtesting", {
        status: "completed",
        result: { ...goodBacktest, maxDrawdown: 0.5 }
      }, { strategy })
      const s = step(research, job)
      assert.strictEqual(s.research.phase, "assessing")
      assert.strictEqual(s.research.status, "running")
      assert.deepStrictEqual(s.research.gates["backtest"], failedGate("drawdown_above_threshold (50.0% > 40%)"))
      assert.strictEqual(s.action._tag, "RunInProcess")
    })

    it("completes the research when the assessment is done", () => {
      const { job, research } = withJob("assessing", { status: "completed", result: assessment, usage }, {
        strategy,
        costUsd: 0.02
      })
      const s = step(research, job)
      assert.strictEqual(s.research.status, "completed")
      assert.strictEqual(s.research.phase, "assessing")
      assert.strictEqual(s.research.finishedAt, NOW)
      assert.strictEqual(s.research.error, null)
      assert.strictEqual(s.research.activeJobId, null)
      assert.deepStrictEqual(s.research.results["assessment"], assessment)
      assert.strictEqual(s.research.costUsd, 0.0305)
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: null })
      assert.strictEqual(Pipeline.progressOf(Pipeline.research, s.research), 1)
    })

    it("fails the research on an invalid training result", () => {
      const { job, research } = withJob("training", { status: "completed", result: { accuracy: "high" }, usage }, {
        strategy
      })
      const s = step(research, job)
      assert.strictEqual(s.research.status, "failed")
      assert.strictEqual(s.research.phase, "training")
      assert.isTrue(s.research.error?.startsWith("invalid training result"), s.research.error ?? "no error")
      assert.strictEqual(s.research.finishedAt, NOW)
      assert.strictEqual(s.research.activeJobId, null)
      assert.strictEqual(s.research.costUsd, 0.0105)
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: null })
    })

    it("fails the research on an invalid design, backtest or assessment result", () => {
      const design = withJob("designing", { status: "completed", result: { name: "" } })
      assert.match(step(design.research, design.job).research.error ?? "", /^invalid design result/)
      const backtest = withJob("backtesting", { status: "completed", result: { ...goodBacktest, totalTrades: -1 } })
      assert.match(step(backtest.research, backtest.job).research.error ?? "", /^invalid backtest result/)
      const assess = withJob("assessing", { status: "completed", result: { verdict: "great", summary: "" } })
      assert.match(step(assess.research, assess.job).research.error ?? "", /^invalid assessment result/)
    })
  })

  describe("advance: failed, lost and cancelled jobs", () => {
    it("fails the research when its job failed", () => {
      const { job, research } = withJob("training", { status: "failed", error: "CUDA out of memory" }, { strategy })
      const s = step(research, job)
      assert.strictEqual(s.research.status, "failed")
      assert.strictEqual(s.research.error, "training job failed: CUDA out of memory")
      assert.strictEqual(s.research.finishedAt, NOW)
      assert.strictEqual(s.research.activeJobId, null)
      assert.deepStrictEqual(s.jobWrites, [])
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: null })
    })

    it("says so when a failed job gave no reason", () => {
      const { job, research } = withJob("designing", { status: "failed", error: null })
      assert.strictEqual(step(research, job).research.error, "design job failed: no reason given")
    })

    it("retries the phase after a backoff when its job was lost", () => {
      const { job, research } = withJob("training", { status: "lost", error: "lost: worker gone" }, { strategy })
      const s = step(research, job)
      assert.strictEqual(s.research.status, "running")
      assert.strictEqual(s.research.phase, "training")
      assert.strictEqual(s.research.failures, 1)
      assert.strictEqual(s.research.retryAt, NOW + 5_000)
      assert.strictEqual(s.research.activeJobId, null)
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: NOW + 5_000 })
    })

    it("doubles the backoff on the second loss", () => {
      const { job, research } = withJob("training", { status: "lost", error: "lost: worker gone" }, {
        strategy,
        failures: 1
      })
      const s = step(research, job)
      assert.strictEqual(s.research.failures, 2)
      assert.strictEqual(s.research.retryAt, NOW + 10_000)
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: NOW + 10_000 })
    })

    it("gives up after maxJobAttempts failures", () => {
      const { job, research } = withJob("training", { status: "lost", error: "lost: worker gone" }, {
        strategy,
        failures: 2
      })
      const s = step(research, job)
      assert.strictEqual(s.research.status, "failed")
      assert.strictEqual(s.research.error, "training failed 3 times, giving up: lost: worker gone")
      assert.strictEqual(s.research.finishedAt, NOW)
      assert.strictEqual(s.research.retryAt, null)
      assert.strictEqual(s.research.activeJobId, null)
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: null })
    })

    it("honours a configured maxJobAttempts", () => {
      const { job, research } = withJob("training", { status: "lost", error: null }, { strategy })
      const s = step(research, job, world({ config: ForemanConfig.make({ maxJobAttempts: 1 }) }))
      assert.strictEqual(s.research.status, "failed")
      assert.strictEqual(s.research.error, "training failed 1 times, giving up: lost")
    })

    it("cancels the research when its job was cancelled", () => {
      const { job, research } = withJob("training", { status: "cancelled" }, { strategy })
      const s = step(research, job)
      assert.strictEqual(s.research.status, "cancelled")
      assert.strictEqual(s.research.finishedAt, NOW)
      assert.strictEqual(s.research.activeJobId, null)
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: null })
    })

    it("retries the phase when the active job is missing from storage", () => {
      const research = makeResearch({ phase: "training", strategy, activeJobId: jobId })
      const s = step(research, undefined)
      assert.strictEqual(s.research.failures, 1)
      assert.strictEqual(s.research.activeJobId, null)
      assert.strictEqual(s.research.retryAt, NOW + 5_000)
      assert.strictEqual(s.notes.length, 1)
      assert.include(s.notes[0], jobId)
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: NOW + 5_000 })
    })

    it("ignores a job that is not the research's active job", () => {
      const { job, research } = withJob("training", { status: "completed", result: goodTraining }, {
        strategy,
        activeJobId: "job_other" as JobId
      })
      const s = step(research, job)
      assert.strictEqual(s.research.phase, "training")
      assert.strictEqual(s.research.failures, 1)
      assert.strictEqual(s.research.results["training"], undefined)
    })
  })

  describe("advance: running jobs", () => {
    it("marks an in-process job of an older coordinator epoch failed and runs the phase again", () => {
      const { job, research } = withJob("designing", { status: "running", epoch: EPOCH - 1 })
      const s = step(research, job)
      assert.strictEqual(s.jobWrites.length, 1)
      const write = s.jobWrites[0]!
      assert.strictEqual(write.expected, "running")
      assert.strictEqual(write.job.id, jobId)
      assert.strictEqual(write.job.status, "failed")
      assert.isTrue(write.job.error?.startsWith(`orphaned: coordinator epoch ${EPOCH - 1}`), write.job.error ?? "")
      assert.strictEqual(write.job.updatedAt, NOW)
      assert.strictEqual(write.job.finishedAt, NOW)
      assert.strictEqual(s.research.activeJobId, null)
      assert.strictEqual(s.research.failures, 0)
      assert.strictEqual(s.research.status, "running")
      assert.strictEqual(s.notes.length, 1)
      assert.strictEqual(s.action._tag, "RunInProcess")
      if (s.action._tag === "RunInProcess") assert.strictEqual(s.action.definition, phases["designing"])
    })

    it("orphans a pending in-process assessment job too", () => {
      const { job, research } = withJob("assessing", { status: "pending", epoch: 0 }, { strategy })
      const s = step(research, job)
      assert.strictEqual(s.jobWrites[0]?.expected, "pending")
      assert.strictEqual(s.jobWrites[0]?.job.status, "failed")
      assert.strictEqual(s.action._tag, "RunInProcess")
    })

    it("leaves an in-process job of the current epoch alone", () => {
      const { job, research } = withJob("designing", { status: "running", epoch: EPOCH })
      const s = step(research, job)
      assert.strictEqual(s.research, research)
      assert.deepStrictEqual(s.jobWrites, [])
      assert.deepStrictEqual(s.notes, [])
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: null })
    })

    it("leaves a worker job on a live worker alone", () => {
      const { job, research } = withJob("training", { status: "running", epoch: EPOCH - 1 }, { strategy })
      const s = step(research, job, world({ workers: workersOf(makeWorker()) }))
      assert.strictEqual(s.research, research)
      assert.deepStrictEqual(s.jobWrites, [])
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: null })
    })

    it("redispatches a pending worker job of an older epoch", () => {
      const { job, research } = withJob("training", { status: "pending", epoch: EPOCH - 1 }, { strategy })
      const s = step(research, job, world({ workers: workersOf(makeWorker()) }))
      assert.strictEqual(s.research, research)
      assert.deepStrictEqual(s.jobWrites, [])
      assert.strictEqual(s.action._tag, "Redispatch")
      if (s.action._tag === "Redispatch") assert.strictEqual(s.action.job, job)
    })

    it("waits for a pending worker job of the current epoch", () => {
      const { job, research } = withJob("training", { status: "pending", epoch: EPOCH }, { strategy })
      const s = step(research, job, world({ workers: workersOf(makeWorker()) }))
      // It comes due when it would be dispatched again.
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: job.updatedAt + config.orphanGraceSeconds * 1000 })
    })

    it("comes due for a pull worker's assignment when it goes back to the queue unpicked", () => {
      const { job, research } = withJob("training", { status: "pending", epoch: EPOCH, updatedAt: NOW - 1_000 }, { strategy })
      const puller = makeWorker({ protocol: "pull" })
      const s = step(research, job, world({ workers: workersOf(puller) }))
      assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: job.updatedAt + config.assignmentAckSeconds * 1000 })
      assert.strictEqual(step(research, job, world({ now: job.updatedAt + config.assignmentAckSeconds * 1000, workers: workersOf(puller) })).research.activeJobId, null)
    })

    it("has nothing due for a running job on an online worker: the worker goes offline first", () => {
      const { job, research } = withJob("training", { status: "running" }, { strategy })
      assert.deepStrictEqual(step(research, job, world({ workers: workersOf(makeWorker()) })).action, { _tag: "None", wakeAt: null })
    })

    it("dispatches again a pending job of the current epoch whose dispatch was never recorded, once per grace", () => {
      const { job, research } = withJob("training", { status: "pending", epoch: EPOCH }, { strategy })
      const later = world({ workers: workersOf(makeWorker()) })
      const at = job.updatedAt + config.orphanGraceSeconds * 1000
      const s = step(research, job, { ...later, now: at })
      assert.strictEqual(s.action._tag, "Redispatch")
      if (s.action._tag === "Redispatch") assert.deepStrictEqual(s.action.job, { ...job, updatedAt: at })
      assert.deepStrictEqual(s.jobWrites, [{ job: { ...job, updatedAt: at }, expected: "pending" }])
      const soon = step(research, job, { ...later, now: at - 1 })
      assert.deepStrictEqual(soon.action, { _tag: "None", wakeAt: at })
    })

    describe("on a worker that went offline", () => {
      const grace = config.orphanGraceSeconds * 1000
      const silentFor = (config.workerOfflineAfterSeconds + config.orphanGraceSeconds) * 1000
      const offline = makeWorker({ status: "offline", lastHeartbeatAt: NOW - silentFor })
      const running = withJob("training", { status: "running" }, { strategy })

      it("marks the job lost and retries the phase after a backoff", () => {
        const s = step(running.research, running.job, world({ hearingSince: NOW - grace, workers: workersOf(offline) }))
        assert.strictEqual(s.jobWrites.length, 1)
        const write = s.jobWrites[0]!
        assert.strictEqual(write.expected, "running")
        assert.strictEqual(write.job.status, "lost")
        assert.strictEqual(write.job.error, "lost: worker trainer-1 stopped answering while running it")
        assert.strictEqual(write.job.finishedAt, NOW)
        assert.strictEqual(s.research.status, "running")
        assert.strictEqual(s.research.failures, 1)
        assert.strictEqual(s.research.retryAt, NOW + 5_000)
        assert.strictEqual(s.research.activeJobId, null)
        assert.strictEqual(s.notes.length, 1)
        assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: NOW + 5_000 })
      })

      it("fails the research when that was the last attempt", () => {
        const last = withJob("training", { status: "running" }, { strategy, failures: 2 })
        const s = step(last.research, last.job, world({ workers: workersOf(offline) }))
        assert.strictEqual(s.jobWrites[0]?.job.status, "lost")
        assert.strictEqual(s.research.status, "failed")
        assert.strictEqual(
          s.research.error,
          "training failed 3 times, giving up: lost: worker trainer-1 stopped answering while running it"
        )
      })

      it("marks a pending job lost before redispatching it", () => {
        const pending = withJob("training", { status: "pending", epoch: EPOCH - 1 }, { strategy })
        const s = step(pending.research, pending.job, world({ workers: workersOf(offline) }))
        assert.strictEqual(s.jobWrites[0]?.expected, "pending")
        assert.strictEqual(s.jobWrites[0]?.job.status, "lost")
        assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: NOW + 5_000 })
      })

      it("waits while the worker has been silent for less than offline time plus grace", () => {
        const recent = makeWorker({ status: "offline", lastHeartbeatAt: NOW - silentFor + 1 })
        const s = step(running.research, running.job, world({ workers: workersOf(recent) }))
        assert.strictEqual(s.research, running.research)
        assert.deepStrictEqual(s.jobWrites, [])
        assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: NOW + 1 })
      })

      it("waits while workers could be heard for less than the grace period", () => {
        const s = step(running.research, running.job, world({ hearingSince: NOW - grace + 1, workers: workersOf(offline) }))
        assert.strictEqual(s.research, running.research)
        assert.deepStrictEqual(s.jobWrites, [])
        assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: NOW + 1 })
      })

      it("still takes the deprecated startedAt for hearingSince", () => {
        const { hearingSince: _, ...rest } = world({ workers: workersOf(offline) })
        const early = Pipeline.advance(Pipeline.research, running.research, running.job, { ...rest, startedAt: NOW - grace + 1 })
        assert.deepStrictEqual(early.jobWrites, [])
        const late = Pipeline.advance(Pipeline.research, running.research, running.job, { ...rest, startedAt: NOW - grace })
        assert.strictEqual(late.jobWrites[0]?.job.status, "lost")
      })

      it("does not declare a silent worker gone until the registry marks it offline", () => {
        const silent = makeWorker({ status: "busy", lastHeartbeatAt: NOW - silentFor * 10 })
        const s = step(running.research, running.job, world({ workers: workersOf(silent) }))
        assert.deepStrictEqual(s.jobWrites, [])
        assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: null })
      })
    })

    describe("on a worker that vanished from the registry", () => {
      const grace = config.orphanGraceSeconds * 1000

      it("marks the job lost once it has not been updated for the grace period", () => {
        const { job, research } = withJob("training", { status: "running", updatedAt: NOW - grace }, { strategy })
        const s = step(research, job)
        assert.strictEqual(s.jobWrites[0]?.job.status, "lost")
        assert.strictEqual(s.research.failures, 1)
      })

      it("waits while the job was updated within the grace period", () => {
        const { job, research } = withJob("training", { status: "running", updatedAt: NOW - grace + 1 }, { strategy })
        const s = step(research, job)
        assert.strictEqual(s.research, research)
        assert.deepStrictEqual(s.jobWrites, [])
        assert.deepStrictEqual(s.action, { _tag: "None", wakeAt: NOW + 1 })
      })
    })
  })

  describe("advance is pure", () => {
    const cases = (): ReadonlyArray<readonly [Research, Job | undefined, Pipeline.World]> => {
      const design = withJob("designing", { status: "completed", result: strategy, usage })
      const orphan = withJob("designing", { status: "running", epoch: EPOCH - 1 })
      const lost = withJob("training", { status: "running" }, { strategy })
      const offline = makeWorker({ status: "offline", lastHeartbeatAt: 0 })
      return [
        [makeResearch(), undefined, world()],
        [design.research, design.job, world()],
        [orphan.research, orphan.job, world()],
        [lost.research, lost.job, world({ workers: workersOf(offline) })]
      ]
    }

    it("gives equal steps for equal inputs", () => {
      const first = cases().map(([r, j, w]) => step(r, j, w))
      const second = cases().map(([r, j, w]) => step(r, j, w))
      assert.deepStrictEqual(first, second)
    })

    it("gives the same step when called twice with the same objects", () => {
      for (const [r, j, w] of cases()) assert.deepStrictEqual(step(r, j, w), step(r, j, w))
    })

    it("does not modify its inputs", () => {
      for (const [r, j, w] of cases()) {
        const before = structuredClone({ r, j, workers: [...w.workers.values()] })
        step(r, j, w)
        assert.deepStrictEqual({ r, j, workers: [...w.workers.values()] }, before)
      }
    })

    it("returns the same research object when nothing changes", () => {
      const waiting = makeResearch({ phase: "training", strategy, waitingFor: { workerType: "training", since: 1 } })
      assert.strictEqual(step(waiting, undefined).research, waiting)
      const running = withJob("training", { status: "running" }, { strategy })
      assert.strictEqual(step(running.research, running.job, world({ workers: workersOf(makeWorker()) })).research, running.research)
    })
  })
})
