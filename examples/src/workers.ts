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
  timeframes: ["1d"],
  /** The model the training worker fits: a small neural network, with the hyper-parameters it accepts. */
  models: {
    mlp: {
      hiddenUnits: { type: "int", min: 4, max: 256, default: 48 },
      epochs: { type: "int", min: 10, max: 1000, default: 300 },
      learningRate: { type: "float", min: 0.00001, max: 0.1, default: 0.0005 }
    }
  }
} as const

export const exampleWorkers: Readonly<Record<"training" | "backtest", WorkerHost.WorkerFunction>> = {
  training: trainingWorker(),
  backtest: backtestWorker()
}
