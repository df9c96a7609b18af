/**
 * `foreman agent …`: trigger, status (once or live), list (history), show,
 * wait, cancel and budget, each a call to the coordinator's API (`wait` and
 * `status --watch` follow its event stream).
 */
import { Args, Command, Options } from "@effect/cli"
import { Domain, Errors } from "@foreman/core"
import { EventStream } from "@foreman/api"
import { Clock, Config, Console, Duration, Effect, Either, Option, Queue, Redacted, Schema, Stream } from "effect"
import * as Client from "../Client.js"
import { CommandFailed, UsageError } from "../Client.js"
import * as Format from "../Format.js"
import * as Csv from "../internal/csv.js"
import { compare } from "./compare.js"
import {
  briefMaxLength,
  client,
  connection,
  invalid,
  orVariable,
  print,
  printJson,
  readNumber
} from "../internal/shared.js"

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
  force: Options.boolean("force").pipe(Options.withDescription("Override the capacity limit and the budget check")),
  parent: optionalText("parent", "The research whose assessment this one follows (its lineage; see agent show)")
}

export const trigger = Command.make("trigger", triggerOptions, (o) =>
  Effect.gen(function*() {
    const brief = Option.filter(o.brief, (b) => b.trim() !== "")
    if (Option.isNone(brief) && Option.isNone(o.strategy)) {
      return yield* new UsageError({ message: "Give --brief \"what to research\" or --strategy NAME" })
    }
    const parentId = Option.isSome(o.parent) ? Option.some(yield* parseId(o.parent.value)) : Option.none()
    const c = yield* client(o)
    const accepted = yield* c.trigger({
      ...Option.match(brief, { onNone: () => ({}), onSome: (b) => ({ brief: b }) }),
      ...Option.match(o.strategy, { onNone: () => ({}), onSome: (s) => ({ strategy: s }) }),
      ...Option.match(o.model, { onNone: () => ({}), onSome: (m) => ({ model: m }) }),
      ...(o.bypassGates ? { bypassGates: true } : {}),
      ...(o.force ? { force: true } : {}),
      ...Option.match(parentId, { onNone: () => ({}), onSome: (p) => ({ parentId: p }) })
    })
    yield* print(o.json, accepted, () => `Research triggered: ${accepted.researchId}`)
  })).pipe(Command.withDescription("Start a research cycle (refused at capacity or over budget unless --force)"))

// --- status ---------------------------------------------------------------------------

const statusOptions = {
  ...connection,
  watch: Options.boolean("watch").pipe(
    Options.withDescription("Redraw live as things happen, with a progress bar per research and those just ended, until Ctrl+C")
  ),
  interval: orVariable(Options.float("interval"), "interval", {
    name: "FOREMAN_STATUS_INTERVAL",
    kind: "a number of seconds",
    read: readNumber,
    check: (seconds) => (Number.isFinite(seconds) && seconds > 0 ? undefined : "a number of seconds > 0")
  }).pipe(
    Options.map(Option.getOrElse(() => 2)),
    Options.withDescription("Seconds between redraws with --watch (env FOREMAN_STATUS_INTERVAL; default 2)")
  )
}

/** How long `--watch` keeps a research that just ended on screen. */
const KEEP_ENDED = 60_000

/** Clears the terminal and moves the cursor home. */
const clearScreen = "\x1b[2J\x1b[H"

