/**
 * Leaked slots decided from plain data: a slot a worker holds for a job no
 * active research runs is freed, and the worker's status follows its load.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fixtures from "@foreman/adapter-memory/TestEngine"
import type { JobId } from "../../src/Domain.js"
import * as Observe from "../../src/internal/observe.js"

const running = (jobId: string, overrides = {}) => ({
  research: fixtures.research("op_1", { status: "running", activeJobId: jobId as JobId }),
  job: fixtures.job(jobId, "op_1", overrides)
})

describe("leakedSlots", () => {
  it("frees nothing when every slot has a live job behind it", () => {
    const w = fixtures.worker("w-1", { status: "busy", currentJobs: ["job_1" as JobId] })
    assert.deepStrictEqual(Observe.leakedSlots([running("job_1")], [w]), { workers: [w], leaks: [] })
  })

  it("frees a slot held for a job no research runs, the worker available again", () => {
    const w = fixtures.worker("w-1", { status: "busy", currentJobs: ["job_x" as JobId] })
    const { leaks, workers } = Observe.leakedSlots([], [w])
    assert.deepStrictEqual(leaks, [{ worker: w, jobIds: w.currentJobs }])
    assert.deepStrictEqual(workers, [{ ...w, currentJobs: [], status: "available" }])
  })

  it("frees the slot of a settled job and keeps the live ones", () => {
    const [job1, job2] = ["job_1" as JobId, "job_2" as JobId]
    const w = fixtures.worker("w-1", { capacity: 2, status: "busy", currentJobs: [job1, job2] })
    const active = [running("job_1"), { ...running("job_2", { status: "completed" }) }]
    const { leaks, workers } = Observe.leakedSlots(active, [w])
    assert.deepStrictEqual(leaks.map((l) => l.jobIds), [[job2]])
    assert.deepStrictEqual(workers[0]?.currentJobs, [job1])
    assert.strictEqual(workers[0]?.status, "available")
  })

  it("does not count an in-process job as holding a worker's slot", () => {
    const w = fixtures.worker("w-1", { status: "busy", currentJobs: ["job_1" as JobId] })
    const { leaks } = Observe.leakedSlots([running("job_1", { workerId: null })], [w])
    assert.deepStrictEqual(leaks.map((l) => l.jobIds), [w.currentJobs])
  })
})
