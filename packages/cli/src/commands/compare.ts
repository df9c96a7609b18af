/**
 * `foreman agent compare ID ID…`: researches side by side — a column each,
 * a row per figure (status, strategy, verdict, the backtest's and training's
 * metrics, cost) — or their details as JSON (`agent show --json`, one each).
 */
import { Args, Command } from "@effect/cli"
import { Domain, Errors } from "@foreman/core"
import { Effect, Option, Schema } from "effect"
import { CommandFailed } from "../Client.js"
import * as Format from "../Format.js"
import { client, connection, print } from "../internal/shared.js"

const ids = Args.text({ name: "id" }).pipe(
  Args.atLeast(2),
  Args.withDescription("Two or more research ids (op_…), shown in this order")
)

const decodeTraining = Schema.decodeUnknownOption(Domain.TrainingResult)
const decodeBacktest = Schema.decodeUnknownOption(Domain.BacktestResult)
const decodeAssessment = Schema.decodeUnknownOption(Domain.Assessment)

const orDash = <A>(value: Option.Option<A>, show: (a: A) => string): string =>
  Option.match(value, { onNone: () => "-", onSome: show })

/** The comparison table: a row per figure, a column per research (`-` where it reported none). */
export const comparison = (details: ReadonlyArray<Format.ResearchDetail>): string => {
  const columns = details.map((d) => {
    const r = d.research
    const b = decodeBacktest(r.results["backtest"])
    const t = decodeTraining(r.results["training"])
    const pick = (f: (x: Domain.BacktestResult) => number | undefined, show: (n: number) => string) =>
      orDash(Option.flatMap(b, (x) => Option.fromNullable(f(x))), show)
    return [
      r.status,
      r.strategy?.name ?? "-",
      orDash(decodeAssessment(r.results["assessment"]), (a) => a.verdict),
      pick((x) => x.sharpeRatio, (n) => n.toFixed(2)),
      pick((x) => x.totalReturn, (n) => Format.percent(n)),
      pick((x) => x.buyAndHoldReturn, (n) => Format.percent(n)),
      pick((x) => x.maxDrawdown, (n) => Format.percent(n)),
      pick((x) => x.winRate, (n) => Format.percent(n)),
      pick((x) => x.totalTrades, String),
      orDash(t, (x) => Format.percent(x.testAccuracy)),
      orDash(t, (x) => x.testLoss.toFixed(3)),
      Format.usd(r.costUsd)
    ]
  })
  const labels = [
    "status",
    "strategy",
    "verdict",
    "sharpe",
    "return",
    "buy-and-hold",
    "drawdown",
    "win rate",
    "trades",
    "accuracy",
    "loss",
    "cost"
  ]
  return Format.table(["", ...details.map((d) => d.research.id)], labels.map((label, i) => [label, ...columns.map((c) => c[i]!)]))
}

export const compare = Command.make("compare", { ...connection, ids }, (o) =>
  Effect.gen(function*() {
    const parsed = yield* Effect.forEach(o.ids, (id) =>
      Effect.mapError(
        Schema.decodeUnknown(Domain.ResearchId)(id),
        () => new CommandFailed({ message: new Errors.ResearchNotFound({ researchId: id }).message, hints: [] })
      ))
    const c = yield* client(o)
    const details = yield* Effect.forEach(parsed, (id) => c.call(c.api.agent.show({ path: { id } })), { concurrency: 4 })
    yield* print(o.json, details, () => comparison(details))
  })).pipe(
    Command.withDescription(
      "Researches side by side: a column each, with status, strategy, verdict, Sharpe, return, buy-and-hold, drawdown, " +
        "win rate, trades, accuracy, loss and cost (the dashboard's /compare?ids=… overlays their equity curves)"
    )
  )
