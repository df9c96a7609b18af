/**
 * What `foreman plan` does once its options are parsed: reads the recorded
 * history from the coordinator, checks each what-if against it, plans, and
 * prints the plan (text or JSON).
 */
import type { HttpClient } from "@effect/platform"
import { Plan } from "@foreman/adapter-memory"
import { Effect, Either, Option } from "effect"
import { CommandFailed, UsageError } from "../Client.js"
import type { ConnectionOptions } from "../internal/shared.js"
import { client, print } from "../internal/shared.js"
import * as PlanFormat from "../PlanFormat.js"
import type { PlanOptions } from "./plan.js"

/** Reads the history of the window, plans from it and prints the plan. */
export const plan = (
  o: PlanOptions & ConnectionOptions & { readonly json: boolean }
): Effect.Effect<void, CommandFailed | UsageError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const c = yield* client(o)
    const history = yield* c.call(c.api.agent.history({
      urlParams: {
        since: o.since,
        ...Option.match(o.until, { onNone: () => ({}), onSome: (until) => ({ until: new Date(until) }) })
      }
    }))
    const whatIfs = yield* Effect.forEach(o.whatIfs, (text) =>
      Either.match(Plan.whatIf(history, text), {
        onLeft: (message) => Effect.fail(new UsageError({ message })),
        onRight: Effect.succeed
      }))
    const report = yield* Plan.run(history, { seeds: o.seeds, whatIfs }).pipe(
      Effect.mapError((message) => new CommandFailed({ message, hints: [] }))
    )
    yield* print(o.json, report, () => PlanFormat.plan(report))
  })
