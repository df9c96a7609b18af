/**
 * Dispatch decided from plain data: what a worker is given of a job, and what a failed
 * delivery means (a refusal is a scheduling fact; an unreachable worker leaves the rotation,
 * and the attempt counts only if the job may have reached it; an error answer loses the attempt).
 */
import { assert, describe, it } from "@effect/vitest"
import * as fixtures from "@foreman/adapter-memory/TestEngine"
import { DispatchError } from "../../src/Errors.js"
import * as Delivery from "../../src/internal/delivery.js"
import * as Dispatch from "../../src/internal/dispatch.js"

describe("Delivery.specOf", () => {
  it("sends the job's id, research, kind, attempt and input", () => {
    const job = fixtures.job("job_1", "op_1", { attempt: 2 })
    assert.deepStrictEqual(Delivery.specOf(job), {
      jobId: job.id,
      researchId: job.researchId,
      kind: "training",
      attempt: 2,
      input: job.input
    })
  })
})

describe("afterFailure", () => {
  it("sends the job back to the queue uncounted and takes the worker out when nothing reached it", () => {
    const error = new DispatchError({ workerId: "w-1", reason: "connection refused", unreachable: "unsent" })
    assert.deepStrictEqual(Dispatch.afterFailure(error), { outcome: "refused", worker: "unreachable" })
  })

  it("loses the attempt and takes the worker out when the job may have reached it unanswered", () => {
    const error = new DispatchError({ workerId: "w-1", reason: "no answer within 5s", unreachable: "unanswered" })
    assert.deepStrictEqual(Dispatch.afterFailure(error), { outcome: "lost", worker: "unreachable" })
  })

  it("loses the attempt and frees the slot when the worker answered with an error", () => {
    const error = new DispatchError({ workerId: "w-1", reason: "unexpected answer: HTTP 500" })
    assert.deepStrictEqual(Dispatch.afterFailure(error), { outcome: "lost", worker: "release" })
  })

  it("a refusal is a refusal, whatever else the error says", () => {
    const error = new DispatchError({ workerId: "w-1", reason: "draining", refused: "draining", unreachable: "unanswered" })
    assert.deepStrictEqual(Dispatch.afterFailure(error), { outcome: "refused", worker: "draining" })
  })

  for (const refused of ["full", "draining"] as const) {
    it(`sends the job back to the queue when the worker is ${refused}`, () => {
      const error = new DispatchError({ workerId: "w-1", reason: refused, refused })
      assert.deepStrictEqual(Dispatch.afterFailure(error), { outcome: "refused", worker: refused })
    })
  }
})
