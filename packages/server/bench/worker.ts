/**
 * A benchmark worker, a process of its own (as in production), of the type in
 * FOREMAN_WORKER_TYPE: every job finishes at once with passing metrics; it
 * prints when each job starts and ends, in milliseconds on the machine's clock
 * (`performance.timeOrigin` based, so the benchmark process can compare), as
 * `start <ms>` / `end <ms>` lines.
 */
import { Effect } from "effect"
import * as WorkerHost from "../src/WorkerHost.js"

const now = () => performance.timeOrigin + performance.now()

const training = { testAccuracy: 0.6, testLoss: 0.4, epochLosses: [0.9, 0.5] }
const backtest = {
  sharpeRatio: 1.1,
  winRate: 0.5,
  totalReturn: 0.1,
  totalTrades: 20,
  maxDrawdown: 0.1,
  netReturn: 0.09,
  tradeCount: 20
}

WorkerHost.runNode((job) =>
  Effect.sync(() => {
    process.stdout.write(`start ${now()}\n`)
    const result = job.kind === "training" ? training : backtest
    process.stdout.write(`end ${now()}\n`)
    return result
  }))
