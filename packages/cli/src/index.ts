/**
 * The `foreman` command line's modules, for its tests: its command tree (run
 * it in-process with `Cli.run`), the coordinator client it uses, the
 * pre-flight checks, local worker processes, and the text layouts. The
 * package publishes only the bundled program (docs/cli.md, "Using it from
 * code"), not these.
 */
export * as Cli from "./Cli.js"
export * as Client from "./Client.js"
export * as Format from "./Format.js"
export * as LocalWorkers from "./LocalWorkers.js"
export * as Preflight from "./Preflight.js"
