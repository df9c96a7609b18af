/**
 * One report to the coordinator about one job: progress, or a final result
 * that may carry the worker's next poll (then it may wait as long as a poll).
 */
import type * as Domain from "@foreman/core/Domain"
import { Effect } from "effect"
import { credential, limited, type LinkState, type Poll } from "./linkState.js"

/** Sends `report`, with `next` when it asks for work too; answers the job as the coordinator has it. */
export const sendReport = (state: LinkState, report: Domain.JobReport, next?: Poll) =>
  Effect.suspend(() => {
    const { coordinator, workerId } = state
    const request = { path: { workerId, jobId: report.jobId }, headers: credential(state) }
    const carry = next === undefined ? {} : { next }
    const within = limited(state, next === undefined ? state.requestTimeout : state.pollTimeout)
    switch (report._tag) {
      case "Progress":
        return coordinator.workers.report({
          ...request,
          payload: {
            _tag: "Progress",
            progress: report.progress,
            ...(report.message === undefined ? {} : { message: report.message })
          }
        }).pipe(within)
      case "Completed":
        return coordinator.workers.report({ ...request, payload: { _tag: "Completed", result: report.result, ...carry } })
          .pipe(within)
      case "Failed":
        return coordinator.workers.report({ ...request, payload: { _tag: "Failed", error: report.error, ...carry } })
          .pipe(within)
    }
  })
