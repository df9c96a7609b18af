/**
 * The `foreman` command tree and `run`, which parses a command line, runs the
 * command and answers with the exit code: 0 ok, 1 refused or failed, 2 usage
 * (bad flags or arguments). Failures print one line plus hints on stderr,
 * never a stack trace. All output goes through Effect's `Console`, so tests
 * run commands in-process and capture it.
 */
import { Command, ValidationError } from "@effect/cli"
import type { CliApp } from "@effect/cli"
import type { HttpClient } from "@effect/platform"
import { Cause, Console, Effect, Layer, Option } from "effect"
import * as Client from "./Client.js"
import { agent } from "./commands/agent.js"
import { preflight } from "./commands/preflight.js"
import { server } from "./commands/server.js"
import { simulate } from "./commands/simulate.js"
import { strategies } from "./commands/strategies.js"
import { worker } from "./commands/worker.js"
import { workers } from "./commands/workers.js"

/** The CLI's version (`foreman --version`). */
export const version = "0.1.0"

/** `foreman` and its subcommands. */
export const command = Command.make("foreman").pipe(
  Command.withDescription("Coordinates concurrent research cycles over scarce workers with a shared LLM budget"),
  Command.withSubcommands([server, worker, agent, workers, strategies, preflight, simulate])
)

const cli = Command.run(command, { name: "foreman", version, executable: "foreman" })

/** Exit codes. */
export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const

/** Prints a failure as its line and hints on stderr and answers its exit code. */
const report = (error: unknown): Effect.Effect<number> => {
  if (ValidationError.isValidationError(error)) {
    // @effect/cli has printed the problem and the usage already.
    return Effect.succeed(ExitCode.usage)
  }
  if (error instanceof Client.UsageError) {
    return Effect.as(Console.error(`${error.message}\nSee: foreman --help`), ExitCode.usage)
  }
  if (error instanceof Client.CommandFailed) {
    const lines = [error.message, ...error.hints].filter((line) => line !== "")
    return Effect.as(lines.length === 0 ? Effect.void : Console.error(lines.join("\n")), ExitCode.failed)
  }
  return Effect.as(Console.error(`Unexpected failure: ${Client.messageOf(error)}`), ExitCode.failed)
}

/**
 * Runs the CLI on `argv` (the arguments after the program name, e.g.
 * `["agent", "status", "--json"]`) and answers the exit code. Interruption
 * (Ctrl+C) propagates; the caller treats it as a clean stop. Without an
 * `interactive` terminal, `--wizard` (which asks questions) is a usage error.
 */
export const run = (
  argv: ReadonlyArray<string>,
  options: { readonly interactive?: boolean } = {}
): Effect.Effect<number, never, CliApp.CliApp.Environment | HttpClient.HttpClient> =>
  (argv.includes("--wizard") && options.interactive === false
    ? Effect.fail(
      new Client.UsageError({
        message: "--wizard asks questions and needs an interactive terminal; give the command's flags instead"
      })
    )
    : cli(["node", "foreman", ...argv])).pipe(
    Effect.as(ExitCode.ok),
    Effect.catchAllCause((cause) => {
      if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
      const failure = Cause.failureOption(cause)
      if (Option.isSome(failure)) return report(failure.value)
      return Effect.as(Console.error(`Unexpected failure: ${Client.messageOf(Cause.squash(cause))}`), ExitCode.failed)
    })
  ) as Effect.Effect<number, never, CliApp.CliApp.Environment | HttpClient.HttpClient>

/** What `run` needs besides the platform (`NodeContext`): the HTTP client. */
export const layer: Layer.Layer<HttpClient.HttpClient> = Client.layerHttp
