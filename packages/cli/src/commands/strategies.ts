/**
 * `foreman strategies`: the strategy leaderboard — every catalogued strategy
 * with its best research's metrics, sorted by one of them (newest first by
 * default), filtered by indicator, instrument and verdict; as a table, JSON
 * (the summaries) or CSV.
 */
import { Command, Options } from "@effect/cli"
import { StrategyCatalogue } from "@foreman/core"
import { Console, Effect, Option } from "effect"
import { UsageError } from "../Client.js"
import * as Format from "../Format.js"
import * as Csv from "../internal/csv.js"
import { client, connection, printJson } from "../internal/shared.js"

const options = {
  ...connection,
  sort: Options.choice("sort", StrategyCatalogue.LeaderboardSort.literals).pipe(
    Options.withDefault("createdAt" as const),
    Options.withDescription(
      "Rank by this metric of each strategy's best research, the best first (highest; the shallowest maxDrawdown, " +
        "the cheapest costUsd, names A to Z); default createdAt (newest first)"
    )
  ),
  limit: Options.integer("limit").pipe(
    Options.optional,
    Options.withDescription("Show at most this many, from the top (1-1000; default 100)")
  ),
  indicator: Options.text("indicator").pipe(
    Options.optional,
    Options.withDescription("Only strategies whose spec names this indicator (rsi, macd, …; any case)")
  ),
  instrument: Options.text("instrument").pipe(
    Options.optional,
    Options.withDescription("Only strategies on this instrument (any case)")
  ),
  verdict: Options.choice("verdict", ["promising", "inconclusive", "rejected"] as const).pipe(
    Options.optional,
    Options.withDescription("Only strategies whose best research got this verdict")
  ),
  format: Csv.format
}

export const strategies = Command.make("strategies", options, (o) =>
  Effect.gen(function*() {
    const limit = Option.getOrElse(o.limit, () => 100)
    if (limit < 1 || limit > 1000) return yield* new UsageError({ message: `--limit must be from 1 to 1000, got ${limit}` })
    if (o.json && o.format === "csv") return yield* new UsageError({ message: "--json and --format csv: give one of them" })
    const c = yield* client(o)
    const board = yield* c.call(c.api.agent.leaderboard({
      urlParams: {
        sort: o.sort,
        limit,
        ...Option.match(o.indicator, { onNone: () => ({}), onSome: (indicator) => ({ indicator }) }),
        ...Option.match(o.instrument, { onNone: () => ({}), onSome: (instrument) => ({ instrument }) }),
        ...Option.match(o.verdict, { onNone: () => ({}), onSome: (verdict) => ({ verdict }) })
      }
    }))
    if (o.json) return yield* printJson(board.strategies)
    if (o.format === "csv") return yield* Console.log(Csv.strategies(board.strategies))
    const more = board.total > board.strategies.length
      ? `\n\n${board.strategies.length} of ${board.total} strategies (--limit shows more)`
      : ""
    yield* Console.log(Format.strategies(board.strategies) + more)
  })).pipe(
    Command.withDescription(
      "The strategy leaderboard: every designed strategy with its best research's metrics (Sharpe, return, drawdown, " +
        "win rate, trades, verdict, cost), newest first or --sort METRIC; reuse one with: foreman agent trigger --strategy NAME"
    )
  )
