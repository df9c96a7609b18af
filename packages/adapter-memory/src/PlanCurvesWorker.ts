/**
 * The entry of a plan curve's worker thread, of the same kind as
 * `SeedSweepWorker`: `PlanCurves` starts a worker on this module's own file
 * (`entry`; in the `foreman` bundle, the chunk that holds it). Imported in a
 * thread that `PlanCurves` started (its `workerData` carries `marker` and the
 * history), it serves simulations: each message is a worker count and a seed,
 * each answer that run's figures. Imported anywhere else it does nothing.
 */
import type { History } from "@foreman/core"
import { Cause, Effect, Exit } from "effect"
import { isMainThread, type MessagePort, parentPort, workerData } from "node:worker_threads"
import { type CurveTask, type CurveTaskResult, runCurveTask } from "./internal/curveRun.js"

/** The key in `workerData` that makes a thread a curve worker. */
export const marker = "@foreman/adapter-memory/PlanCurvesWorker"

/** What a curve worker is started with: the history and the worker type whose count varies (plain data). */
export interface CurveWorkerData {
  readonly [marker]: true
  readonly history: History.History
  readonly type: string
}

/** The URL of this module's file: the entry a curve's worker threads run. */
export const entry: URL = new URL(import.meta.url)

const isCurveWorkerData = (data: unknown): data is CurveWorkerData =>
  typeof data === "object" && data !== null && (data as Record<string, unknown>)[marker] === true

/** Answers each task it is sent with that run's figures (or why it failed), one at a time. */
const serve = (port: MessagePort, data: CurveWorkerData) =>
  port.on("message", (task: CurveTask) => {
    void Effect.runPromiseExit(runCurveTask(data.history, data.type, task)).then((exit) => {
      const answer: CurveTaskResult = Exit.isSuccess(exit)
        ? exit.value
        : { ...task, _tag: "Failed", message: Cause.pretty(exit.cause).split("\n")[0] ?? "failed" }
      port.postMessage(answer)
    })
  })

if (!isMainThread && parentPort !== null && isCurveWorkerData(workerData)) serve(parentPort, workerData)
