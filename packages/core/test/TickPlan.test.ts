/**
 * The coordinator's tick plan, decided from plain snapshots with no service:
 * first come first served, no slot handed twice, idle researches left out,
 * orphans and lost jobs settled with the transition that retries their phase.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fixtures from "@foreman/adapter-memory/TestEngine"
import type { Job, JobId, Research, Worker, WorkerId, WorkerType } from "../src/Domain.js"
import * as ForemanConfig from "../src/ForemanConfig.js"
import * as Pipeline from "../src/Pipeline.js"
import type { ActiveEntry } from "../src/Researches.js"
import * as TickPlan from "../src/TickPlan.js"

const NOW = 10_000_000
const EPOCH = 3
const config = ForemanConfig.make()
const strategy = { name: "rsi_momentum", spec: { indicator: "rsi", period: 14 } }

/** A research in the training phase with its design done, waiting for nothing yet. */
const research = (id: string, overrides: Partial<Research> = {}): Research =>
  fixtures.research(id, {
    phase: "training",
    status: "running",
    strategy,
    results: { design: strategy },
    createdAt: NOW - 60_000,
    updatedAt: NOW - 60_000,
    version: 1,
    ...overrides
  })

const waiting = (id: string, since: number, overrides: Partial<Research> = {}): Research =>
  research(id, { waitingFor: { workerType: "training", since }, ...overrides })

/** A training job running on worker `w-1`, started by this coordinator. */
const job = (id: string, researchId: string, overrides: Partial<Job> = {}): Job =>
  fixtures.job(id, researchId, { input: null, epoch: EPOCH, createdAt: NOW - 10_000, updatedAt: NOW - 10_000, ...overrides })

/** A live, empty training worker with one slot. */
const worker = (id: string, overrides: Partial<Worker> = {}): Worker =>
  fixtures.worker(id, { capabilities: {}, registeredAt: 0, lastHeartbeatAt: NOW - 1_000, ...overrides })

/** When a worker last heard at `heardAt` is due to go offline: a millisecond past the limit. */
const expiry = (heardAt: number) => heardAt + config.workerOfflineAfterSeconds * 1000 + 1

const idle = (r: Research): ActiveEntry => ({ research: r, job: null })
const running = (r: Research, j: Job): ActiveEntry => ({ research: { ...r, activeJobId: j.id }, job: j })

const plan = (active: ReadonlyArray<ActiveEntry>, workers: ReadonlyArray<Worker> = []) =>
  TickPlan.make({
    pipeline: Pipeline.research,
    config,
    now: NOW,
    epoch: EPOCH,
    hearingSince: NOW - 3_600_000,
    active,
    workers
  })

/** Each action as `[tag, research id]`, and `slot` for claims. */
const summary = (p: TickPlan.TickPlan) =>
  p.actions.map((a): ReadonlyArray<unknown> =>
    a._tag === "ClaimWorker" ? [a._tag, a.before.id, a.slot] : [a._tag, a.before.id]
  )

const claimsOf = (p: TickPlan.TickPlan, type: WorkerType) =>
  p.actions.flatMap((a) => a._tag === "ClaimWorker" && a.workerType === type ? [a] : [])

