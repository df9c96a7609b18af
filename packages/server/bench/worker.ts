/**
 * The benchmark's training worker, a process of its own (as in production):
 * every job finishes at once; it prints when each job starts and ends, in
 * milliseconds on the machine's clock (`performance.timeOrigin` based, so the
 * benchmark process can compare), as `start <ms>` / `end <ms>` lines.
 */
import { Effect } from "effect"
import * as WorkerHost from "../src/WorkerHost.js"

const now = () => performance.timeOrigin + performance.now()

WorkerHost.runNode(() =>
  Effect.sync(() => {
    process.stdout.write(`start ${now()}\n`)
    const result = { testAccuracy: 0.6, testLoss: 0.4, epochLosses: [0.9, 0.5] }
    process.stdout.write(`end ${now()}\n`)
    return result
  }), { type: "training" })
