/**
 * A term of leadership from plain data: when silent workers are expired, how
 * a storage outage restarts workers' grace, which in-process jobs are reaped,
 * and when the loop wakes for a tick due.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration } from "effect"
import type { ResearchId } from "../../src/Domain.js"
import * as Incarnation from "../../src/internal/incarnation.js"
import * as Leadership from "../../src/internal/leadership.js"

describe("Hearing", () => {
  it("expires silent workers at once, then at most once a second", () => {
    const start = Incarnation.hearingFrom(5_000)
    assert.isTrue(Incarnation.expireDue(start, 5_000))
    const after = Incarnation.expired(start, 5_000)
    assert.isFalse(Incarnation.expireDue(after, 5_999))
    assert.isTrue(Incarnation.expireDue(after, 6_000))
  })

  it("keeps the start of hearing while storage answers", () => {
    const start = Incarnation.hearingFrom(5_000)
    assert.strictEqual(Incarnation.heard(start, 9_000), start)
  })

  it("starts workers' grace over once storage answers after an outage", () => {
    const deaf = Incarnation.deafened(Incarnation.hearingFrom(5_000))
    assert.isTrue(deaf.deaf)
    const heard = Incarnation.heard(deaf, 9_000)
    assert.deepInclude(heard, { since: 9_000, deaf: false })
  })
})

describe("stale", () => {
  it("reaps the in-process jobs of researches no longer active", () => {
    const [a, b, c] = ["op_1" as ResearchId, "op_2" as ResearchId, "op_3" as ResearchId]
    assert.deepStrictEqual(Incarnation.stale([a, b, c], new Set([b])), [a, c])
  })
})

describe("delayUntil", () => {
  it("waits until the next tick is due, or not at all", () => {
    assert.isNull(Leadership.delayUntil(null, 1_000))
    assert.isTrue(Duration.equals(Leadership.delayUntil(4_000, 1_000)!, Duration.millis(3_000)))
    assert.isTrue(Duration.equals(Leadership.delayUntil(900, 1_000)!, Duration.zero))
  })
})

describe("expiryWake", () => {
  it("wakes when a worker is due to expire, but not before expiring is due again", () => {
    const after = Incarnation.expired(Incarnation.hearingFrom(5_000), 5_000)
    assert.isNull(Incarnation.expiryWake(after, null))
    assert.strictEqual(Incarnation.expiryWake(after, 9_000), 9_000)
    assert.strictEqual(Incarnation.expiryWake(after, 5_400), 6_000)
  })
})

describe("rearmExpiry", () => {
  it("leaves a watch asleep until no later than the new time: it looks again then", () => {
    assert.isFalse(Leadership.rearmExpiry(40_001, 50_001))
    assert.isFalse(Leadership.rearmExpiry(40_001, 40_001))
  })

  it("sets the timer when none watches, when the time comes sooner, or to clear it", () => {
    assert.isTrue(Leadership.rearmExpiry(null, 50_001))
    assert.isTrue(Leadership.rearmExpiry(60_001, 50_001))
    assert.isTrue(Leadership.rearmExpiry(40_001, null))
  })
})
