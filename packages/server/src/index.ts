/**
 * @foreman/server — the HTTP API (contract, server, typed client), the HTTP
 * worker transport, and WorkerHost, the worker-side runtime.
 */
export * as Api from "./Api.js"
export * as WorkerApi from "./WorkerApi.js"
export * as HttpWorkerTransport from "./HttpWorkerTransport.js"
export * as JobQueue from "./JobQueue.js"
export * as ResourcePool from "./ResourcePool.js"
export * as WorkerConfig from "./WorkerConfig.js"
export * as WorkerHost from "./WorkerHost.js"
export * as ApiServer from "./ApiServer.js"
export * as Server from "./Server.js"
