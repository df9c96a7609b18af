/**
 * The job state machine's decisions that depend on a job's status: what a
 * worker leaving does to it, what a cancel does, when a late result revives
 * it, and the statuses each write is conditional on.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fixtures from "@foreman/adapter-memory/TestEngine"
import type { JobReport } from "../src/Domain.js"
import * as JobTransitions from "../src/JobTransitions.js"
import * as ResearchTransitions from "../src/ResearchTransitions.js"

const pending = fixtures.job("job_p", "op_a", { status: "pending" })
const running = fixtures.job("job_r", "op_a", { status: "running" })
const lost = fixtures.job("job_l", "op_a", { status: "lost", phase: "training" })

describe("JobTransitions", () => {
  it("a job its worker leaves is refused while pending, else lost", () => {
    assert.strictEqual(JobTransitions.disowned(pending, "w-1", 9).status, "refused")
    assert.strictEqual(JobTransitions.disowned(running, "w-1", 9).status, "lost")
    assert.strictEqual(JobTransitions.abandoned(pending, "w-1", 9).status, "refused")
    const gone = JobTransitions.abandoned(running, "w-1", 9)
    assert.deepStrictEqual([gone.status, gone.error, gone.finishedAt], ["lost", "worker w-1 deregistered while running it", 9])
  })

  it("a cancel settles an unsettled job only", () => {
    assert.strictEqual(JobTransitions.cancelledWithResearch(running, 9)?.status, "cancelled")
    assert.isUndefined(JobTransitions.cancelledWithResearch(lost, 9))
  })

  it("a late result revives a lost job, into a research that has not moved on", () => {
    const completed: JobReport = { _tag: "Completed", jobId: lost.id, workerId: lost.workerId!, result: { ok: true } }
    const failed: JobReport = { _tag: "Failed", jobId: lost.id, workerId: lost.workerId!, error: "no" }
    assert.strictEqual(JobTransitions.revivedBy(lost, completed, 9)?.status, "completed")
    assert.isUndefined(JobTransitions.revivedBy(lost, failed, 9))
    assert.isUndefined(JobTransitions.revivedBy(running, completed, 9))
    const research = fixtures.research("op_a", { status: "running", phase: "training", activeJobId: null })
    assert.isTrue(ResearchTransitions.canRevive(research, lost))
    assert.isFalse(ResearchTransitions.canRevive({ ...research, activeJobId: running.id }, lost))
    assert.isFalse(ResearchTransitions.canRevive({ ...research, phase: "backtesting" }, lost))
    assert.isFalse(ResearchTransitions.canRevive({ ...research, status: "cancelled" }, lost))
  })

  it("each write is conditional on the statuses its change applies to", () => {
    assert.deepStrictEqual(JobTransitions.from.report, ["pending", "running"])
    assert.deepStrictEqual(JobTransitions.from.accepted, ["pending"])
    assert.deepStrictEqual(JobTransitions.from.outcome, ["running"])
    assert.deepStrictEqual(JobTransitions.from.revivedBy, ["lost"])
  })
})
