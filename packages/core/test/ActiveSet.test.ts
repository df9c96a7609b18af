/**
 * The leader's active set from plain changes: a full answer replaces what is
 * kept, a partial one merges (kept while active, dropped once terminal, oldest
 * first), and a failed read makes the next one ask for everything.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fixtures from "@foreman/adapter-memory/TestEngine"
import { Effect } from "effect"
import * as ActiveSet from "../src/ActiveSet.js"
import type { Research } from "../src/Domain.js"
import { StorageError } from "../src/Errors.js"
import type { ActiveChanges, ActiveEntry, ChangeMark } from "../src/Researches.js"

const entry = (id: string, overrides: Partial<Research> = {}): ActiveEntry => ({
  research: fixtures.research(id, overrides),
  job: null
})
const ids = (set: ActiveSet.ActiveSet) => set.entries().map((e) => e.research.id)

describe("ActiveSet", () => {
  it("starts empty, with no mark", () => {
    const set = ActiveSet.make()
    assert.deepStrictEqual(set.entries(), [])
    assert.isNull(set.mark())
  })

  it("takes a full answer as it stands, in the order answered, and its mark", () => {
    const set = ActiveSet.make()
    set.apply({ complete: true, entries: [entry("op_a", { createdAt: 1 })], mark: "5" })
    set.apply({ complete: true, entries: [entry("op_c", { createdAt: 3 }), entry("op_b", { createdAt: 3 })], mark: "9" })
    assert.deepStrictEqual(ids(set), ["op_c", "op_b"])
    assert.strictEqual(set.mark(), "9")
  })

  it("merges changes: updates kept researches, adds new ones oldest first, drops terminal ones", () => {
    const set = ActiveSet.make()
    set.apply({ complete: true, entries: [entry("op_a", { createdAt: 1 }), entry("op_b", { createdAt: 2 })], mark: "1" })
    const running = entry("op_a", { createdAt: 1, status: "running", version: 1 })
    set.apply({
      complete: false,
      entries: [entry("op_d", { createdAt: 4 }), running, entry("op_b", { createdAt: 2, status: "cancelled" })],
      mark: "2"
    })
    assert.deepStrictEqual(ids(set), ["op_a", "op_d"])
    assert.deepStrictEqual(set.entries()[0], running)
    // One committed late, older than the newest kept: sorted in by creation, then id.
    set.apply({ complete: false, entries: [entry("op_c", { createdAt: 1 }), entry("op_0", { createdAt: 1 })], mark: "3" })
    assert.deepStrictEqual(ids(set), ["op_0", "op_a", "op_c", "op_d"])
    // A terminal research never kept stays out.
    set.apply({ complete: false, entries: [entry("op_x", { createdAt: 9, status: "failed" })], mark: "4" })
    assert.deepStrictEqual(ids(set), ["op_0", "op_a", "op_c", "op_d"])
    assert.strictEqual(set.mark(), "4")
  })

  it("says what a read changed: in full, by what differs from what is kept; as changes, by what was read", () => {
    const set = ActiveSet.make()
    const [a, b, c] = [entry("op_a", { createdAt: 1 }), entry("op_b", { createdAt: 2 }), entry("op_c", { createdAt: 2 })]
    const first = set.apply({ complete: true, entries: [b, a], mark: null })
    assert.isTrue(first.all)
    assert.isBelow(set.rank(b.research.id), set.rank(a.research.id))
    // The same objects again, one written, one gone, one new at the end: only those.
    const written = entry("op_b", { createdAt: 2, version: 2 })
    const again = set.apply({ complete: true, entries: [written, c], mark: null })
    assert.deepStrictEqual(again, { all: false, changed: [written, c], removed: [a.research.id] })
    assert.deepStrictEqual(set.apply({ complete: true, entries: [written, c], mark: null }), { all: false, changed: [], removed: [] })
    // Answered in another order: everything counts as changed, ranked as answered.
    assert.isTrue(set.apply({ complete: true, entries: [c, written], mark: null }).all)
    assert.deepStrictEqual(ids(set), ["op_c", "op_b"])
    assert.strictEqual(set.size(), 2)
  })

  it("finds the research running a job, and forgets it once it runs another or ends", () => {
    const set = ActiveSet.make()
    const job = fixtures.job("job_1", "op_a")
    const running = { research: fixtures.research("op_a", { activeJobId: job.id }), job }
    set.apply({ complete: true, entries: [running], mark: "1" })
    assert.strictEqual(set.byJob(job.id), running)
    const next = fixtures.job("job_2", "op_a")
    set.apply({ complete: false, entries: [{ research: fixtures.research("op_a", { activeJobId: next.id }), job: next }], mark: "2" })
    assert.isUndefined(set.byJob(job.id))
    assert.strictEqual(set.byJob(next.id)?.job, next)
    set.apply({ complete: false, entries: [{ research: fixtures.research("op_a", { status: "completed" }), job: null }], mark: "3" })
    assert.isUndefined(set.byJob(next.id))
  })

  it.effect("refresh reads from the mark; after a failed read it asks for everything", () =>
    Effect.gen(function*() {
      const set = ActiveSet.make()
      const asked: Array<ChangeMark | null> = []
      const answers: Array<ActiveChanges | StorageError> = [
        { complete: true, entries: [entry("op_a", { createdAt: 1 })], mark: "1" },
        { complete: false, entries: [entry("op_b", { createdAt: 2 })], mark: "2" },
        new StorageError({ reason: "connection lost" }),
        { complete: true, entries: [entry("op_b", { createdAt: 2 })], mark: "3" }
      ]
      const read = (mark: ChangeMark | null) =>
        Effect.suspend(() => {
          asked.push(mark)
          const answer = answers.shift()!
          return answer instanceof StorageError ? Effect.fail(answer) : Effect.succeed(answer)
        })
      assert.deepStrictEqual((yield* ActiveSet.refresh(set, read)).map((e) => e.research.id), ["op_a"])
      assert.deepStrictEqual((yield* ActiveSet.refresh(set, read)).map((e) => e.research.id), ["op_a", "op_b"])
      assert.strictEqual((yield* Effect.flip(ActiveSet.refresh(set, read)))._tag, "StorageError")
      assert.deepStrictEqual((yield* ActiveSet.refresh(set, read)).map((e) => e.research.id), ["op_b"])
      assert.deepStrictEqual(asked, [null, "1", "2", null])
    }))
})
