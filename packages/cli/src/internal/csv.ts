/**
 * Output as CSV, for a notebook (`--format csv`): RFC 4180 fields (a header
 * row, commas, fields with a comma, quote or line break quoted, quotes
 * doubled) on lines ended by `\n`, empty for a missing value, numbers as they are (fractions stay fractions), times in ISO 8601,
 * and the rows `foreman strategies` and `foreman agent list` print.
 */
import { Options } from "@effect/cli"
import type { Api } from "@foreman/api"
import { Domain } from "@foreman/core"
import { Option, Schema } from "effect"

/** `--format text|csv`: how a list is printed (`--json` is its own flag). */
export const format = Options.choice("format", ["text", "csv"] as const).pipe(
  Options.withDefault("text" as const),
  Options.withDescription("text (a table, the default) or csv (a header row and a row per item, for a notebook)")
)

type Cell = string | number | boolean | null | undefined

const field = (value: Cell): string => {
  const text = value === null || value === undefined ? "" : String(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, "\"\"")}"` : text
}

/** A CSV document: the header row, then a row per item (no line break after the last). */
export const csv = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<Cell>>): string =>
  [headers, ...rows].map((row) => row.map(field).join(",")).join("\n")

const iso = (millis: number | null): string | null => (millis === null ? null : new Date(millis).toISOString())

/** The leaderboard: a strategy per row with its best research's metrics. */
export const strategies = (list: ReadonlyArray<typeof Api.StrategySummary.Type>): string =>
  csv(
    [
      "name",
      "instrument",
      "indicators",
      "researches",
      "sharpeRatio",
      "totalReturn",
      "maxDrawdown",
      "winRate",
      "totalTrades",
      "testAccuracy",
      "verdict",
      "costUsd",
      "bestResearchId",
      "totalCostUsd",
      "designedBy",
      "createdAt"
    ],
    list.map((s) => [
      s.name,
      s.instrument,
      s.indicators.join(";"),
      s.researches,
      s.top?.sharpeRatio,
      s.top?.totalReturn,
      s.top?.maxDrawdown,
      s.top?.winRate,
      s.top?.totalTrades,
      s.top?.testAccuracy,
      s.top?.verdict,
      s.top?.costUsd,
      s.top?.researchId,
      s.costUsd,
      s.researchId,
      iso(s.createdAt)
    ])
  )

const decodeBacktest = Schema.decodeUnknownOption(Domain.BacktestResult)
const decodeTraining = Schema.decodeUnknownOption(Domain.TrainingResult)
const decodeAssessment = Schema.decodeUnknownOption(Domain.Assessment)

/** `agent list`: a research per row with its metrics, verdict and cost. */
export const researches = (list: ReadonlyArray<Domain.Research>): string =>
  csv(
    [
      "id",
      "status",
      "phase",
      "strategy",
      "verdict",
      "sharpeRatio",
      "totalReturn",
      "maxDrawdown",
      "winRate",
      "totalTrades",
      "testAccuracy",
      "costUsd",
      "createdAt",
      "finishedAt",
      "brief"
    ],
    list.map((r) => {
      const b = Option.getOrNull(decodeBacktest(r.results["backtest"]))
      const t = Option.getOrNull(decodeTraining(r.results["training"]))
      return [
        r.id,
        r.status,
        r.phase,
        r.strategy?.name,
        Option.getOrNull(Option.map(decodeAssessment(r.results["assessment"]), (a) => a.verdict)),
        b?.sharpeRatio,
        b?.totalReturn,
        b?.maxDrawdown,
        b?.winRate,
        b?.totalTrades,
        t?.testAccuracy,
        r.costUsd,
        iso(r.createdAt),
        iso(r.finishedAt),
        r.brief
      ]
    })
  )
