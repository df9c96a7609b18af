/**
 * A tick's plan made concrete from plain data: designs named after the
 * catalogue, each action's change and the job it starts, the transitions
 * written, slots handed back for changes not written, and what observers are told.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fixtures from "@foreman/adapter-memory/TestEngine"
import type { JobId, Research, WorkerType } from "../../src/Domain.js"
import * as TickChanges from "../../src/internal/tickChanges.js"
import * as Pipeline from "../../src/Pipeline.js"
import * as Researches from "../../src/Researches.js"
import { TickAction } from "../../src/TickPlan.js"

const NOW = 1_000_000
const EPOCH = 7
const strategy = (name: string) => ({ name, spec: { indicator: "rsi" } })
const designing = fixtures.research("op_1", { status: "running", version: 3 })
const training = fixtures.research("op_2", {
  status: "running",
  phase: "training",
  strategy: strategy("rsi"),
  results: { design: strategy("rsi") },
  version: 5
})
const worker = fixtures.worker("w-1")
const definition = (phase: string) => {
  const found = Pipeline.research.phases[phase]
  if (found === undefined) throw new Error(`no phase ${phase}`)
  return found
}
const noGrants: TickChanges.Grants = { epoch: EPOCH, now: NOW, granted: new Map() }

/** A design recorded: the research leaves designing with `name` as its strategy. */
const designed = (id: string, name: string) => {
  const before = fixtures.research(id, { status: "running" })
  return TickAction.Commit({ before, after: { ...before, phase: "training", strategy: strategy(name) }, writes: [] })
}

const nameOf = (action: TickAction): string | undefined =>
  action._tag === "Commit" ? action.after.strategy?.name : undefined

describe("nameDesigns", () => {
  it("keeps a free name and leaves actions without a design alone", () => {
    const plain = TickAction.Commit({ before: training, after: training, writes: [] })
    const actions = [designed("op_1", "rsi"), plain]
    const named = TickChanges.nameDesigns(actions, () => [])
    assert.strictEqual(named[0], actions[0])
    assert.strictEqual(named[1], plain)
  })

  it("adds a suffix when the catalogue holds the name", () => {
    const named = TickChanges.nameDesigns([designed("op_1", "rsi")], (name) => name === "rsi" ? ["rsi", "rsi_2"] : [])
    assert.strictEqual(nameOf(named[0]!), "rsi_3")
  })

  it("gives two designs of one tick different names", () => {
    const named = TickChanges.nameDesigns([designed("op_1", "rsi"), designed("op_2", "rsi")], () => [])
    assert.deepStrictEqual(named.map(nameOf), ["rsi", "rsi_2"])
  })

  it("reads each design name once", () => {
    assert.deepStrictEqual(
      TickChanges.designNames([designed("op_1", "rsi"), designed("op_2", "rsi"), designed("op_3", "macd")]),
      ["rsi", "macd"]
    )
  })
})