export const status = Command.make("status", statusOptions, (o) =>
  Effect.scoped(Effect.gen(function*() {
    const c = yield* client(o)
    const fetch = c.call(c.api.agent.status())
    if (!o.watch) {
      const view = yield* fetch
      return yield* print(o.json, view, () => Format.status(view))
    }
    const every = Duration.seconds(o.interval)
    // Redraw when the event stream says something happened, and at least every interval;
    // without the stream (an older coordinator), every interval only.
    const changed = yield* Queue.sliding<void>(1)
    yield* EventStream.follow({ baseUrl: c.apiUrl, token: Option.getOrUndefined(Option.map(o.token, Redacted.value)) }).pipe(
      Stream.runForEach(() => Queue.offer(changed, undefined)),
      Effect.ignore,
      Effect.forkScoped
    )
    const ended = new Map<string, { readonly line: string; readonly until: number }>()
    let previous: ReadonlyArray<Domain.ResearchId> = []
    // Redraws until interrupted (Ctrl+C); a failed fetch is shown in place and retried.
    return yield* Effect.forever(Effect.gen(function*() {
      const outcome = yield* Effect.either(fetch)
      const nowMillis = yield* Clock.currentTimeMillis
      const now = new Date(nowMillis).toISOString().slice(11, 19)
      if (Either.isRight(outcome)) {
        // A research that just left the active list stays on screen with its outcome for a while.
        const active = outcome.right.active.map((r) => r.id)
        for (const id of previous.filter((id) => !active.includes(id))) {
          const detail = yield* Effect.option(c.call(c.api.agent.show({ path: { id } })))
          if (Option.isSome(detail)) ended.set(id, { line: Format.endedLine(detail.value), until: nowMillis + KEEP_ENDED })
        }
        previous = active
        for (const [id, e] of ended) if (e.until <= nowMillis) ended.delete(id)
      }
      if (o.json) {
        yield* Either.match(outcome, {
          onLeft: (error) => Console.log(JSON.stringify({ at: now, error: error.message })),
          onRight: (view) => Console.log(JSON.stringify(view))
        })
      } else {
        const body = Either.match(outcome, {
          onLeft: (error) => [error.message, ...error.hints].join("\n"),
          onRight: (view) => Format.status(view, { progress: true, ended: [...ended.values()].map((e) => e.line) })
        })
        yield* Console.log(`${clearScreen}Foreman status at ${c.apiUrl}  ${now} UTC  (Ctrl+C to stop)\n\n${body}`)
      }
      yield* Effect.race(Queue.take(changed), Effect.sleep(every))
    }))
  }))).pipe(Command.withDescription("Show every active research, workers, budget and capacity"))

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

// --- list ---------------------------------------------------------------------------------

/** `--since`: an ISO date or date-time, or how long ago (`90m`, `24h`, `7d`). */
export const parseSince = (text: string, now: number): Either.Either<Date, string> => {
  const ago = /^(\d+(?:\.\d+)?)\s*(m|h|d)$/.exec(text.trim())
  if (ago !== null) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as "m" | "h" | "d"]
    return Either.right(new Date(now - Number(ago[1]) * unit))
  }
  const date = new Date(text)
  return Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(text.trim())
    ? Either.left(`--since takes a date (2026-12-01, 2026-12-01T09:30Z) or a time ago (90m, 24h, 7d), got "${text}"`)
    : Either.right(date)
}

const listOptions = {
  ...connection,
  status: Options.choice("status", Domain.ResearchStatus.literals).pipe(
    Options.optional,
    Options.withDescription("Only researches in this status")
  ),
  since: optionalText("since", "Only researches created since a date (2026-12-01) or a time ago (90m, 24h, 7d)"),
  strategy: optionalText("strategy", "Only researches of this strategy"),
  verdict: Options.choice("verdict", ["promising", "inconclusive", "rejected"] as const).pipe(
    Options.optional,
    Options.withDescription("Only researches the assessor gave this verdict")
  ),
  limit: Options.integer("limit").pipe(Options.withDefault(20), Options.withDescription("How many to show, newest first (1-500; default 20)")),
  offset: Options.integer("offset").pipe(Options.withDefault(0), Options.withDescription("How many of the newest to skip (default 0)")),
  format: Csv.format
}

