/**
 * A registration decided over plain data: which assigned jobs a worker keeps,
 * loses or is offered again, and which it must stop.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fixtures from "@foreman/adapter-memory/TestEngine"
import { Option } from "effect"
import * as Registration from "../../src/internal/registration.js"

const running = fixtures.job("job_run", "op_a", { status: "running" })
const pending = fixtures.job("job_pend", "op_b", { status: "pending" })
const input = {
  id: fixtures.worker("w-1").id,
  type: "training",
  capacity: 2,
  capabilities: {},
  runningJobs: ["job_run", "job_stranger"]
}

describe("registration plan", () => {
  it("a push worker keeps the jobs it lists and loses the others; it stops those not its own and those lost", () => {
    const plan = Registration.plan({ ...input, endpoint: "http://w" }, [running, pending], Option.none(), 500)
    assert.deepStrictEqual(plan.kept.map((j) => j.id), ["job_run"])
    assert.deepStrictEqual(plan.lost.map((j) => j.id), ["job_pend"])
    assert.deepStrictEqual(plan.offerAgain, [])
    assert.deepStrictEqual(plan.cancel, ["job_stranger", "job_pend"])
    assert.deepStrictEqual(
      [plan.candidate.protocol, plan.candidate.status, plan.candidate.currentJobs, plan.candidate.registeredAt],
      ["push", "available", ["job_run"], 500]
    )
  })

  it("a pull worker keeps every assigned job; running ones it did not list are offered again", () => {
    const elsewhere = fixtures.job("job_other", "op_c", { status: "running" })
    const previous = Option.some(fixtures.worker("w-1", { registeredAt: 42 }))
    const plan = Registration.plan({ ...input, runningJobs: ["job_run"] }, [running, pending, elsewhere], previous, 500)
    assert.deepStrictEqual(plan.kept.map((j) => j.id), ["job_run", "job_pend", "job_other"])
    assert.deepStrictEqual(plan.lost, [])
    assert.deepStrictEqual(plan.offerAgain.map((j) => j.id), ["job_other"])
    assert.deepStrictEqual(plan.cancel, [])
    assert.deepStrictEqual([plan.candidate.protocol, plan.candidate.endpoint, plan.candidate.registeredAt], ["pull", "", 42])
  })
})
