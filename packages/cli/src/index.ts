/**
 * @foreman/cli — the `foreman` command line: its command tree (run it
 * in-process with `Cli.run`), the coordinator client it uses, the pre-flight
 * checks, local worker processes, and the text layouts.
 */
export * as Cli from "./Cli.js"
export * as Client from "./Client.js"
export * as Format from "./Format.js"
export * as LocalWorkers from "./LocalWorkers.js"
export * as Preflight from "./Preflight.js"
