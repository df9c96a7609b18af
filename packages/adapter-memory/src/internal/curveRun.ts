/**
 * One simulation of a plan curve: the recorded window replayed with `count`
 * workers of one type (the others as recorded) and one seed, reduced to the
 * figures a curve's point needs. Runs the same in a worker thread and in the
 * caller's, so a point does not depend on where it ran.
 */
import type { History } from "@foreman/core"
import { Effect, Either } from "effect"
import { historyToSimulation } from "../PlanInput.js"
import { run as simulate } from "../Simulation.js"

/** One run to do: a worker count and a seed. */
export interface CurveTask {
  readonly count: number
  readonly seed: number
}

/** What one run gave for the type. */
export interface CurveFigures extends CurveTask {
  readonly _tag: "Ran"
  readonly waitP50Seconds: number
  readonly waitP95Seconds: number
  readonly researchesPerDay: number
  /** The share of the type's slot time over the window that its jobs ran. */
  readonly utilisation: number
}

/** A run that could not be done, and why. */
export interface CurveFailure extends CurveTask {
  readonly _tag: "Failed"
  readonly message: string
}

export type CurveTaskResult = CurveFigures | CurveFailure

/** Runs `task` over `history` with `task.count` workers of `type`. */
export const runCurveTask = (history: History.History, type: string, task: CurveTask): Effect.Effect<CurveTaskResult> =>
  Either.match(historyToSimulation(history), {
    onLeft: (message) => Effect.succeed<CurveTaskResult>({ ...task, _tag: "Failed", message }),
    onRight: (base) =>
      Effect.map(
        simulate({ ...base, seed: task.seed, workers: { ...base.workers, [type]: task.count } }),
        (report): CurveTaskResult => {
          const windowSeconds = Math.max(1, history.until - history.since) / 1000
          const days = windowSeconds / 86_400
          const finished = report.finishedPerDay.reduce((a, b) => a + b, 0)
          // The report's utilisation is over the simulated time, which ends with the last research; a plan's is over the window, as observed.
          const busyShare = (report.utilisation[type] ?? 0) * Math.min(1, report.simulatedSeconds / windowSeconds)
          return {
            ...task,
            _tag: "Ran",
            waitP50Seconds: report.waits[type]?.p50Seconds ?? 0,
            waitP95Seconds: report.waits[type]?.p95Seconds ?? 0,
            researchesPerDay: finished / days,
            utilisation: Math.round(busyShare * 1000) / 1000
          }
        }
      )
  })
