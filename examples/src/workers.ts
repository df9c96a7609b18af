/**
 * The example worker functions by worker type: a training worker that trains
 * a small neural network on indicator features of synthetic daily bars, and
 * a backtest worker that trades its signals on held-out data with costs.
 * Run them as processes with `training-worker.ts` and `backtest-worker.ts`.
 */
import type { WorkerHost } from "@foreman/worker"
import { backtestWorker } from "./backtestWorker.js"
import { instrumentNames } from "./marketData.js"
import { indicatorNames } from "./strategySpec.js"
import { trainingWorker } from "./trainingWorker.js"

/** What both example workers declare when they register: designers keep to it. */
export const exampleCapabilities = {
  indicators: indicatorNames,
  instruments: instrumentNames,
  timeframes: ["1d"]
} as const

export const exampleWorkers: Readonly<Record<"training" | "backtest", WorkerHost.WorkerFunction>> = {
  training: trainingWorker(),
  backtest: backtestWorker()
}
