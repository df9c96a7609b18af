/** The autopilot's decision, on plain data: no engine. */
import { assert, describe, it } from "@effect/vitest"
import { Autopilot, type Domain } from "@foreman/core"
import * as fixtures from "@foreman/adapter-memory/TestEngine"

const id = (s: string) => s as Domain.ResearchId

const research = (name: string, overrides: Partial<Domain.Research> = {}): Domain.Research =>
  fixtures.research(name, { brief: `brief of ${name}`, ...overrides })

const promising = (name: string, finishedAt: number, nextBrief = `after ${name}`, parentId: string | null = null) =>
  research(name, {
    status: "completed",
    finishedAt,
    parentId: parentId === null ? null : id(parentId),
    results: { assessment: { verdict: "promising", summary: "", nextBrief } }
  })

const state = (overrides: Partial<Autopilot.State> = {}): Autopilot.State => ({
  ...Autopilot.started({ brief: "Explore RSI", keep: 2 }, 1000, 0),
  ...overrides
})

const room = { active: 0, limit: 10 }

describe("Autopilot.decide", () => {
  it("starts N researches from the starting brief when no assessment proposes one", () => {
    assert.deepStrictEqual(Autopilot.decide({ state: state(), recent: [], capacity: room, canAfford: true }), {
      _tag: "Trigger",
      next: [{ brief: "Explore RSI", parentId: null }, { brief: "Explore RSI", parentId: null }]
    })
  })

  it("follows the latest promising assessment not yet followed, then the starting brief", () => {
    const recent = [
      promising("op_old", 2000),
      promising("op_new", 3000),
      promising("op_done", 4000),
      research("op_follower", { parentId: id("op_done") }),
      research("op_rejected", { status: "completed", finishedAt: 5000, results: { assessment: { verdict: "rejected", summary: "", nextBrief: "no" } } })
    ]
    const decision = Autopilot.decide({ state: state({ keep: 3 }), recent, capacity: room, canAfford: true })
    assert.deepStrictEqual(decision, {
      _tag: "Trigger",
      next: [
        { brief: "after op_new", parentId: id("op_new") },
        { brief: "after op_old", parentId: id("op_old") },
        { brief: "Explore RSI", parentId: null }
      ]
    }, "op_follower is not its own, so 3 are wanted; op_done is followed; rejected is not followed")
  })

  it("keeps N of its own running: waits while they run", () => {
    const s = state({ started: [id("op_a"), id("op_b")] })
    const recent = [research("op_a", { status: "running" }), research("op_b", { status: "pending" })]
    assert.deepStrictEqual(Autopilot.decide({ state: s, recent, capacity: room, canAfford: true }), { _tag: "Wait" })
    const one = [research("op_a", { status: "running" }), promising("op_b", 5000)]
    assert.deepStrictEqual(Autopilot.decide({ state: s, recent: one, capacity: room, canAfford: true }), {
      _tag: "Trigger",
      next: [{ brief: "after op_b", parentId: id("op_b") }]
    })
  })

  it("never passes the capacity", () => {
    assert.deepStrictEqual(Autopilot.decide({ state: state(), recent: [], capacity: { active: 3, limit: 3 }, canAfford: true }), { _tag: "Wait" })
    const decision = Autopilot.decide({ state: state(), recent: [], capacity: { active: 2, limit: 3 }, canAfford: true })
    assert.strictEqual(decision._tag === "Trigger" ? decision.next.length : 0, 1)
  })

  it("stops at max researches started, and never starts past it", () => {
    const s = state({ keep: 3, max: 2, started: [id("op_a")] })
    const decision = Autopilot.decide({ state: s, recent: [], capacity: room, canAfford: true })
    assert.strictEqual(decision._tag === "Trigger" ? decision.next.length : 0, 1)
    assert.deepStrictEqual(
      Autopilot.decide({ state: { ...s, started: [id("op_a"), id("op_b")] }, recent: [], capacity: room, canAfford: true }),
      { _tag: "Stop", reason: "max", message: "started 2 researches, its maximum (--max 2)" }
    )
  })

  it("stops when the budget cannot afford another cycle", () => {
    assert.deepStrictEqual(Autopilot.decide({ state: state(), recent: [], capacity: room, canAfford: false }), {
      _tag: "Stop",
      reason: "budget",
      message: "today's budget cannot afford another cycle"
    })
  })

  it("does nothing once stopped", () => {
    const s = Autopilot.stopped(state(), "operator", "stopped by an operator", 2000)
    assert.deepStrictEqual(Autopilot.decide({ state: s, recent: [], capacity: room, canAfford: true }), { _tag: "Wait" })
    assert.strictEqual(s.version, 1)
    assert.strictEqual(s.stoppedAt, 2000)
  })
})
