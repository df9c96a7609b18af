/**
 * `foreman agent …`: trigger, status (once or live), cancel, show and budget,
 * each a call to the coordinator's API.
 */
import { Args, Command, Options } from "@effect/cli"
import { Domain, Errors } from "@foreman/core"
import { Clock, Config, Console, Duration, Effect, Either, Option, Schema } from "effect"
import { CommandFailed, UsageError } from "../Client.js"
import * as Format from "../Format.js"
import { briefMaxLength, client, connection, invalid, print, printJson } from "../internal/shared.js"

const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.optional, Options.withDescription(description))

// --- trigger ------------------------------------------------------------------------

const triggerOptions = {
  ...connection,
  brief: Options.text("brief").pipe(
    Options.optional,
    Options.mapEffect((brief) =>
      Option.isSome(brief) && briefMaxLength !== undefined && brief.value.length > briefMaxLength
        ? Effect.fail(invalid(`--brief is ${brief.value.length} characters long; the coordinator takes at most ${briefMaxLength}`))
        : Effect.succeed(brief)
    ),
    Options.withDescription(`What to research, for the designer (at most ${briefMaxLength ?? "10000"} characters)`)
  ),
  strategy: optionalText(
    "strategy",
    "Train a designed strategy by its name (see foreman strategies) instead of designing one"
  ),
  model: Options.text("model").pipe(
    Options.withFallbackConfig(Config.string("FOREMAN_MODEL")),
    Options.optional,
    Options.withDescription("The LLM model for design and assessment (env FOREMAN_MODEL)")
  ),
  bypassGates: Options.boolean("bypass-gates").pipe(
    Options.withDescription("Continue to backtest and assessment even when a gate fails")
  ),
  force: Options.boolean("force").pipe(Options.withDescription("Override the capacity limit and the budget check"))
}

export const trigger = Command.make("trigger", triggerOptions, (o) =>
  Effect.gen(function*() {
    const brief = Option.filter(o.brief, (b) => b.trim() !== "")
    if (Option.isNone(brief) && Option.isNone(o.strategy)) {
      return yield* new UsageError({ message: "Give --brief \"what to research\" or --strategy NAME" })
    }
    const c = yield* client(o)
    const accepted = yield* c.trigger({
      ...Option.match(brief, { onNone: () => ({}), onSome: (b) => ({ brief: b }) }),
      ...Option.match(o.strategy, { onNone: () => ({}), onSome: (s) => ({ strategy: s }) }),
      ...Option.match(o.model, { onNone: () => ({}), onSome: (m) => ({ model: m }) }),
      ...(o.bypassGates ? { bypassGates: true } : {}),
      ...(o.force ? { force: true } : {})
    })
    yield* print(o.json, accepted, () => `Research triggered: ${accepted.researchId}`)
  })).pipe(Command.withDescription("Start a research cycle (refused at capacity or over budget unless --force)"))

// --- status ---------------------------------------------------------------------------

const statusOptions = {
  ...connection,
  watch: Options.boolean("watch").pipe(Options.withDescription("Redraw live with a progress bar per research until Ctrl+C")),
  interval: Options.float("interval").pipe(
    Options.withFallbackConfig(Config.number("FOREMAN_STATUS_INTERVAL")),
    Options.withDefault(2),
    Options.withDescription("Seconds between redraws with --watch (env FOREMAN_STATUS_INTERVAL; default 2)")
  )
}

/** Clears the terminal and moves the cursor home. */
const clearScreen = "\x1b[2J\x1b[H"

export const status = Command.make("status", statusOptions, (o) =>
  Effect.gen(function*() {
    if (!(Number.isFinite(o.interval) && o.interval > 0)) {
      return yield* new UsageError({ message: "--interval must be a number of seconds > 0" })
    }
    const c = yield* client(o)
    const fetch = c.call(c.api.agent.status())
    if (!o.watch) {
      const view = yield* fetch
      return yield* print(o.json, view, () => Format.status(view))
    }
    const every = Duration.seconds(o.interval)
    // Redraws until interrupted (Ctrl+C); a failed fetch is shown in place and retried.
    return yield* Effect.forever(Effect.gen(function*() {
      const outcome = yield* Effect.either(fetch)
      const now = new Date(yield* Clock.currentTimeMillis).toISOString().slice(11, 19)
      if (o.json) {
        yield* Either.match(outcome, {
          onLeft: (error) => Console.log(JSON.stringify({ at: now, error: error.message })),
          onRight: (view) => Console.log(JSON.stringify(view))
        })
      } else {
        const body = Either.match(outcome, {
          onLeft: (error) => [error.message, ...error.hints].join("\n"),
          onRight: (view) => Format.status(view, { progress: true })
        })
        yield* Console.log(`${clearScreen}Foreman status at ${c.apiUrl}  ${now} UTC  (Ctrl+C to stop)\n\n${body}`)
      }
      yield* Effect.sleep(every)
    }))
  })).pipe(Command.withDescription("Show every active research, workers, budget and capacity"))

// --- cancel / show ----------------------------------------------------------------------

const researchId = Args.text({ name: "id" }).pipe(Args.withDescription("The research id (op_…)"))

/** A malformed id names no research: the same answer the coordinator gives for an unknown one. */
const parseId = (id: string) =>
  Effect.mapError(
    Schema.decodeUnknown(Domain.ResearchId)(id),
    () => new CommandFailed({ message: new Errors.ResearchNotFound({ researchId: id }).message, hints: [] })
  )

export const cancel = Command.make("cancel", { ...connection, id: researchId }, (o) =>
  Effect.gen(function*() {
    const id = yield* parseId(o.id)
    const c = yield* client(o)
    const research = yield* c.call(c.api.agent.cancel({ path: { id } }))
    yield* print(o.json, research, () => `Research cancelled: ${research.id}`)
  })).pipe(Command.withDescription("Cancel one research: stops its job and frees its worker"))

export const show = Command.make("show", { ...connection, id: researchId }, (o) =>
  Effect.gen(function*() {
    const id = yield* parseId(o.id)
    const c = yield* client(o)
    const detail = yield* c.call(c.api.agent.show({ path: { id } }))
    const now = yield* Clock.currentTimeMillis
    yield* print(o.json, detail, () => Format.research(detail, now))
  })).pipe(Command.withDescription("One research with its jobs, gates, metrics, assessment, cost and error"))

// --- budget -------------------------------------------------------------------------------

export const budget = Command.make("budget", connection, (o) =>
  Effect.gen(function*() {
    const c = yield* client(o)
    const view = yield* c.call(c.api.agent.budget())
    yield* o.json ? printJson(view) : Console.log(Format.budget(view))
  })).pipe(Command.withDescription("Today's LLM spend, what remains, and how many cycles it affords"))

/** `foreman agent`. */
export const agent = Command.make("agent").pipe(
  Command.withDescription("Research cycles: trigger, status, cancel, show, budget"),
  Command.withSubcommands([trigger, status, cancel, show, budget])
)