describe("inProcess and toChange", () => {
  it("writes a commit as planned, launching nothing", () => {
    const after = { ...training, status: "failed" } as Research
    const change = TickChanges.toChange(noGrants, TickAction.Commit({ before: training, after, writes: [] }))
    assert.deepStrictEqual(change, { before: training, after, writes: [], launch: null, design: null })
  })

  it("starts an in-process job with the id drawn, forked with the research as it will be", () => {
    const action = TickAction.RunInProcess({
      before: designing,
      research: designing,
      writes: [],
      definition: definition("designing")
    })
    const change = TickChanges.inProcess(noGrants, action, "job_a" as JobId)
    assert.strictEqual(change.launch?._tag, "Fork")
    if (change.launch?._tag !== "Fork") return
    assert.strictEqual(change.launch.job.id, "job_a")
    assert.strictEqual(change.launch.job.epoch, EPOCH)
    assert.strictEqual(change.launch.job.status, "running")
    assert.strictEqual(change.launch.research.activeJobId, "job_a")
    assert.strictEqual(change.after.activeJobId, "job_a")
    assert.deepStrictEqual(change.writes, [{ job: change.launch.job, expected: null }])
  })

  const claim = (slot: number) =>
    TickAction.ClaimWorker({
      before: training,
      research: training,
      waiting: { ...training, waitingFor: { workerType: "training", since: NOW - 5_000 } },
      writes: [],
      definition: definition("training"),
      workerType: "training",
      since: NOW - 5_000,
      slot
    })

  it("starts a worker job on the slot granted, queued since the research started waiting", () => {
    const granted = new Map<WorkerType, ReadonlyArray<TickChanges.Slot>>([
      ["training", [{ jobId: "job_b" as JobId, worker }]]
    ])
    const change = TickChanges.toChange({ ...noGrants, granted }, claim(0))
    assert.strictEqual(change.launch?._tag, "Dispatch")
    if (change.launch?._tag !== "Dispatch") return
    assert.strictEqual(change.launch.worker, worker)
    assert.strictEqual(change.launch.job.status, "pending")
    assert.strictEqual(change.launch.job.workerId, worker.id)
    assert.strictEqual(change.launch.job.queuedSince, NOW - 5_000)
  })

  it("keeps the research waiting when its slot was not granted", () => {
    const change = TickChanges.toChange(noGrants, claim(1))
    assert.isNull(change.launch)
    assert.deepStrictEqual(change.after.waitingFor, { workerType: "training", since: NOW - 5_000 })
  })

  it("writes a claim before its slot is known: the job for the store's worker, or the research kept waiting", () => {
    const t = TickChanges.slotted(noGrants, claim(0), "job_c" as JobId)
    assert.deepInclude(t, { workerType: "training", slot: 0 })
    const [write] = t.claimed.jobs
    assert.deepStrictEqual(
      [write?.job.id, write?.job.workerType, write?.job.workerId, write?.job.status, write?.expected],
      ["job_c" as JobId, "training", null, "pending", null]
    )
    assert.strictEqual(t.claimed.research.activeJobId, "job_c")
    // The store gives the job the granted worker: then it is the change `toChange` makes with that slot.
    const granted = new Map<WorkerType, ReadonlyArray<TickChanges.Slot>>([["training", [{ jobId: "job_c" as JobId, worker }]]])
    const change = TickChanges.toChange({ ...noGrants, granted }, claim(0))
    assert.deepStrictEqual(
      Researches.withWorker(t.claimed, "job_c" as JobId, worker.id),
      TickChanges.transitionOf(change, EPOCH, NOW)
    )
    assert.deepStrictEqual(t.otherwise?.research.waitingFor, { workerType: "training", since: NOW - 5_000 })
    const { waiting } = claim(0)
    const alreadyWaiting = TickAction.ClaimWorker({ ...claim(0), before: waiting, waiting })
    assert.isNull(TickChanges.slotted(noGrants, alreadyWaiting, "job_d" as JobId).otherwise, "nothing to write without a slot")
  })

  it("carries the design a transition records", () => {
    const change = TickChanges.toChange(noGrants, designed("op_1", "rsi"))
    assert.deepStrictEqual(change.design, strategy("rsi"))
  })
})

describe("writing changes", () => {
  const unchanged: TickChanges.Change = { before: training, after: training, writes: [], launch: null, design: null }

  it("leaves out changes that write nothing", () => {
    assert.isFalse(TickChanges.changes(unchanged))
    assert.isTrue(TickChanges.changes({ ...unchanged, after: { ...training } }))
  })

  it("writes the next version, conditional on the version read and the epoch", () => {
    const t = TickChanges.transitionOf({ ...unchanged, after: { ...training, phase: "backtest" } }, EPOCH, NOW)
    assert.deepInclude(t, { expectedVersion: 5, epoch: EPOCH, design: undefined })
    assert.strictEqual(t.research.version, 6)
    assert.strictEqual(t.research.updatedAt, NOW)
  })

  it("hands back the slot of a dispatch whose change was not written", () => {
    const job = fixtures.job("job_c", "op_2", { status: "pending" })
    const change = { ...unchanged, launch: { _tag: "Dispatch", worker, job } } as const
    assert.deepStrictEqual(TickChanges.unwrittenSlot(change, false), { worker, jobId: job.id })
    assert.isNull(TickChanges.unwrittenSlot(change, true))
    assert.isNull(TickChanges.unwrittenSlot(unchanged, false))
  })
})

describe("what observers are told", () => {
  it("announces a change of phase, status or awaited worker type, and nothing else", () => {
    assert.isNull(TickChanges.transitionEvent(NOW, training, { ...training, progress: 1 } as Research))
    const waiting = { ...training, waitingFor: { workerType: "training", since: NOW } }
    assert.deepStrictEqual(TickChanges.transitionEvent(NOW, training, waiting), {
      _tag: "Transition",
      at: NOW,
      researchId: training.id,
      phase: "training",
      status: "running",
      waitingFor: { workerType: "training", since: NOW },
      error: null
    })
  })

  it("counts a research finished once, when its status becomes terminal", () => {
    const failed = { ...training, status: "failed" } as Research
    assert.isTrue(TickChanges.finished(training, failed))
    assert.isFalse(TickChanges.finished(failed, failed))
    assert.isFalse(TickChanges.finished(designing, training))
  })

  it("tells a job started with its place in the queue, or now", () => {
    const job = fixtures.job("job_d", "op_2")
    assert.deepInclude(TickChanges.jobStartedEvent(job, NOW), { _tag: "JobStarted", jobId: job.id, queuedSince: NOW })
    assert.strictEqual(TickChanges.jobStartedEvent({ ...job, queuedSince: 5 }, NOW).queuedSince, 5)
  })
})
