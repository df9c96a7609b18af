/**
 * The pure half of `npm run plan-accuracy`: reading `foreman plan --json`,
 * deciding whether each observed figure of a real run falls inside the plan's
 * predicted p5–p95 spread, and the table that shows it with the spread's width
 * (a prediction is only as useful as it is narrow).
 */
import { Either, ParseResult, Schema } from "effect"

/** A figure's distribution over the plan's seeds. */
export const Spread = Schema.Struct({ p5: Schema.Number, p50: Schema.Number, p95: Schema.Number, mean: Schema.Number })
export type Spread = typeof Spread.Type

/** What the plan predicts for one set of workers: the figures checked here (its other fields are ignored). */
export const Prediction = Schema.Struct({
  researchesFinished: Spread,
  waits: Schema.Record({ key: Schema.String, value: Schema.Struct({ meanSeconds: Spread }) })
})
export type Prediction = typeof Prediction.Type

/** The part of `foreman plan --json` read here. */
export const PlanReport = Schema.Struct({
  since: Schema.String,
  until: Schema.String,
  seeds: Schema.Number,
  observed: Schema.Struct({
    researchesFinished: Schema.Number,
    waits: Schema.Record({
      key: Schema.String,
      value: Schema.Struct({ meanSeconds: Schema.Number, count: Schema.Number })
    })
  }),
  replay: Prediction,
  whatIfs: Schema.Array(Schema.extend(Prediction, Schema.Struct({ label: Schema.String })))
})
export type PlanReport = typeof PlanReport.Type

/** `foreman plan --json`'s output, decoded; throws an Error naming what is missing or wrong. */
export const decodePlan = (text: string): PlanReport => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new Error(`foreman plan --json printed no JSON: ${text.slice(0, 300)}`)
  }
  const decoded = Schema.decodeUnknownEither(PlanReport)(json)
  if (Either.isLeft(decoded)) {
    throw new Error(`foreman plan --json has another shape than expected:\n${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`)
  }
  return decoded.right
}

/** The what-if of `label` in a plan report; throws when the plan did not answer it. */
export const whatIf = (report: PlanReport, label: string): Prediction => {
  const found = report.whatIfs.find((w) => w.label === label)
  if (found === undefined) {
    throw new Error(`the plan has no what-if "${label}" (it has: ${report.whatIfs.map((w) => w.label).join(", ") || "none"})`)
  }
  return found
}

/** What a real run showed, measured from its researches' jobs. */
export interface Observed {
  /** Researches that ended their pipeline (completed or failed), as the plan counts them. */
  readonly researchesFinished: number
  /** Per worker type: the mean time a job waited for a worker (dispatch − queued), over `count` jobs. */
  readonly waits: Readonly<Record<string, { readonly meanSeconds: number; readonly count: number }>>
}

/** One observed figure against its predicted spread. */
export interface Check {
  readonly measure: string
  readonly observed: number
  /** Undefined when the plan predicted nothing for it (the check fails). */
  readonly predicted: Spread | undefined
  readonly inside: boolean
}

/** Whether `value` lies within [p5, p95]. */
export const inside = (value: number, spread: Spread): boolean => spread.p5 <= value && value <= spread.p95

/**
 * The checks of a run against a prediction: the mean queue wait of each worker
 * type that had jobs, then the researches finished.
 */
export const checks = (observed: Observed, prediction: Prediction): ReadonlyArray<Check> => {
  const waits = Object.entries(observed.waits)
    .filter(([, wait]) => wait.count > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, wait]): Check => {
      const predicted = prediction.waits[type]?.meanSeconds
      return {
        measure: `mean queue wait, ${type} (s)`,
        observed: wait.meanSeconds,
        predicted,
        inside: predicted !== undefined && inside(wait.meanSeconds, predicted)
      }
    })
  const finished = prediction.researchesFinished
  return [
    ...waits,
    {
      measure: "researches finished",
      observed: observed.researchesFinished,
      predicted: finished,
      inside: inside(observed.researchesFinished, finished)
    }
  ]
}

/** The spread's width, p95 − p5, and that width as a percentage of p50 (undefined when p50 is 0). */
export const width = (spread: Spread): { readonly absolute: number; readonly percentOfMedian: number | undefined } => ({
  absolute: spread.p95 - spread.p5,
  percentOfMedian: spread.p50 === 0 ? undefined : ((spread.p95 - spread.p5) / Math.abs(spread.p50)) * 100
})

/** Whole numbers as they are; below 1 to the millisecond (a wait of a few ms must not print as 0); else one decimal. */
const number = (value: number): string =>
  Number.isInteger(value) ? String(value) : Math.abs(value) < 1 ? value.toFixed(3) : value.toFixed(1)

/** The checks as an aligned text table (one header line, one line per check). */
export const table = (rows: ReadonlyArray<Check>): string => {
  const header = ["measure", "observed", "p5", "p50", "p95", "width (p95-p5)", "width % of p50", "inside?"]
  const lines = rows.map((row) => {
    const p = row.predicted
    const w = p === undefined ? undefined : width(p)
    return [
      row.measure,
      number(row.observed),
      p === undefined ? "-" : number(p.p5),
      p === undefined ? "-" : number(p.p50),
      p === undefined ? "-" : number(p.p95),
      w === undefined ? "-" : number(w.absolute),
      w?.percentOfMedian === undefined ? "-" : `${Math.round(w.percentOfMedian)} %`,
      row.inside ? "yes" : p === undefined ? "NO (not predicted)" : "NO"
    ]
  })
  const all = [header, ...lines]
  const widths = header.map((_, i) => Math.max(...all.map((cells) => cells[i]!.length)))
  return all.map((cells) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")).join("\n")
}
