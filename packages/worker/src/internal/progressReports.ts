/**
 * A job's progress, reported to the coordinator: the latest only, never more
 * than one report at a time per job (its final report too waits for the one in
 * flight, see `settledProgress`), and none of them worth a retry. A pull
 * worker stops a job whose report is answered with another status than
 * `running` (it hears about a cancel that way, too).
 */
import type * as Domain from "@foreman/core/Domain"
import { Effect, FiberSet } from "effect"
import type * as JobQueue from "../JobQueue.js"
import { stopJobs } from "./jobIntake.js"
import { describe, type LinkState, type ProgressInFlight } from "./linkState.js"
import { sendReport } from "./sendReport.js"

/** Sends the latest progress of a job, never more than one at a time per job. */
export const progress = (state: LinkState, entry: JobQueue.Entry<Domain.JobSpec, unknown>): Effect.Effect<void> =>
  Effect.suspend(() => {
    const report: Domain.JobReport = {
      _tag: "Progress",
      jobId: entry.input.jobId,
      workerId: state.workerId,
      progress: entry.progress,
      ...(entry.message === null ? {} : { message: entry.message.slice(0, 1000) })
    }
    const existing = state.progress.get(entry.id)
    if (existing !== undefined && existing.sending) {
      existing.next = report
      return Effect.void
    }
    const inFlight: ProgressInFlight = { sending: true, next: null, idle: Effect.unsafeMakeLatch(false) }
    state.progress.set(entry.id, inFlight)
    return Effect.asVoid(FiberSet.run(state.progressSends, sendInTurn(state, inFlight, report)))
  })

/** Sends `report`, then the one that came in meanwhile, until none waits. */
const sendInTurn = (state: LinkState, inFlight: ProgressInFlight, report: Domain.JobReport): Effect.Effect<void> =>
  sendReport(state, report).pipe(
    Effect.flatMap((job) =>
      state.pulls && job.status !== "running"
        ? stopJobs(state, [report.jobId], `the coordinator has it ${job.status}`)
        : Effect.void
    ),
    Effect.catchAll((error) => Effect.logDebug(`progress of ${report.jobId} not delivered: ${describe(state, error)}`)),
    Effect.zipRight(Effect.suspend(() => {
      const waiting = inFlight.next
      inFlight.next = null
      if (waiting === null) {
        inFlight.sending = false
        return inFlight.idle.open
      }
      return sendInTurn(state, inFlight, waiting)
    }))
  )

/**
 * A job has ended: progress still waiting to be sent is dropped, and this
 * waits until the one in flight (if any) is answered, so that the final report
 * reaches the coordinator after it, never overtaking it.
 */
export const settledProgress = (state: LinkState, jobId: string): Effect.Effect<void> =>
  Effect.suspend(() => {
    const inFlight = state.progress.get(jobId)
    state.progress.delete(jobId)
    if (inFlight === undefined) return Effect.void
    inFlight.next = null
    return inFlight.idle.await
  })
