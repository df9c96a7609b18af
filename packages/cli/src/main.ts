/**
 * The `foreman` program: runs the CLI on the process arguments with Node's
 * platform and exits with the CLI's exit code (0 after Ctrl+C or SIGTERM);
 * `--wizard` is refused when standard input is not a terminal, instead of
 * hanging. SIGHUP stops it like SIGINT and SIGTERM. Colour and screen control reach only a terminal, and not with
 * `NO_COLOR` set; when the reader of stdout or stderr goes away
 * (`foreman … | head`), the command stops quietly with exit 0.
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Config, Effect, Exit, Layer, Option } from "effect"
import * as Cli from "./Cli.js"
import * as Terminal from "./internal/terminal.js"

const platform = Layer.merge(NodeContext.layer, Cli.layer)

/**
 * SIGHUP (the terminal closed): stop like Ctrl+C, so that a server stops its
 * workers and database (runMain handles SIGINT and SIGTERM the same way).
 */
const hangUp = Effect.async<void>((resume) => {
  const onHangUp = () => resume(Effect.void)
  process.once("SIGHUP", onHangUp)
  return Effect.sync(() => process.off("SIGHUP", onHangUp))
})

/**
 * The runtime stops at the first SIGINT or SIGTERM and then stops listening, so
 * a second one would kill the process mid-stop — and one often comes: Ctrl+C
 * reaches the whole process group, and `npm start` forwards the signal it got
 * as well. A second signal is let pass; a third forces the exit.
 */
let stopSignals = 0
const onStopSignal = () => {
  if (++stopSignals >= 3) process.exit(130)
}
process.on("SIGINT", onStopSignal)
process.on("SIGTERM", onStopSignal)

const program = Effect.gen(function*() {
  const noColor = Option.getOrUndefined(yield* Config.option(Config.string("NO_COLOR")).pipe(Effect.orElseSucceed(Option.none)))
  const console = Terminal.console(yield* Effect.console, {
    stdout: Terminal.colourful(process.stdout, noColor),
    stderr: Terminal.colourful(process.stderr, noColor)
  })
  const run = Cli.run(process.argv.slice(2), { interactive: process.stdin.isTTY === true }).pipe(Effect.withConsole(console))
  return yield* Effect.raceAll([
    run,
    Effect.as(Terminal.closedOutput, Cli.ExitCode.ok),
    Effect.as(hangUp, Cli.ExitCode.ok)
  ])
})

program.pipe(
  Effect.provide(platform),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    teardown: (exit, onExit) =>
      onExit(
        Exit.isSuccess(exit)
          ? (exit.value as number)
          : Cause.isInterruptedOnly(exit.cause)
          ? Cli.ExitCode.ok
          : Cli.ExitCode.failed
      )
  })
)

