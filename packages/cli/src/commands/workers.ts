/** `foreman workers`: the registered workers as a table. */
import { Command, Options } from "@effect/cli"
import { Domain } from "@foreman/core"
import { Console, Effect, Option } from "effect"
import * as Format from "../Format.js"
import { client, connection, printJson } from "../internal/shared.js"

const workerStatuses = Domain.WorkerStatus.literals

export const workers = Command.make(
  "workers",
  {
    ...connection,
    type: Options.text("type").pipe(Options.optional, Options.withDescription("Only workers of this type (training, backtest, …)")),
    status: Options.choice("status", workerStatuses).pipe(Options.optional, Options.withDescription("Only workers in this status"))
  },
  (o) =>
    Effect.gen(function*() {
      const c = yield* client(o)
      const list = yield* c.call(c.api.workers.list({
        urlParams: {
          ...Option.match(o.type, { onNone: () => ({}), onSome: (type) => ({ type }) }),
          ...Option.match(o.status, { onNone: () => ({}), onSome: (status) => ({ status }) })
        }
      }))
      yield* o.json ? printJson(list) : Console.log(Format.workers(list))
    })
).pipe(Command.withDescription("List registered workers: id, type, status, endpoint, current jobs"))
