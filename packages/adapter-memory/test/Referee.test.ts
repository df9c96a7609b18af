/** The simulation's referee must catch what it claims to check. */
import { assert, describe, it } from "@effect/vitest"
import type { CoordinatorEvents, Domain } from "@foreman/core"
import { Referee } from "../src/internal/invariants.js"

const id = (s: string) => s as Domain.ResearchId
const triggered = (r: string, activeBefore: number, limit: number, forced = false): CoordinatorEvents.CoordinatorEvent => ({
  _tag: "Triggered",
  at: 0,
  researchId: id(r),
  forced,
  activeBefore,
  limit,
  remainingUsd: 5
})
const waiting = (r: string, since: number): CoordinatorEvents.CoordinatorEvent => ({
  _tag: "Transition",
  at: since,
  researchId: id(r),
  phase: "training",
  status: "running",
  waitingFor: { workerType: "training", since },
  error: null
})
const started = (r: string, queuedSince: number): CoordinatorEvents.CoordinatorEvent => ({
  _tag: "JobStarted",
  at: 100,
  researchId: id(r),
  jobId: `job_${r}` as Domain.JobId,
  kind: "training",
  workerType: "training",
  workerId: "w-1" as Domain.WorkerId,
  attempt: 1,
  queuedSince
})
const worker = (jobs: Array<string>, capacity = 1): Domain.Worker => ({
  id: "w-1" as Domain.WorkerId,
  type: "training",
  endpoint: "memory://w-1",
  status: jobs.length >= capacity ? "busy" : "available",
  capacity,
  currentJobs: jobs as Array<Domain.JobId>,
  capabilities: {},
  registeredAt: 0,
  lastHeartbeatAt: 0
})

describe("Referee", () => {
  it("accepts a fair history", () => {
    const referee = new Referee()
    referee.observe([triggered("op_a", 0, 3), triggered("op_b", 1, 3), waiting("op_a", 10), waiting("op_b", 20)])
    referee.observe([started("op_a", 10)])
    referee.checkWorkers([worker(["job_op_a"])], 100)
    assert.deepStrictEqual(referee.violations, [])
  })

  it("catches a queue jumper", () => {
    const referee = new Referee()
    referee.observe([triggered("op_a", 0, 3), triggered("op_b", 1, 3), waiting("op_a", 10), waiting("op_b", 20)])
    referee.observe([started("op_b", 20)])
    assert.match(referee.violations[0]!, /op_a .* was passed over by op_b/)
  })

  it("catches an idle worker while a research waits, and overbooking", () => {
    const referee = new Referee()
    referee.observe([triggered("op_a", 0, 3), waiting("op_a", 10)])
    referee.checkWorkers([worker([])], 50)
    referee.checkWorkers([worker(["job_1", "job_2"])], 60)
    assert.strictEqual(referee.violations.length, 2)
    assert.match(referee.violations[0]!, /waits for training while one is free/)
    assert.match(referee.violations[1]!, /beyond its capacity/)
  })

  it("catches an unforced trigger over the limit, but not a forced one", () => {
    const referee = new Referee()
    referee.observe([triggered("op_a", 0, 1), triggered("op_b", 1, 1, true), triggered("op_c", 2, 1)])
    assert.deepStrictEqual(referee.violations, ["op_c accepted with 2 active, limit 1"])
  })

  it("catches a research leaving a terminal state and a stuck one", () => {
    const referee = new Referee()
    const end = (status: Domain.ResearchStatus): CoordinatorEvents.CoordinatorEvent => ({
      _tag: "Transition",
      at: 5,
      researchId: id("op_a"),
      phase: "training",
      status,
      waitingFor: null,
      error: null
    })
    referee.observe([triggered("op_a", 0, 3), end("completed"), end("running")])
    assert.match(referee.violations[0]!, /left terminal status completed/)
    const before = referee.traceHash
    referee.observe([triggered("op_b", 0, 3)])
    assert.notStrictEqual(referee.traceHash, before)
  })

  it("counts changes to who waits, and only those (the driver skips an unchanged worker check)", () => {
    const referee = new Referee()
    referee.observe([triggered("op_a", 0, 3)])
    const before = referee.waitingChanges
    referee.observe([waiting("op_a", 10)])
    const queued = referee.waitingChanges
    assert.isAbove(queued, before)
    referee.observe([started("op_a", 10)])
    const served = referee.waitingChanges
    assert.isAbove(served, queued)
    referee.observe([started("op_a", 10)])
    assert.strictEqual(referee.waitingChanges, served)
  })
})
