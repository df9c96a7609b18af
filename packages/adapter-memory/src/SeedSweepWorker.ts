/**
 * The entry of a seed sweep's worker thread. `SeedSweep` starts a worker on
 * this module's own file (`entry`): from `dist` that is this module, in the
 * `foreman` bundle the chunk that holds it, from the TypeScript sources this
 * file under tsx. Imported in a thread that `SeedSweep` started (its
 * `workerData` carries `marker`), it serves seeds: each message is a seed to
 * run, each answer that seed's row. Imported anywhere else it does nothing.
 */
import { Effect } from "effect"
import { isMainThread, type MessagePort, parentPort, workerData } from "node:worker_threads"
import { runSeed } from "./internal/seedRun.js"
import type { SimulationSpec } from "./SimulationOptions.js"

/** The key in `workerData` that makes a thread a sweep worker. */
export const marker = "@foreman/adapter-memory/SeedSweepWorker"

/** What a sweep worker is started with: the sweep's settings (plain data: they cross a thread). */
export interface SweepWorkerData {
  readonly [marker]: true
  readonly spec: SimulationSpec
}

/** The URL of this module's file: the entry a sweep's worker threads run. */
export const entry: URL = new URL(import.meta.url)

const isSweepWorkerData = (data: unknown): data is SweepWorkerData =>
  typeof data === "object" && data !== null && (data as Record<string, unknown>)[marker] === true

/** Answers each seed it is sent with that seed's row, one at a time. */
const serve = (port: MessagePort, spec: SimulationSpec) =>
  port.on("message", (seed: number) => {
    void Effect.runPromise(runSeed(spec, seed)).then((row) => port.postMessage(row))
  })

if (!isMainThread && parentPort !== null && isSweepWorkerData(workerData)) serve(parentPort, workerData.spec)
