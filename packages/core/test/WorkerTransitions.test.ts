/**
 * The worker state machine decided by its owner alone: the table of cases
 * both stores are held to (`@foreman/testing/WorkerStatusContract`) run
 * through `WorkerTransitions`, and the rules it is made of.
 */
import { assert, describe, it } from "@effect/vitest"
import { cases, decide, table } from "@foreman/testing/WorkerStatusContract"
import * as WorkerTransitions from "../src/WorkerTransitions.js"

describe("WorkerTransitions", () => {
  for (const row of table) {
    it(`the contract's table: ${row.name}`, () => {
      const all = cases(row)
      assert.isAbove(all.length, 0)
      for (const c of all) assert.strictEqual(decide(c), c.expected, `${c.status} holding ${c.held}`)
    })
  }

  it("a worker taking jobs follows its load; any other keeps its status", () => {
    for (const status of WorkerTransitions.statuses) {
      const takes = status === "available" || status === "busy"
      assert.strictEqual(WorkerTransitions.takesJobs(status), takes)
      assert.strictEqual(WorkerTransitions.released(status, true), takes ? "busy" : status)
      assert.strictEqual(WorkerTransitions.released(status, false), takes ? "available" : status)
      assert.strictEqual(WorkerTransitions.claimed(status, true), takes ? "busy" : status)
      assert.strictEqual(WorkerTransitions.registered(status, false), takes ? "available" : status)
    }
    assert.isTrue(WorkerTransitions.isFull(2, 2))
    assert.isFalse(WorkerTransitions.isFull(1, 2))
  })

  it("a claim takes only an available worker with a free slot that asks for work", () => {
    const slots = { status: "available" as const, capacity: 2, currentJobs: ["job_a"] }
    assert.isTrue(WorkerTransitions.canTake(slots, 100))
    assert.isFalse(WorkerTransitions.canTake({ ...slots, currentJobs: ["job_a", "job_b"] }, 100))
    assert.isFalse(WorkerTransitions.canTake({ ...slots, status: "busy" }, 100))
    assert.isFalse(WorkerTransitions.canTake({ ...slots, protocol: "pull", pollingUntil: null }, 100))
    assert.isFalse(WorkerTransitions.canTake({ ...slots, protocol: "pull", pollingUntil: 99 }, 100))
    assert.isTrue(WorkerTransitions.canTake({ ...slots, protocol: "pull", pollingUntil: 100 }, 100))
  })

  it("refusals, heartbeats and expiry", () => {
    assert.strictEqual(WorkerTransitions.refusal("full"), "busy")
    assert.strictEqual(WorkerTransitions.refusal("draining"), "draining")
    assert.strictEqual(WorkerTransitions.refused("available", "draining"), "draining")
    assert.strictEqual(WorkerTransitions.refused("offline", "busy"), "offline")
    assert.strictEqual(WorkerTransitions.heartbeat("offline", false, true), "available")
    assert.strictEqual(WorkerTransitions.heartbeat("draining", false, true), "draining")
    assert.strictEqual(WorkerTransitions.heartbeat("draining", false, false), "error")
    assert.deepStrictEqual(WorkerTransitions.changing(WorkerTransitions.expired), ["available", "busy", "draining", "error"])
    assert.deepStrictEqual(WorkerTransitions.statuses.filter(WorkerTransitions.isOut), ["error", "offline"])
  })
})

describe("expiryCutoffs", () => {
  const delays = { offlineAfterMillis: 30_000, removeAfterMillis: 300_000 }

  it("counts silence from when workers could be heard: nobody is silent before the delay has passed since", () => {
    assert.deepStrictEqual(WorkerTransitions.expiryCutoffs(100_000, 90_000, delays), {
      offlineBefore: Number.NEGATIVE_INFINITY,
      removeBefore: Number.NEGATIVE_INFINITY
    })
  })

  it("takes the usual cutoffs once a delay has passed since hearing began", () => {
    assert.deepStrictEqual(WorkerTransitions.expiryCutoffs(100_000, 70_000, delays), {
      offlineBefore: 70_000,
      removeBefore: Number.NEGATIVE_INFINITY
    })
    assert.deepStrictEqual(WorkerTransitions.expiryCutoffs(1_000_000, 0, delays), {
      offlineBefore: 970_000,
      removeBefore: 700_000
    })
  })
})
