/**
 * `foreman plan`'s text: the replay of the recorded window set against what
 * was observed, with a one-line verdict of how far to trust it, then a table
 * per what-if with each figure's median and p5–p95 spread across seeds.
 */
import type { Plan } from "@foreman/adapter-memory"
import { duration, iso, percent, table, usd } from "./format/text.js"

type Spread = Plan.Spread

const DAY = 86_400_000

/** `12m 5s–20m 0s`, as `show` writes each end. */
const range = (s: Spread, show: (n: number) => string): string => `${show(s.p5)}–${show(s.p95)}`

const count = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1))

/** Whether an observed figure falls inside a predicted spread, give or take what the table can show (`slack`). */
const inside = (observed: number, s: Spread, slack: number): boolean =>
  observed >= s.p5 - slack - 1e-9 && observed <= s.p95 + slack + 1e-9

/** `14:20` from an hour of the day. */
const hourOfDay = (hour: number): string => {
  const minutes = Math.round(hour * 60) % (24 * 60)
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`
}

/** The replay against the observed figures, with the verdict. */
const replayTable = (report: Plan.PlanReport): Array<string> => {
  const { observed, replay } = report
  const rows: Array<{
    readonly name: string
    readonly seen: number
    readonly predicted: Spread
    readonly show: (n: number) => string
    readonly slack: number
  }> = [
    { name: "researches finished", seen: observed.researchesFinished, predicted: replay.researchesFinished, show: count, slack: 0 },
    { name: "LLM cost", seen: observed.costUsd, predicted: replay.costUsd, show: usd, slack: 0.005 }
  ]
  for (const [type, w] of Object.entries(replay.waits)) {
    const seen = observed.waits[type]
    if (seen === undefined || seen.count === 0) continue
    rows.push({ name: `${type} wait p50`, seen: seen.p50Seconds, predicted: w.p50Seconds, show: duration, slack: 1 })
    rows.push({ name: `${type} wait p95`, seen: seen.p95Seconds, predicted: w.p95Seconds, show: duration, slack: 1 })
  }
  const hits = rows.filter((r) => inside(r.seen, r.predicted, r.slack)).length
  return [
    table(
      ["", "observed", "predicted p50", "p5–p95", ""],
      rows.map((r) => [
        r.name,
        r.show(r.seen),
        r.show(r.predicted.p50),
        range(r.predicted, r.show),
        inside(r.seen, r.predicted, r.slack) ? "inside" : "OUTSIDE"
      ])
    ),
    verdict(hits, rows.length)
  ]
}

/** How far to trust the plan, from how many observed figures fall inside the replay's spread. */
export const verdict = (hits: number, total: number): string =>
  total === 0
    ? "Verdict: nothing to compare (no worker job in the window)."
    : hits === total
    ? `Verdict: trust it — all ${total} observed figures fall inside the replay's p5–p95 spread.`
    : hits * 2 >= total
    ? `Verdict: trust it roughly — ${hits} of ${total} observed figures fall inside the replay's p5–p95 spread; ` +
      "read the what-ifs as directions more than figures."
    : `Verdict: do not trust the figures — only ${hits} of ${total} observed figures fall inside the replay's ` +
      "p5–p95 spread (a short history, or a lab that changed within the window)."

/** One what-if's table. */
const whatIfTable = (w: Plan.WhatIfResult, seeds: number): Array<string> => {
  const workers = Object.entries(w.workers).map(([t, n]) => `${t}=${n}`).join(" ")
  const budget = w.dailyBudgetUsd === 0 ? "unlimited" : `${usd(w.dailyBudgetUsd)}/day`
  const row = (name: string, s: Spread, show: (n: number) => string) => [name, show(s.p50), range(s, show)]
  const rows = [
    row("researches per day", w.researchesPerDay, (n) => n.toFixed(1)),
    row("cost per day", w.costPerDayUsd, usd)
  ]
  for (const [type, u] of Object.entries(w.utilisation)) rows.push(row(`${type} utilisation`, u, (n) => percent(n, 0)))
  for (const [type, s] of Object.entries(w.waits)) {
    rows.push(row(`${type} wait p50`, s.p50Seconds, duration), row(`${type} wait p95`, s.p95Seconds, duration))
  }
  rows.push(
    w.budgetExhaustedHour === null
      ? ["budget runs out", "never", ""]
      : [
        "budget runs out (UTC)",
        hourOfDay(w.budgetExhaustedHour.p50),
        `${range(w.budgetExhaustedHour, hourOfDay)} in ${w.budgetExhaustedSeeds} of ${seeds} seeds`
      ]
  )
  return [
    `What-if ${w.label}: workers ${workers}, arrivals ${w.arrivalsFactor}x, budget ${budget}`,
    table(["", "p50", "p5–p95"], rows)
  ]
}

/** `7.0 days`, or `36.0 hours` below two days. */
const span = (millis: number): string =>
  millis >= 2 * DAY ? `${(millis / DAY).toFixed(1)} days` : `${(millis / 3_600_000).toFixed(1)} hours`

/** The plan as text. */
export const plan = (report: Plan.PlanReport): string => {
  const since = Date.parse(report.since)
  const until = Date.parse(report.until)
  const workers = Object.entries(report.observed.workers).map(([t, n]) => `${t}=${n}`).join(" ")
  return [
    `Plan from ${iso(since)} to ${iso(until)} (${span(until - since)}): ` +
    `${report.observed.arrivals} researches arrived, workers ${workers}; ${report.seeds} seeds per scenario`,
    "",
    "Replay of the recorded window with the recorded workers, against what was observed:",
    ...replayTable(report),
    ...report.whatIfs.flatMap((w) => ["", ...whatIfTable(w, report.seeds)])
  ].join("\n")
}
