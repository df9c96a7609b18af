/** `foreman preflight`: are the coordinator and its workers ready for research? */
import { Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { CommandFailed } from "../Client.js"
import { client, connection, printJson } from "../internal/shared.js"
import * as Preflight from "../Preflight.js"

export const preflight = Command.make("preflight", connection, (o) =>
  Effect.gen(function*() {
    // A coordinator that cannot be reached fails check 1: the report still comes out.
    const report = yield* client(o).pipe(
      Effect.matchEffect({
        onFailure: (failure) =>
          failure._tag === "UsageError" ? Effect.fail(failure) : Effect.succeed(Preflight.unreachable(failure)),
        onSuccess: Preflight.run
      })
    )
    yield* o.json ? printJson(report) : Console.log(Preflight.format(report))
    if (!report.ok) return yield* new CommandFailed({ message: "", hints: [] })
  })).pipe(Command.withDescription(
    "Check the coordinator and its workers: reachable and registered, both worker types, none in error or offline, endpoints answer"
  ))
