/**
 * PLACEHOLDER (being replaced by the real example workers): the example
 * worker functions by worker type.
 */
import type { WorkerHost } from "@foreman/server"
import { Effect } from "effect"

export const exampleWorkers: Readonly<Record<"training" | "backtest", WorkerHost.WorkerFunction>> = {
  training: () => Effect.succeed({ testAccuracy: 0.6, testLoss: 0.4, epochLosses: [0.9, 0.6, 0.45] }),
  backtest: () =>
    Effect.succeed({
      sharpeRatio: 1.2,
      winRate: 0.55,
      totalReturn: 0.1,
      totalTrades: 30,
      maxDrawdown: 0.1,
      netReturn: 0.09,
      tradeCount: 30
    })
}
