/**
 * `foreman plan`: capacity planning from the coordinator's recorded history.
 * Its options are parsed here; the history is read and the planner (the
 * simulator) loads only when the command runs (`planRun.ts`).
 */
import { Command, Options } from "@effect/cli"
import { DEFAULT_SEEDS, type WhatIfText } from "@foreman/adapter-memory/PlanWhatIf"
import { History } from "@foreman/core"
import { Effect, Either, Option } from "effect"
import { UsageError } from "../Client.js"
import { connection, lazy } from "../internal/shared.js"

/** The options of `foreman plan`, parsed. */
export interface PlanOptions {
  readonly since: string
  readonly until: Option.Option<string>
  readonly seeds: number
  /** The what-ifs as text, in order; empty: the replay only. */
  readonly whatIfs: ReadonlyArray<WhatIfText>
}

/** The most seeds one plan runs. */
export const maxSeeds = 10_000

/**
 * The what-ifs of `--workers`, `--arrivals` and `--budget`: each flag holds
 * one scenario or several separated by `;`, paired by position; a flag with
 * one scenario applies to every what-if. Answers why not when two flags hold
 * different numbers of scenarios above one.
 */
export const whatIfsOf = (flags: {
  readonly workers: Option.Option<string>
  readonly arrivals: Option.Option<string>
  readonly budget: Option.Option<string>
}): Either.Either<ReadonlyArray<WhatIfText>, string> => {
  const split = (o: Option.Option<string>) =>
    Option.match(o, { onNone: () => [], onSome: (text) => text.split(";").map((s) => s.trim()) })
  const parts = { workers: split(flags.workers), arrivals: split(flags.arrivals), budget: split(flags.budget) }
  const counts = Object.entries(parts).filter(([, p]) => p.length > 1)
  const n = Math.max(0, ...Object.values(parts).map((p) => p.length))
  const mismatched = counts.find(([, p]) => p.length !== n)
  if (mismatched !== undefined) {
    return Either.left(
      `--${mismatched[0]} holds ${mismatched[1].length} scenarios and another flag ${n}: give one scenario, or as many as the others (separated by ;)`
    )
  }
  const at = (p: ReadonlyArray<string>, i: number) => (p.length === 0 ? undefined : p.length === 1 ? p[0] : p[i])
  return Either.right(Array.from({ length: n }, (_, i): WhatIfText => ({
    workers: at(parts.workers, i),
    arrivals: at(parts.arrivals, i),
    budget: at(parts.budget, i)
  })))
}

const text = (name: string, description: string) =>
  Options.text(name).pipe(Options.optional, Options.withDescription(description))

export const plan = Command.make(
  "plan",
  {
    ...connection,
    since: Options.text("since").pipe(
      Options.withDefault("7d"),
      Options.withDescription("The window's start: a span back from its end (7d, 36h, 90m, 2w) or an ISO date or date-time (default 7d)")
    ),
    until: text("until", "The window's end, an ISO date or date-time (default: now)"),
    seeds: Options.integer("seeds").pipe(
      Options.withDefault(DEFAULT_SEEDS),
      Options.withDescription(`Seeds per scenario, 1 to ${maxSeeds}: each is one simulated replay of the window (default ${DEFAULT_SEEDS})`)
    ),
    workers: text(
      "workers",
      "What-if worker counts: training=+2,backtest=-1 (change) or training=3 (set); several scenarios separated by ;"
    ),
    arrivals: text("arrivals", "What-if arrivals: the recorded ones scaled, e.g. 2x or 0.5x; several separated by ;"),
    budget: text("budget", "What-if daily budget in USD (0: unlimited); several separated by ;")
  },
  (o) =>
    Effect.gen(function*() {
      const since = History.parseSince(o.since, Number.MAX_SAFE_INTEGER)
      if (Either.isLeft(since)) return yield* Effect.fail(new UsageError({ message: `--${since.left}` }))
      if (Option.isSome(o.until) && Number.isNaN(Date.parse(o.until.value))) {
        return yield* Effect.fail(new UsageError({ message: `--until: expected an ISO 8601 date or date-time, got ${JSON.stringify(o.until.value)}` }))
      }
      if (o.seeds < 1 || o.seeds > maxSeeds) return yield* Effect.fail(new UsageError({ message: `--seeds must be 1 to ${maxSeeds}, got ${o.seeds}` }))
      const whatIfs = yield* Either.match(whatIfsOf(o), { onLeft: (message) => Effect.fail(new UsageError({ message })), onRight: Effect.succeed })
      const run = yield* lazy(() => import("./planRun.js"))
      yield* run.plan({ ...o, whatIfs })
    })
).pipe(Command.withDescription(
  "Predict waits, throughput and cost from the recorded history: replays the window (--since) with its workers " +
    "over many seeds beside what was observed, then each what-if (--workers, --arrivals, --budget), with the spread across seeds"
))
