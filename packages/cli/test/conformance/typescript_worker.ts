/**
 * A controllable worker on the TypeScript SDK (`runWorker` of @foreman/worker),
 * for the conformance tests; the twin of `python_worker.py`.
 *
 * It runs `training` and `backtest` jobs the same way: it appends
 * `start <jobId> <attempt>` to the file `CONFORMANCE_LOG`, reports progress
 * ten times over `CONFORMANCE_JOB_SECONDS` (default 1) while it sleeps, stopping
 * when the job's signal aborts, and appends `done <jobId>` (or
 * `cancelled <jobId>`) before it returns a result that passes the
 * coordinator's gates. Every other setting is the SDK's own (`FOREMAN_API_URL`,
 * `FOREMAN_WORKER_TYPE`, …). SIGTERM/SIGINT drain it, then it exits 0; a worker
 * that cannot start exits 1 saying why. The tests run it bundled with the
 * workspace's sources (harness.ts).
 */
import { type RunWorker, runWorker } from "@foreman/worker"
import { appendFileSync } from "node:fs"

const steps = 10
const results: Readonly<Record<string, unknown>> = {
  training: { kind: "classification", testAccuracy: 0.6, testLoss: 0.4 },
  backtest: { sharpeRatio: 1.2, winRate: 0.55, totalReturn: 0.1, totalTrades: 30, maxDrawdown: 0.1, netReturn: 0.09, tradeCount: 30 }
}

const append = (line: string) => appendFileSync(process.env["CONFORMANCE_LOG"]!, `${line}\n`)

/** Sleeps `ms`, rejecting as soon as `signal` aborts. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const aborted = () => {
      clearTimeout(timer)
      reject(new Error("cancelled"))
    }
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", aborted)
      resolve()
    }, ms)
    if (signal.aborted) aborted()
    else signal.addEventListener("abort", aborted, { once: true })
  })

const run: RunWorker.Handler = async (_input, job) => {
  append(`start ${job.jobId} ${job.attempt}`)
  const step = (Number(process.env["CONFORMANCE_JOB_SECONDS"] ?? "1") * 1000) / steps
  try {
    for (let done = 0; done < steps; done++) {
      await job.progress(done / steps, `step ${done + 1}/${steps}`)
      await sleep(step, job.signal)
    }
  } catch (error) {
    if (job.signal.aborted) append(`cancelled ${job.jobId}`)
    throw error
  }
  append(`done ${job.jobId}`)
  return results[job.kind]
}

try {
  const worker = await runWorker({ handlers: { training: run, backtest: run } })
  const stop = () => void worker.stop().then(() => process.exit(0))
  process.once("SIGTERM", stop)
  process.once("SIGINT", stop)
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
}