describe("TickPlan", () => {
  it("hands free slots to the researches waiting longest, whatever the order read", () => {
    const p = plan(
      [idle(waiting("op_a", NOW - 1_000)), idle(waiting("op_b", NOW - 3_000)), idle(waiting("op_c", NOW - 2_000))],
      [worker("w-1"), worker("w-2")]
    )
    assert.deepStrictEqual(p.claims, [{ workerType: "training", count: 2 }])
    assert.deepStrictEqual(summary(p), [["ClaimWorker", "op_b", 0], ["ClaimWorker", "op_c", 1]])
    assert.deepStrictEqual(p.notes, [])
    // The jobs it starts are pending until their workers take them: dispatched again after the grace.
    assert.strictEqual(p.wakeAt, NOW + config.orphanGraceSeconds * 1000)
  })

  it("breaks a tie in waiting time by the research's age", () => {
    const p = plan(
      [
        idle(waiting("op_young", NOW - 5_000, { createdAt: NOW - 20_000 })),
        idle(waiting("op_old", NOW - 5_000, { createdAt: NOW - 50_000 }))
      ],
      [worker("w-1")]
    )
    assert.deepStrictEqual(summary(p), [["ClaimWorker", "op_old", 0]])
  })

  it("claims no more slots than are free, each slot once, one batch per type in queue order", () => {
    const workers = [
      worker("w-big", { capacity: 3, currentJobs: ["job_x" as JobId] }),
      worker("w-full", { currentJobs: ["job_y" as JobId], status: "busy" }),
      worker("w-off", { status: "offline" }),
      worker("w-drain", { status: "draining" }),
      worker("w-sick", { status: "error" }),
      worker("b-1", { type: "backtest" })
    ]
    const backtest = (id: string, since: number) =>
      research(id, { phase: "backtesting", waitingFor: { workerType: "backtest", since } })
    const p = plan(
      [
        ...[1, 2, 3, 4, 5].map((i) => idle(waiting(`op_t${i}`, NOW - 10_000 + i))),
        idle(backtest("op_b1", NOW - 20_000)),
        idle(backtest("op_b2", NOW - 1_000))
      ],
      workers
    )
    assert.deepStrictEqual(p.claims, [{ workerType: "backtest", count: 1 }, { workerType: "training", count: 2 }])
    assert.deepStrictEqual(claimsOf(p, "training").map((a) => [a.before.id, a.slot]), [["op_t1", 0], ["op_t2", 1]])
    assert.deepStrictEqual(claimsOf(p, "backtest").map((a) => [a.before.id, a.slot]), [["op_b1", 0]])
  })

  it("in a long queue, hands the free slots in queue order, ties kept as read, and starts the newcomers waiting", () => {
    const p = plan(
      [
        idle(research("op_new")),
        idle(waiting("op_w1", NOW - 5_000, { createdAt: NOW - 10_000 })),
        idle(waiting("op_w2", NOW - 5_000, { createdAt: NOW - 10_000 })),
        ...Array.from({ length: 100 }, (_, i) => idle(waiting(`op_later${i}`, NOW - 1_000 + i))),
        idle(waiting("op_w3", NOW - 9_000)),
        idle(waiting("op_w4", NOW - 5_000, { createdAt: NOW - 20_000 }))
      ],
      [worker("w-1", { capacity: 3 })]
    )
    assert.deepStrictEqual(p.claims, [{ workerType: "training", count: 3 }])
    assert.deepStrictEqual(summary(p), [
      ["ClaimWorker", "op_w3", 0],
      ["ClaimWorker", "op_w4", 1],
      ["ClaimWorker", "op_w1", 2],
      ["Commit", "op_new"]
    ])
    const started = p.actions[3]
    assert.deepStrictEqual(started?._tag === "Commit" && started.after.waitingFor, { workerType: "training", since: NOW })
    // No slot free: nobody waiting changes, only the newcomer starts waiting.
    const full = plan(
      [idle(research("op_new")), idle(waiting("op_w1", NOW - 5_000)), idle(waiting("op_w2", NOW - 4_000))],
      [worker("w-1", { status: "busy", currentJobs: ["job_x" as JobId] })]
    )
    assert.deepStrictEqual(summary(full), [["Commit", "op_new"]])
  })

  it("leaves out the researches with nothing to do", () => {
    const design = job("job_d", "op_design", { kind: "design", phase: "designing", workerType: null, workerId: null })
    const p = plan(
      [
        running(research("op_train"), job("job_t", "op_train")),
        running(research("op_design", { phase: "designing", strategy: null, results: {} }), design),
        idle(waiting("op_wait", NOW - 1_000))
      ],
      [worker("w-1", { status: "busy", currentJobs: ["job_t" as JobId] })]
    )
    assert.deepStrictEqual(p, { notes: [], claims: [], actions: [], wakeAt: null, expireAt: expiry(NOW - 1_000), unpicked: [] })
  })

  it("a research needing a worker when none is free starts waiting from now", () => {
    const before = research("op_new", { status: "pending" })
    const p = plan([idle(before)], [worker("w-1", { status: "busy", currentJobs: ["job_x" as JobId] })])
    assert.deepStrictEqual(p.claims, [])
    const [action] = p.actions
    assert.strictEqual(action?._tag, "Commit")
    if (action?._tag !== "Commit") return
    assert.strictEqual(action.before, before)
    assert.deepStrictEqual(action.after, { ...before, waitingFor: { workerType: "training", since: NOW } })
    assert.deepStrictEqual(action.writes, [])
  })

  it("a claim says what to write when no worker comes, keeping a waiting research's place", () => {
    const queued = waiting("op_q", NOW - 7_000)
    const fresh = research("op_f", { status: "pending" })
    const p = plan([idle(queued), idle(fresh)], [worker("w-1"), worker("w-2")])
    const [first, second] = claimsOf(p, "training")
    assert.strictEqual(first?.waiting, queued, "already waiting: unchanged")
    assert.deepStrictEqual(second?.waiting.waitingFor, { workerType: "training", since: NOW })
    assert.deepStrictEqual([first?.since, second?.since], [NOW - 7_000, NOW])
  })

  it("fails an in-process job orphaned by an earlier epoch and restarts its phase in the same transition", () => {
    const orphan = job("job_o", "op_o", {
      kind: "design",
      phase: "designing",
      workerType: null,
      workerId: null,
      epoch: EPOCH - 1
    })
    const p = plan([running(research("op_o", { phase: "designing", strategy: null, results: {} }), orphan)])
    assert.deepStrictEqual(summary(p), [["RunInProcess", "op_o"]])
    const [action] = p.actions
    if (action?._tag !== "RunInProcess") return assert.fail("expected RunInProcess")
    assert.strictEqual(action.definition.kind, "design")
    assert.isNull(action.research.activeJobId)
    assert.deepStrictEqual(
      action.writes.map((w): ReadonlyArray<unknown> => [w.job.id, w.job.status, w.expected]),
      [["job_o", "failed", "running"]]
    )
    assert.match(action.writes[0]!.job.error ?? "", /orphaned: coordinator epoch 2 stopped/)
    assert.strictEqual(p.notes.length, 1)
    assert.match(p.notes[0]!, /op_o: job_o orphaned/)
  })

  it("declares lost a job whose worker vanished past the grace, and retries after a backoff", () => {
    const gone = job("job_l", "op_l", { workerId: "w-gone" as WorkerId, updatedAt: NOW - 3_600_000 })
    const p = plan([running(research("op_l"), gone)])
    const [action] = p.actions
    if (action?._tag !== "Commit") return assert.fail("expected Commit")
    assert.deepStrictEqual(action.writes.map((w) => [w.job.id, w.job.status]), [["job_l", "lost"]])
    assert.strictEqual(action.after.failures, 1)
    assert.isNotNull(action.after.retryAt)
    assert.strictEqual(p.wakeAt, action.after.retryAt)
  })

  it("puts every other action first, in the order read, then the queue", () => {
    const failed = job("job_f", "op_fail", { status: "failed", error: "boom" })
    const p = plan(
      [
        idle(waiting("op_queue", NOW - 90_000)),
        running(research("op_fail"), failed),
        idle(research("op_design", { phase: "designing", strategy: null, results: {} }))
      ],
      [worker("w-1")]
    )
    assert.deepStrictEqual(summary(p), [
      ["Commit", "op_fail"],
      ["RunInProcess", "op_design"],
      ["ClaimWorker", "op_queue", 0]
    ])
    const [commit] = p.actions
    if (commit?._tag !== "Commit") return assert.fail("expected Commit")
    assert.strictEqual(commit.after.status, "failed")
  })

  it("sends a pending job of an earlier epoch to its worker again, when the worker is known", () => {
    const pending = job("job_p", "op_p", { status: "pending", epoch: EPOCH - 1 })
    const known = worker("w-1", { status: "busy", currentJobs: ["job_p" as JobId] })
    const p = plan([running(research("op_p"), pending)], [known])
    const [action] = p.actions
    if (action?._tag !== "Redispatch") return assert.fail("expected Redispatch")
    assert.strictEqual(action.job, pending)
    assert.strictEqual(action.worker, known)
    const unknown = plan([running(research("op_p"), { ...pending, updatedAt: NOW })])
    assert.deepStrictEqual(unknown.actions, [], "no worker to send it to, nothing changed yet")
  })

  it("wakes at the earliest end of a retry backoff, writing nothing", () => {
    const p = plan([
      idle(research("op_later", { failures: 1, retryAt: NOW + 5_000 })),
      idle(research("op_sooner", { failures: 1, retryAt: NOW + 2_000 })),
      idle(research("op_latest", { failures: 2, retryAt: NOW + 9_000 }))
    ], [worker("w-1")])
    assert.deepStrictEqual(p, { notes: [], claims: [], actions: [], wakeAt: NOW + 2_000, expireAt: expiry(NOW - 1_000), unpicked: [] })
  })

  it("wakes when a job it leaves alone comes due, and for the jobs it starts on pull workers when unpicked", () => {
    const pending = job("job_p", "op_p", { status: "pending", updatedAt: NOW - 1_000 })
    const p = plan([running(research("op_p"), pending)], [worker("w-1", { status: "busy", currentJobs: ["job_p" as JobId] })])
    assert.deepStrictEqual(p.actions, [])
    assert.strictEqual(p.wakeAt, NOW - 1_000 + config.orphanGraceSeconds * 1000)
    const pulled = plan([idle(waiting("op_w", NOW - 1_000))], [worker("w-2", { protocol: "pull", pollingUntil: NOW + 20_000 })])
    assert.deepStrictEqual(summary(pulled), [["ClaimWorker", "op_w", 0]])
    assert.strictEqual(pulled.wakeAt, NOW + config.assignmentAckSeconds * 1000)
  })

  it("says when the next worker is due to go offline or be removed for its silence", () => {
    const p = plan([], [
      worker("w-1", { lastHeartbeatAt: NOW - 5_000 }),
      worker("w-2", { status: "offline", lastHeartbeatAt: NOW - 200_000 })
    ])
    assert.strictEqual(p.expireAt, expiry(NOW - 5_000))
    const offline = worker("w-2", { status: "offline", lastHeartbeatAt: NOW - 200_000 })
    assert.strictEqual(TickPlan.expiryDue([offline], config, 0), NOW - 200_000 + config.workerRemoveAfterSeconds * 1000 + 1)
    // Silence counts from when workers could be heard.
    const silent = worker("w-1", { lastHeartbeatAt: NOW - 100_000 })
    assert.strictEqual(TickPlan.expiryDue([silent], config, NOW), NOW + config.workerOfflineAfterSeconds * 1000)
    assert.isNull(plan([]).expireAt)
  })
})
