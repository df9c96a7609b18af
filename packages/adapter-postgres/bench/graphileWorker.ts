/**
 * graphile-worker (0.18) as a baseline beside our engine, on the same
 * PostgreSQL server, measured the way graphile-worker's own perfTest does
 * (github.com/graphile/worker, perfTest/run.js, init.js and latencyTest.js):
 * - {@link jobsPerSecond}: `jobs` no-op jobs are queued up front with one
 *   `add_jobs` call (init.js), then a pool runs until the queue is empty
 *   (`graphile-worker --once`); the time of the same run on an empty queue
 *   (start-up and shut-down) is subtracted, as run.js does;
 * - {@link addToStart}: a running pool, 100 warm-up jobs and a second to
 *   settle, then one job at a time: the time from calling `addJob` to its task
 *   function starting (latencyTest.js, which reports min/avg/max; here p50/p99).
 *
 * Settings, those of perfTest/graphile.config.js with batching off (graphile's
 * own defaults, hence "unbatched"): concurrentJobs 24, a pool of 25 connections
 * (maxPoolSize: one more than the concurrency, for LISTEN), localQueue off (size -1),
 * completeJobBatchDelay -1 and failJobBatchDelay -1 (each job completed by its
 * own query), gracefulShutdownAbortTimeout 2500 ms. One pool in this process,
 * where run.js starts 4 `--once` processes side by side.
 *
 * Each function drops and recreates its own database on the server of
 * `connectionString` (`graphile_worker_throughput`, `graphile_worker_latency`),
 * runs graphile-worker's migrations there, and has stopped graphile-worker and
 * closed every connection when it returns: graphile-worker runs on a pg pool of
 * ours, because one of its own is ended without being waited for, and a server
 * stopped right after would then crash the process with an unhandled pool error.
 */
import { Effect } from "effect"
import { Logger, makeWorkerUtils, run, runMigrations, runOnce, type RunnerOptions, type TaskList } from "graphile-worker"
import { Pool } from "pg"
import * as Table from "../../../bench/table.js"
import * as Postgres from "../src/Postgres.js"

const concurrentJobs = 24
const maxPoolSize = concurrentJobs + 1

const preset: GraphileConfig.Preset = {
  worker: {
    concurrentJobs,
    localQueue: { size: -1 },
    completeJobBatchDelay: -1,
    failJobBatchDelay: -1,
    gracefulShutdownAbortTimeout: 2500,
    logger: new Logger(() => () => {})
  }
}

const ignore = () => {}

/**
 * Recreates database `name`, migrates it, and runs `f` with graphile-worker's
 * options (a new object on each call: they are compiled and cached by
 * identity) on a pool of its own, closed when `f` is done.
 */
const withDatabase = async <A>(url: string, name: string, f: (options: () => RunnerOptions) => Promise<A>) => {
  const connectionString = await Effect.runPromise(Postgres.recreateDatabase(url, name))
  const pgPool = new Pool({ connectionString, max: maxPoolSize })
  // As graphile-worker does on its own pools (where it only logs): pg drops a broken idle client, a busy one fails its query.
  pgPool.on("error", ignore)
  pgPool.on("connect", (client) => client.on("error", ignore))
  const options = (): RunnerOptions => ({ pgPool, preset, noHandleSignals: true })
  try {
    await runMigrations(options())
    return await f(options)
  } finally {
    await pgPool.end()
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Jobs per second of no-op jobs, `jobs` of them queued before the pool starts (perfTest runs 200,000). */
export const jobsPerSecond = (connectionString: string, jobs: number): Promise<number> =>
  withDatabase(connectionString, "graphile_worker_throughput", async (options) => {
    let done = 0
    const tasks: TaskList = { noop: () => void done++ }
    const timed = async (work: () => Promise<void>) => {
      const t0 = performance.now()
      await work()
      return performance.now() - t0
    }
    const startup = await timed(() => runOnce(options(), tasks))
    const utils = await makeWorkerUtils(options())
    try {
      await utils.addJobs(Array.from({ length: jobs }, (_, id) => ({ identifier: "noop", payload: { id } })))
    } finally {
      await utils.release()
    }
    const elapsed = await timed(() => runOnce(options(), tasks))
    if (done !== jobs) throw new Error(`graphile-worker ran ${done} of ${jobs} jobs`)
    return jobs / ((elapsed - startup) / 1000)
  })

/** Milliseconds from `addJob` to the task starting, one job at a time, over `rounds` jobs (perfTest: 1,000). */
export const addToStart = (connectionString: string, rounds: number): Promise<{ p50: number; p99: number }> =>
  withDatabase(connectionString, "graphile_worker_latency", async (options) => {
    const waiting = new Map<number, (startedAt: number) => void>()
    const tasks: TaskList = {
      latency: (payload) => waiting.get((payload as { id: number }).id)?.(performance.now())
    }
    const started = (id: number) => new Promise<number>((resolve) => waiting.set(id, resolve))
    const runner = await run(options(), tasks, [])
    const utils = await makeWorkerUtils(options())
    try {
      const warmUp = Array.from({ length: 100 }, (_, i) => started(-1 - i))
      await utils.addJobs(Array.from({ length: 100 }, (_, i) => ({ identifier: "latency", payload: { id: -1 - i } })))
      await Promise.all(warmUp)
      await sleep(1000)
      const latencies: Array<number> = []
      for (let id = 0; id < rounds; id++) {
        const start = started(id)
        const t0 = performance.now()
        await utils.addJob("latency", { id })
        latencies.push((await start) - t0)
      }
      return { p50: Table.percentile(latencies, 50), p99: Table.percentile(latencies, 99) }
    } finally {
      await utils.release()
      await runner.stop()
    }
  })
