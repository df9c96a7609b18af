/**
 * Leaked slots decided from plain data: a slot a worker holds for a job no
 * active research runs is suspected when first seen, and freed (the worker's
 * status following its load) only if it is still so `LEAK_GRACE_MILLIS` later:
 * a report frees its slot in a write of its own, and a tick between the two
 * writes sees the job settled and the slot still held.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fixtures from "@foreman/adapter-memory/TestEngine"
import type { JobId } from "../../src/Domain.js"
import * as Observe from "../../src/internal/observe.js"
import type { ActiveEntry } from "../../src/Researches.js"

const running = (jobId: string, overrides = {}) => ({
  research: fixtures.research("op_1", { status: "running", activeJobId: jobId as JobId }),
  job: fixtures.job(jobId, "op_1", overrides)
})

/** The lookup of active researches by job (`ActiveSet.byJob`) over these entries. */
const byJob = (...entries: ReadonlyArray<ActiveEntry>) => (id: JobId) => entries.find((e) => e.job?.id === id)
const nothing = byJob()

const none: Observe.Suspects = new Map()
const grace = Observe.LEAK_GRACE_MILLIS
const t0 = 1_000_000

describe("leakedSlots", () => {
  it("frees nothing and suspects nothing when every slot has a live job behind it", () => {
    const w = fixtures.worker("w-1", { status: "busy", currentJobs: ["job_1" as JobId] })
    assert.deepStrictEqual(Observe.leakedSlots(byJob(running("job_1")), [w], none, t0), {
      workers: [w],
      leaks: [],
      suspects: none,
      dueAt: null
    })
  })

  it("only suspects a slot held for a job no research runs when first seen: the worker keeps it", () => {
    const w = fixtures.worker("w-1", { status: "busy", currentJobs: ["job_x" as JobId] })
    const seen = Observe.leakedSlots(nothing, [w], none, t0)
    assert.deepStrictEqual(seen.leaks, [])
    assert.deepStrictEqual(seen.workers, [w])
    assert.deepStrictEqual([...seen.suspects], [["job_x", t0]])
    assert.strictEqual(seen.dueAt, t0 + grace)
    // Seen again before the grace ends: still only suspected, from when it was first seen.
    const again = Observe.leakedSlots(nothing, [w], seen.suspects, t0 + grace - 1)
    assert.deepStrictEqual(again.leaks, [])
    assert.deepStrictEqual([...again.suspects], [["job_x", t0]])
  })

  it("frees a slot still held for no live job once the grace has passed, the worker available again", () => {
    const w = fixtures.worker("w-1", { status: "busy", currentJobs: ["job_x" as JobId] })
    const { suspects } = Observe.leakedSlots(nothing, [w], none, t0)
    const { dueAt, leaks, workers, suspects: left } = Observe.leakedSlots(nothing, [w], suspects, t0 + grace)
    assert.deepStrictEqual(leaks, [{ worker: w, jobIds: w.currentJobs }])
    assert.deepStrictEqual(workers, [{ ...w, currentJobs: [], status: "available" }])
    assert.strictEqual(left.size, 0)
    assert.strictEqual(dueAt, null)
  })

  it("forgets a suspect whose slot was freed meanwhile (the report's own release) or whose job is live after all", () => {
    const [settled, claimed] = ["job_s" as JobId, "job_c" as JobId]
    const w = fixtures.worker("w-1", { capacity: 2, status: "busy", currentJobs: [settled, claimed] })
    const { suspects } = Observe.leakedSlots(nothing, [w], none, t0)
    assert.strictEqual(suspects.size, 2)
    // The report's release freed job_s; job_c's commit is now read: nothing leaked, nothing suspected.
    const later = { ...w, currentJobs: [claimed] }
    const next = Observe.leakedSlots(byJob(running("job_c")), [later], suspects, t0 + grace)
    assert.deepStrictEqual(next, { workers: [later], leaks: [], suspects: none, dueAt: null })
  })

  it("frees the slot of a job settled past the grace and keeps the live ones", () => {
    const [job1, job2] = ["job_1" as JobId, "job_2" as JobId]
    const w = fixtures.worker("w-1", { capacity: 2, status: "busy", currentJobs: [job1, job2] })
    const active = byJob(running("job_1"), { ...running("job_2", { status: "completed" }) })
    const { suspects } = Observe.leakedSlots(active, [w], none, t0)
    const { leaks, workers } = Observe.leakedSlots(active, [w], suspects, t0 + grace)
    assert.deepStrictEqual(leaks.map((l) => l.jobIds), [[job2]])
    assert.deepStrictEqual(workers[0]?.currentJobs, [job1])
    assert.strictEqual(workers[0]?.status, "available")
  })

  it("does not count an in-process job as holding a worker's slot", () => {
    const w = fixtures.worker("w-1", { status: "busy", currentJobs: ["job_1" as JobId] })
    const active = byJob(running("job_1", { workerId: null }))
    const { suspects } = Observe.leakedSlots(active, [w], none, t0)
    const { leaks } = Observe.leakedSlots(active, [w], suspects, t0 + grace)
    assert.deepStrictEqual(leaks.map((l) => l.jobIds), [w.currentJobs])
  })
})
