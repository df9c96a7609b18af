/**
 * @foreman/server — the HTTP API (contract, server, typed client), the HTTP
 * worker transport, and WorkerHost, the worker-side runtime.
 */
export * as Api from "./Api.js"
export * as WorkerApi from "./WorkerApi.js"
