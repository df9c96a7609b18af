/**
 * @foreman/api — the HTTP contract of a Foreman coordinator and of its
 * workers, a typed Effect client derived from it, and a Promise client for
 * code that does not use Effect; `EventStream` follows its live events.
 */
export * as Api from "./Api.js"
export * as Client from "./Client.js"
export * as EventStream from "./EventStream.js"
export * as HttpFailure from "./HttpFailure.js"
export * as PromiseClient from "./PromiseClient.js"
export * as WorkerApi from "./WorkerApi.js"
export * as WorkersApi from "./WorkersApi.js"
export { createClient } from "./PromiseClient.js"
