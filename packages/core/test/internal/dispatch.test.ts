/**
 * Dispatch decided from plain data: what a worker is given of a job, and what a failed
 * delivery means (a refusal is a scheduling fact, anything else loses the attempt).
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
  it("loses the attempt and frees the slot when the worker could not be reached", () => {
    const error = new DispatchError({ workerId: "w-1", reason: "connection refused" })
    assert.deepStrictEqual(Dispatch.afterFailure(error), { outcome: "lost", worker: "release" })
  })

  for (const refused of ["full", "draining"] as const) {
    it(`sends the job back to the queue when the worker is ${refused}`, () => {
      const error = new DispatchError({ workerId: "w-1", reason: refused, refused })
      assert.deepStrictEqual(Dispatch.afterFailure(error), { outcome: "refused", worker: refused })
    })
  }
})
