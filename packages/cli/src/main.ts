/**
 * The `foreman` program: runs the CLI on the process arguments with Node's
 * platform and exits with the CLI's exit code (0 after Ctrl+C); `--wizard`
 * is refused when standard input is not a terminal, instead of hanging.
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Exit, Layer } from "effect"
import * as Cli from "./Cli.js"

Cli.run(process.argv.slice(2), { interactive: process.stdin.isTTY === true }).pipe(
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
