/** `foreman strategies`: the strategy catalogue, newest first, with each strategy's best metrics. */
import { Command } from "@effect/cli"
import { Effect } from "effect"
import * as Format from "../Format.js"
import { client, connection, print } from "../internal/shared.js"

export const strategies = Command.make("strategies", connection, (o) =>
  Effect.gen(function*() {
    const c = yield* client(o)
    const list = yield* c.call(c.api.agent.strategies())
    yield* print(o.json, list, () => Format.strategies(list))
  })).pipe(
    Command.withDescription(
      "List designed strategies, newest first, with their best metrics; reuse one with: foreman agent trigger --strategy NAME"
    )
  )
