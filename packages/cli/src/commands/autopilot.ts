/** `foreman autopilot start|status|stop`: the autopilot that keeps researches running (`Autopilot` in core). */
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import * as Format from "../Format.js"
import { client, connection, print } from "../internal/shared.js"

const start = Command.make(
  "start",
  {
    ...connection,
    brief: Options.text("brief").pipe(
      Options.withDescription("The brief of a research that follows no assessment (at most 10000 characters)")
    ),
    keep: Options.integer("keep").pipe(Options.withDescription("How many of its researches to keep running (1-100)")),
    max: Options.integer("max").pipe(
      Options.optional,
      Options.withDescription("Stop after starting this many researches (default: until the budget runs out or it is stopped)")
    )
  },
  (o) =>
    Effect.gen(function*() {
      const c = yield* client(o)
      const state = yield* c.call(c.api.agent.autopilotStart({
        payload: {
          brief: o.brief,
          keep: o.keep,
          ...Option.match(o.max, { onNone: () => ({}), onSome: (max) => ({ max }) })
        }
      }))
      yield* print(o.json, state, () =>
        `Autopilot started: keeps ${state.keep} running${state.max === null ? "" : `, at most ${state.max} in all`}`)
    })
).pipe(Command.withDescription(
  "Keep N researches running: each follows the latest promising assessment's next brief, else --brief; " +
    "never forced past capacity or budget; stops at --max or when the budget cannot afford another cycle"
))

const status = Command.make("status", { ...connection }, (o) =>
  Effect.gen(function*() {
    const c = yield* client(o)
    const answer = yield* c.call(c.api.agent.autopilotStatus())
    yield* print(o.json, answer, () => Format.autopilot(answer))
  })).pipe(Command.withDescription("Whether the autopilot runs (or why it stopped), what it started and what runs now"))

const stop = Command.make("stop", { ...connection }, (o) =>
  Effect.gen(function*() {
    const c = yield* client(o)
    const answer = yield* c.call(c.api.agent.autopilotStop())
    yield* print(o.json, answer, () => Format.autopilot(answer))
  })).pipe(Command.withDescription("Stop the autopilot: it starts nothing more, its running researches finish"))

export const autopilot = Command.make("autopilot").pipe(
  Command.withDescription("The autopilot: keeps researches running within capacity and budget (start, status, stop)"),
  Command.withSubcommands([start, status, stop])
)
