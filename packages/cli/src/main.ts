/**
 * The `foreman` program: runs the CLI on the process arguments with Node's
 * platform and exits with the CLI's exit code (0 after Ctrl+C). `--wizard`
 * prompts, so without a terminal to answer it is a usage error, not a hang.
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Exit, Layer } from "effect"
import * as Cli from "./Cli.js"

const argv = process.argv.slice(2)

if (argv.includes("--wizard") && !process.stdin.isTTY) {
  process.stderr.write("--wizard asks questions and needs an interactive terminal; give the command's flags instead\nSee: foreman --help\n")
  process.exit(Cli.ExitCode.usage)
}

Cli.run(argv).pipe(
  Effect.provide(Layer.merge(NodeContext.layer, Cli.layer)),
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
