/**
 * The `foreman` command tree and `run`, which parses a command line, runs the
 * command and answers with the exit code: 0 ok, 1 refused or failed, 2 usage
 * (bad flags or arguments). Failures print one line plus hints on stderr,
 * never a stack trace. `--help` (and a group without its command) prints the
 * help of `internal/help.ts`; a mistyped command or flag, or a value of the
 * wrong kind, is found before anything runs and answered in one line (exit 2).
 * `--log-level LEVEL` is taken anywhere before `--`, before or after the
 * command and its flags.
 * All output goes through Effect's `Console`, so tests run commands in-process
 * and capture it.
 */
import { Command, ValidationError } from "@effect/cli"
import type { CliApp } from "@effect/cli"
import type { HttpClient } from "@effect/platform"
import { Cause, Console, Data, Effect, Layer, Logger, LogLevel, Option } from "effect"
import * as Help from "./internal/help.js"
import * as Client from "./Client.js"
import { agent } from "./commands/agent.js"
import { autopilot } from "./commands/autopilot.js"
import { preflight } from "./commands/preflight.js"
import { server } from "./commands/server.js"
import { plan } from "./commands/plan.js"
import { simulate } from "./commands/simulate.js"
import { strategies } from "./commands/strategies.js"
import { worker } from "./commands/worker.js"
import { workers } from "./commands/workers.js"

/** The CLI's version (`foreman --version`). */
export const version = "0.1.0"

/** `foreman` and its subcommands. */
export const command = Command.make("foreman").pipe(
  Command.withDescription("Coordinates concurrent research cycles over scarce workers with a shared LLM budget"),
  Command.withSubcommands([server, worker, agent, autopilot, workers, strategies, preflight, simulate, plan])
)

const cli = Command.run(command, { name: "foreman", version, executable: "foreman" })

/** The command tree as help and mistakes are read from it (built on first use). */
let tree: Help.Node | undefined
const commandTree = (): Help.Node => (tree ??= Help.tree(command.descriptor))

/** Whether argv asks for help (`--help` or `-h` before any `--`). */
const asksHelp = (argv: ReadonlyArray<string>): boolean => {
  const end = argv.indexOf("--")
  return (end < 0 ? argv : argv.slice(0, end)).some((word) => word === "--help" || word === "-h")
}

/**
 * `console` whose error lines lose their trailing newlines: @effect/cli ends
 * the usage errors it prints with a blank line, and a mistake should be one line.
 */
const oneLineErrors = (console: Console.Console): Console.Console => ({
  ...console,
  error: (...args) => console.error(...args.map((arg) => (typeof arg === "string" ? arg.replace(/\n+$/, "") : arg)))
})

/** Exit codes. */
export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const

/** A mistake on the command line, found before running anything: one line, exit code 2. */
class Mistake extends Data.TaggedError("Mistake")<{ readonly message: string }> {}

/**
 * `argv` without its `--log-level LEVEL` (or `--log-level=LEVEL`) before any
 * `--`, and the level the last one names. @effect/cli takes the flag only
 * right after a command name; here it may come anywhere. Its value was
 * checked already (`Help.mistake`).
 */
const takeLogLevel = (
  argv: ReadonlyArray<string>
): { readonly rest: ReadonlyArray<string>; readonly level: Option.Option<LogLevel.LogLevel> } => {
  const rest: Array<string> = []
  let level = Option.none<LogLevel.LogLevel>()
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!
    if (word === "--") {
      rest.push(...argv.slice(i))
      break
    }
    const match = /^--log-level(?:=(.*))?$/i.exec(word)
    if (match === null) {
      rest.push(word)
      continue
    }
    const name = match[1] ?? argv[++i] ?? ""
    level = Option.orElse(
      Option.fromNullable(LogLevel.allLevels.find((l) => l._tag.toLowerCase() === name.toLowerCase())),
      () => level
    )
  }
  return { rest, level }
}

/** Prints a failure of the command at `where` (`foreman agent trigger`) as its line and hints on stderr and answers its exit code. */
const report = (error: unknown, where: string): Effect.Effect<number> => {
  if (ValidationError.isValidationError(error)) {
    // @effect/cli has printed the problem and the usage already.
    return Effect.succeed(ExitCode.usage)
  }
  if (error instanceof Mistake) return Effect.as(Console.error(error.message), ExitCode.usage)
  if (error instanceof Client.UsageError) {
    const lines = [error.message, ...(error.hints ?? [`See: ${where} --help`])]
    return Effect.as(Console.error(lines.join("\n")), ExitCode.usage)
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
): Effect.Effect<number, never, CliApp.CliApp.Environment | HttpClient.HttpClient> => {
  const root = commandTree()
  const { node, unknown } = Help.locate(root, argv)
  return Effect.suspend((): Effect.Effect<
    void,
    Mistake | Client.UsageError | Client.CommandFailed | ValidationError.ValidationError,
    CliApp.CliApp.Environment | HttpClient.HttpClient
  > => {
    if (argv.includes("--wizard") && options.interactive === false) {
      return Effect.fail(
        new Client.UsageError({
          message: "--wizard asks questions and needs an interactive terminal; give the command's flags instead"
        })
      )
    }
    if (unknown === undefined && asksHelp(argv)) return Console.log(Help.render(node, version))
    const mistake = Help.mistake(root, argv)
    if (mistake !== undefined) return Effect.fail(new Mistake({ message: mistake }))
    // A group without its command (`foreman agent`): its help, unless a built-in such as --completions asks for more.
    if (node.children.length > 0 && !argv.some((word) => /^--(completions|wizard|version)(=|$)/.test(word))) {
      return Console.log(Help.render(node, version))
    }
    const { level, rest } = takeLogLevel(argv)
    const command = Effect.flatMap(
      Effect.console,
      (console) => Effect.withConsole(cli(["node", "foreman", ...rest]), oneLineErrors(console))
    )
    return Option.match(level, { onNone: () => command, onSome: (l) => Logger.withMinimumLogLevel(command, l) })
  }).pipe(
    Effect.as(ExitCode.ok),
    Effect.catchAllCause((cause) => {
      if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
      const failure = Cause.failureOption(cause)
      if (Option.isSome(failure)) return report(failure.value, node.path.join(" "))
      return Effect.as(Console.error(`Unexpected failure: ${Client.messageOf(Cause.squash(cause))}`), ExitCode.failed)
    })
  ) as Effect.Effect<number, never, CliApp.CliApp.Environment | HttpClient.HttpClient>
}

/** What `run` needs besides the platform (`NodeContext`): the HTTP client. */
export const layer: Layer.Layer<HttpClient.HttpClient> = Client.layerHttp
