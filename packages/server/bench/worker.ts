/**
 * A benchmark worker, a process of its own (as in production), of the type in
 * FOREMAN_WORKER_TYPE: every job finishes at once with passing metrics; it
 * prints when each job starts and ends, in milliseconds on the machine's clock
 * (`performance.timeOrigin` based, so the benchmark process can compare), as
 * `start <ms>` / `end <ms>` lines.
 */
import { Effect } from "effect"
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import { WorkerHost } from "@foreman/worker"

const now = () => performance.timeOrigin + performance.now()

WorkerHost.runNode((job) =>
  Effect.sync(() => {
    process.stdout.write(`start ${now()}\n`)
    const result = job.kind === "training" ? goodTraining : goodBacktest
    process.stdout.write(`end ${now()}\n`)
    return result
  }))