export const list = Command.make("list", listOptions, (o) =>
  Effect.gen(function*() {
    if (o.limit < 1 || o.limit > 500) return yield* new UsageError({ message: `--limit must be from 1 to 500, got ${o.limit}` })
    if (o.offset < 0) return yield* new UsageError({ message: `--offset must be 0 or more, got ${o.offset}` })
    if (o.json && o.format === "csv") return yield* new UsageError({ message: "--json and --format csv: give one of them" })
    const now = yield* Clock.currentTimeMillis
    const since = yield* Option.match(o.since, {
      onNone: () => Effect.succeed(undefined),
      onSome: (text) =>
        Either.match(parseSince(text, now), { onLeft: (message) => new UsageError({ message }), onRight: Effect.succeed })
    })
    const c = yield* client(o)
    const page = yield* c.call(c.api.agent.list({
      urlParams: {
        ...Option.match(o.status, { onNone: () => ({}), onSome: (status) => ({ status }) }),
        ...(since === undefined ? {} : { since }),
        ...Option.match(o.strategy, { onNone: () => ({}), onSome: (strategy) => ({ strategy }) }),
        ...Option.match(o.verdict, { onNone: () => ({}), onSome: (verdict) => ({ verdict }) }),
        limit: o.limit,
        offset: o.offset
      }
    }))
    if (o.format === "csv") return yield* Console.log(Csv.researches(page.researches))
    yield* print(o.json, page, () => Format.researchList(page, now))
  })).pipe(Command.withDescription(
    "Researches, newest first, finished ones too, with how many match and what they cost (--format csv: a row each with its metrics)"
  ))

// --- wait ---------------------------------------------------------------------------------

const waitOptions = {
  ...connection,
  id: researchId,
  timeout: Options.float("timeout").pipe(
    Options.optional,
    Options.withDescription("Give up after this many seconds (exit 1); by default wait as long as it takes")
  )
}

export const wait = Command.make("wait", waitOptions, (o) =>
  Effect.gen(function*() {
    const id = yield* parseId(o.id)
    if (Option.exists(o.timeout, (t) => !(Number.isFinite(t) && t > 0))) {
      return yield* new UsageError({ message: "--timeout must be a number of seconds > 0" })
    }
    const c = yield* client(o)
    const show = c.call(c.api.agent.show({ path: { id } }))
    const ended = (detail: Format.ResearchDetail) => Domain.isTerminalStatus(detail.research.status)
    // Read the research once connected and after each of its events (or a reset): the stream says when to look.
    const follow = EventStream.follow({
      baseUrl: c.apiUrl,
      token: Option.getOrUndefined(Option.map(o.token, Redacted.value))
    }).pipe(
      Stream.filter((event) => event.name === "connected" || event.name === "reset" || researchOf(event) === id),
      Stream.mapEffect(() => show),
      Stream.filter(ended),
      Stream.runHead,
      Effect.flatten,
      Effect.catchTag("NoSuchElementException", () => Effect.dieMessage("the event stream ended")),
      Effect.catchAll((error) => error instanceof CommandFailed ? Effect.fail(error) : Effect.fail(Client.describe(c.apiUrl, error)))
    )
    const first = yield* show
    const last = ended(first) ? first : yield* Option.match(o.timeout, {
      onNone: () => follow,
      onSome: (seconds) =>
        Effect.timeoutFail(follow, {
          duration: Duration.seconds(seconds),
          onTimeout: () =>
            new CommandFailed({ message: `${id} has not ended after ${seconds} s (still ${first.research.phase})`, hints: [] })
        })
    })
    const r = last.research
    const line = `${r.id} ${r.status}${r.strategy === null ? "" : ` (strategy ${r.strategy.name})`}`
    if (r.status === "completed") return yield* print(o.json, last, () => line)
    if (o.json) yield* printJson(last)
    return yield* new CommandFailed({ message: r.error === null ? line : `${line}: ${Format.oneLine(r.error)}`, hints: [] })
  })).pipe(Command.withDescription("Wait until a research ends: exit 0 when it completed, 1 when it failed or was cancelled"))

/** The research an event is about, if any. */
const researchOf = (event: EventStream.StreamEvent): unknown =>
  typeof event.data === "object" && event.data !== null && "researchId" in event.data ? event.data.researchId : undefined

// --- budget -------------------------------------------------------------------------------

export const budget = Command.make("budget", connection, (o) =>
  Effect.gen(function*() {
    const c = yield* client(o)
    const view = yield* c.call(c.api.agent.budget())
    yield* o.json ? printJson(view) : Console.log(Format.budget(view))
  })).pipe(Command.withDescription("Today's LLM spend, what remains, and how many cycles it affords"))

/** `foreman agent`. */
export const agent = Command.make("agent").pipe(
  Command.withDescription("Research cycles: trigger, status, list, show, compare, wait, cancel, budget"),
  Command.withSubcommands([trigger, status, list, show, compare, wait, cancel, budget])
)
