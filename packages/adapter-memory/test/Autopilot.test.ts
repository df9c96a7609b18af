/**
 * The autopilot end to end in memory: it keeps N researches running, follows
 * promising assessments' next briefs, and stops at its maximum or when the
 * budget cannot afford another cycle, saying why.
 */
import { assert, describe, it } from "@effect/vitest"
import { Coordinator } from "@foreman/core"
import { Effect } from "effect"
import { advance, fresh, startLab } from "../src/TestEngine.js"

const mine = (coordinator: Coordinator.CoordinatorShape) =>
  Effect.gen(function*() {
    const status = yield* coordinator.autopilot.status()
    const started = status.autopilot?.started ?? []
    const researches = yield* Effect.forEach(started, (id) => Effect.map(coordinator.show(id), (d) => d.research))
    return { status, researches }
  })

describe("Autopilot", () => {
  it.scoped("keeps N running, follows the promising assessment's brief, and stops at max", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab({ training: 2, backtest: 1 })
      const state = yield* coordinator.autopilot.start({ brief: "Explore RSI variations", keep: 2, max: 4 })
      assert.deepStrictEqual([state.status, state.keep, state.max, state.started], ["running", 2, 4, []])
      yield* advance(1)
      const first = yield* mine(coordinator)
      assert.strictEqual(first.researches.length, 2)
      assert.deepStrictEqual(first.status.running, first.researches.map((r) => r.id))
      assert.deepStrictEqual(first.researches.map((r) => [r.brief, r.parentId]), [
        ["Explore RSI variations", null],
        ["Explore RSI variations", null]
      ])
      assert.isTrue(first.researches.every((r) => !r.forced), "never forced")
      assert.deepStrictEqual((yield* coordinator.status()).autopilot, {
        status: "running",
        keep: 2,
        max: 4,
        started: 2,
        running: 2,
        stopMessage: null
      }, "the status view shows it")

      yield* advance(3600)
      const done = yield* mine(coordinator)
      assert.strictEqual(done.researches.length, 4)
      const followers = done.researches.slice(2)
      for (const r of followers) {
        const parent = done.researches.find((p) => p.id === r.parentId)
        assert.isDefined(parent, "a follower follows one of the first two")
        const proposed = (parent!.results["assessment"] as { nextBrief?: string }).nextBrief
        assert.strictEqual(r.brief, proposed)
      }
      assert.notStrictEqual(followers[0]!.parentId, followers[1]!.parentId, "each assessment is followed once")
      assert.deepStrictEqual(
        [done.status.autopilot?.status, done.status.autopilot?.stopReason, done.status.autopilot?.stopMessage],
        ["stopped", "max", "started 4 researches, its maximum (--max 4)"]
      )
      assert.strictEqual((yield* coordinator.status()).autopilot?.stopMessage, "started 4 researches, its maximum (--max 4)")
      const parent = yield* coordinator.show(followers[0]!.parentId!)
      assert.include(parent.children.map((c) => c.id), followers[0]!.id)
    })))

  it.scoped("stops when the budget cannot afford another cycle, and says why", () =>
    fresh(
      Effect.gen(function*() {
        const coordinator = yield* startLab()
        yield* coordinator.autopilot.start({ brief: "Explore RSI variations", keep: 2 })
        yield* advance(1)
        const { status } = yield* mine(coordinator)
        assert.deepStrictEqual(status.autopilot?.started, [])
        assert.strictEqual(status.autopilot?.status, "stopped")
        assert.strictEqual(status.autopilot?.stopReason, "budget")
        assert.strictEqual(status.autopilot?.stopMessage, "today's budget cannot afford another cycle")
      }),
      { config: { dailyBudgetUsd: 0.0001 } }
    ))

  it.scoped("refuses a second start while running; an operator stops it", () =>
    fresh(Effect.gen(function*() {
      const coordinator = yield* startLab()
      assert.deepStrictEqual(yield* coordinator.autopilot.status(), { autopilot: null, running: [] })
      yield* coordinator.autopilot.start({ brief: "Explore RSI variations", keep: 1 })
      const again = yield* Effect.flip(coordinator.autopilot.start({ brief: "x", keep: 1 }))
      assert.strictEqual(again._tag, "InvalidInput")
      yield* advance(1)
      const stopped = yield* coordinator.autopilot.stop()
      assert.deepStrictEqual([stopped.autopilot?.status, stopped.autopilot?.stopReason], ["stopped", "operator"])
      assert.strictEqual(stopped.autopilot?.started.length, 1)
      yield* advance(3600)
      assert.strictEqual((yield* coordinator.autopilot.status()).autopilot?.started.length, 1, "it starts nothing more")
      const restarted = yield* coordinator.autopilot.start({ brief: "again", keep: 1 })
      assert.deepStrictEqual([restarted.status, restarted.started, restarted.version], ["running", [], 3], "its version goes on")
    })))
})
