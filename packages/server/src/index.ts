/**
 * @foreman/server — the coordinator's HTTP API server, the HTTP worker
 * transport, and `Server`, which composes a coordinator from the parts it is
 * given (storage, agents) with its API, its event stream (`EventLog`), and
 * its metrics, traces and log format (`Observability`).
 */
export * as ApiServer from "./ApiServer.js"
export * as EventLog from "./EventLog.js"
export * as HttpWorkerTransport from "./HttpWorkerTransport.js"
export * as Observability from "./Observability.js"
export * as Server from "./Server.js"
