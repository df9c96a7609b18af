/**
 * @foreman/worker — the worker SDK: `WorkerHost` turns a job handler into a
 * worker process (registration, polling for jobs — or serving them on the
 * legacy push protocol —, heartbeats, idempotent jobs on a bounded pool,
 * progress, cancel, drain), with its `JobQueue`, `ResourcePool` and
 * `WorkerConfig`; `runWorker` is the same for Promise code.
 */
export * as JobQueue from "./JobQueue.js"
export * as ResourcePool from "./ResourcePool.js"
export * as RunWorker from "./RunWorker.js"
export * as WorkerConfig from "./WorkerConfig.js"
export * as WorkerHost from "./WorkerHost.js"
export { runWorker } from "./RunWorker.js"
