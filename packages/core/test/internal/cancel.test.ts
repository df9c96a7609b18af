/**
 * Cancel decided from plain data: idempotent on a cancelled research, refused
 * on a finished one; the job write built by `JobWrites.cancelled`; the worker
 * job stopped only while it is live on a worker.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fixtures from "@foreman/adapter-memory/TestEngine"
import type { ResearchStatus } from "../../src/Domain.js"
import * as Cancel from "../../src/internal/cancel.js"
import * as JobWrites from "../../src/internal/jobWrites.js"

const NOW = 50_000

describe("decide", () => {
  it("answers a cancelled research as it is", () => {
    assert.deepStrictEqual(Cancel.decide(fixtures.research("op_1", { status: "cancelled" })), { _tag: "AlreadyCancelled" })
  })

  for (const status of ["completed", "failed"] satisfies Array<ResearchStatus>) {
    it(`refuses a ${status} research with NotCancellable`, () => {
      const d = Cancel.decide(fixtures.research("op_1", { status }))
      assert.strictEqual(d._tag, "Refuse")
      if (d._tag === "Refuse") assert.deepInclude(d.error, { _tag: "NotCancellable", researchId: "op_1", status })
    })
  }

  for (const status of ["pending", "running"] satisfies Array<ResearchStatus>) {
    it(`cancels a ${status} research`, () => {
      assert.deepStrictEqual(Cancel.decide(fixtures.research("op_1", { status })), { _tag: "Cancel" })
    })
  }
})

describe("JobWrites.cancelled", () => {
  it("writes nothing without a job", () => {
    assert.deepStrictEqual(JobWrites.cancelled(undefined, NOW), [])
  })

  it("writes nothing for a settled job", () => {
    assert.deepStrictEqual(JobWrites.cancelled(fixtures.job("job_1", "op_1", { status: "completed" }), NOW), [])
  })

  it("cancels a live job, conditional on the status it had", () => {
    const [write, ...rest] = JobWrites.cancelled(fixtures.job("job_1", "op_1", { status: "pending" }), NOW)
    assert.strictEqual(rest.length, 0)
    assert.strictEqual(write?.expected, "pending")
    assert.strictEqual(write?.job.status, "cancelled")
    assert.strictEqual(write?.job.error, "cancelled by operator")
    assert.strictEqual(write?.job.finishedAt, NOW)
  })
})

describe("workerJobToStop", () => {
  it("stops a live job on its worker", () => {
    assert.deepStrictEqual(Cancel.workerJobToStop(fixtures.job("job_1", "op_1")), { workerId: "w-1", jobId: "job_1" })
  })

  it("stops nothing for an in-process job, a settled job or none", () => {
    assert.isNull(Cancel.workerJobToStop(fixtures.job("job_1", "op_1", { workerId: null })))
    assert.isNull(Cancel.workerJobToStop(fixtures.job("job_1", "op_1", { status: "failed" })))
    assert.isNull(Cancel.workerJobToStop(undefined))
  })
})

describe("cancelledEvent", () => {
  it("announces the research cancelled, waiting for nothing", () => {
    const r = fixtures.research("op_1", { status: "cancelled", phase: "training" })
    assert.deepStrictEqual(Cancel.cancelledEvent(r, NOW), {
      _tag: "Transition",
      at: NOW,
      researchId: r.id,
      phase: "training",
      status: "cancelled",
      waitingFor: null,
      error: null
    })
  })
})
