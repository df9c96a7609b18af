/**
 * The leader's queues and due times from plain numbers: a queue keeps its
 * items in order whatever the order they come in, one at a time or many at
 * once; due times answer the earliest live time and hand over the keys come
 * due, skipping times replaced or cleared.
 */
import { assert, describe, it } from "@effect/vitest"
import * as DueTimes from "../../src/internal/dueTimes.js"
import * as WaitQueue from "../../src/internal/waitQueue.js"

const byNumber = (a: number, b: number) => a - b

describe("WaitQueue", () => {
  it("keeps items in order, added one at a time or many at once, and removes the one asked", () => {
    const queue = WaitQueue.make(byNumber)
    for (const x of [5, 1, 9, 3]) queue.add(x)
    queue.addAll(Array.from({ length: 20 }, (_, i) => 100 - i * 5))
    queue.remove(9)
    queue.remove(42)
    assert.deepStrictEqual(queue.first(6), [1, 3, 5, 5, 10, 15])
    assert.strictEqual(queue.size(), 23)
    assert.deepStrictEqual(queue.first(0), [])
  })

  it("removes many items in one pass, leaving the rest in order", () => {
    const items = Array.from({ length: 40 }, (_, i) => ({ at: i }))
    const queue = WaitQueue.make<{ readonly at: number }>((a, b) => a.at - b.at)
    queue.addAll([...items].reverse())
    queue.removeAll(items.filter((x) => x.at % 2 === 0))
    assert.deepStrictEqual(queue.first(40).map((x) => x.at), items.filter((x) => x.at % 2 === 1).map((x) => x.at))
  })
})

describe("DueTimes", () => {
  it("answers the earliest time and takes the keys due, skipping times replaced or cleared", () => {
    const dues = DueTimes.make<string>()
    dues.set("a", 30)
    dues.set("b", 10)
    dues.set("c", 20)
    dues.set("b", 40)
    dues.set("c", null)
    assert.strictEqual(dues.next(), 30)
    assert.deepStrictEqual(dues.takeDue(35), ["a"])
    assert.strictEqual(dues.get("a"), null)
    assert.strictEqual(dues.next(), 40)
    assert.deepStrictEqual(dues.takeDue(39), [])
    assert.deepStrictEqual(dues.takeDue(40), ["b"])
    assert.strictEqual(dues.next(), null)
  })

  it("stays small when times are replaced again and again", () => {
    const dues = DueTimes.make<string>()
    for (let i = 0; i < 10_000; i++) dues.set(`k${i % 3}`, 1_000 + i)
    assert.strictEqual(dues.next(), 10_997)
    assert.deepStrictEqual([...dues.takeDue(20_000)].sort(), ["k0", "k1", "k2"])
  })
})
