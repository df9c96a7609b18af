/**
 * A plan's what-ifs: other worker counts (`training=+2,backtest=-1`, or
 * absolute `training=3`), arrivals scaled (`2x`), another daily budget (`20`,
 * USD; 0 unlimited), read from text as the CLI and the dashboard take them,
 * against the worker types a history knows.
 */
import type { History } from "@foreman/core"
import { Either } from "effect"

/**
 * Seeds a plan runs per scenario by default: 10, not 50, because one seed of a
 * week of a small lab costs about 1.3 s of CPU (docs/simulation.md), so a
 * replay and one what-if take about 25 s.
 */
export const DEFAULT_SEEDS = 10

/** One scenario: the workers, the arrival factor and the budget it runs with. */
export interface WhatIf {
  /** What it changes, as asked (`training=+2 arrivals=2x`). */
  readonly label: string
  /** Job slots per worker type. */
  readonly workers: Readonly<Record<string, number>>
  /** 1: the recorded arrivals. */
  readonly arrivalsFactor: number
  /** USD per day; 0: unlimited. */
  readonly dailyBudgetUsd: number
}

/** A what-if as text; every part optional (absent: as recorded). */
export interface WhatIfText {
  readonly workers?: string | undefined
  readonly arrivals?: string | undefined
  readonly budget?: string | undefined
}

const MAX_WORKERS = 1000
const MAX_FACTOR = 20

/** Worker counts changed as `text` says (`type=+n`, `type=-n` or `type=n`, comma-separated). */
export const parseWorkers = (
  text: string,
  recorded: Readonly<Record<string, number>>
): Either.Either<Record<string, number>, string> => {
  const workers: Record<string, number> = { ...recorded }
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p.length > 0)) {
    const m = /^([a-z][a-z0-9_-]*)=([+-]?)(\d{1,4})$/.exec(part)
    if (m === null) return Either.left(`--workers: expected type=+n, type=-n or type=n (e.g. training=+2,backtest=-1); got ${JSON.stringify(part)}`)
    const [, type, sign, digits] = m as unknown as [string, string, string, string]
    const known = recorded[type]
    if (known === undefined) {
      return Either.left(`--workers: unknown worker type ${JSON.stringify(type)} (the history knows ${Object.keys(recorded).join(", ") || "none"})`)
    }
    const n = Number(digits)
    const count = sign === "+" ? (workers[type] ?? 0) + n : sign === "-" ? (workers[type] ?? 0) - n : n
    if (count < 0) return Either.left(`--workers: ${part} leaves ${count} ${type} workers`)
    if (count > MAX_WORKERS) return Either.left(`--workers: ${part} asks for more than ${MAX_WORKERS} ${type} workers`)
    workers[type] = count
  }
  return Either.right(workers)
}

/** An arrival factor: `2x`, `0.5x` or `2` (more than 0, at most 20). */
export const parseArrivals = (text: string): Either.Either<number, string> => {
  const m = /^(\d+(?:\.\d+)?|\.\d+)x?$/i.exec(text.trim())
  const factor = m === null ? Number.NaN : Number(m[1])
  if (!(factor > 0 && factor <= MAX_FACTOR)) {
    return Either.left(`--arrivals: expected a factor above 0 and at most ${MAX_FACTOR}, such as 2x or 0.5x; got ${JSON.stringify(text)}`)
  }
  return Either.right(factor)
}

/** A daily budget in USD (0: unlimited). */
export const parseBudget = (text: string): Either.Either<number, string> => {
  const usd = /^\$?\d+(\.\d+)?$/.test(text.trim()) ? Number(text.trim().replace("$", "")) : Number.NaN
  return Number.isFinite(usd) ? Either.right(usd) : Either.left(`--budget: expected USD per day (0: unlimited), such as 20; got ${JSON.stringify(text)}`)
}

/** The what-if `text` describes, over the workers and budget `history` recorded. */
export const whatIf = (history: History.History, text: WhatIfText): Either.Either<WhatIf, string> =>
  Either.gen(function*() {
    const workers = text.workers === undefined ? { ...history.workers } : yield* parseWorkers(text.workers, history.workers)
    const arrivalsFactor = text.arrivals === undefined ? 1 : yield* parseArrivals(text.arrivals)
    const dailyBudgetUsd = text.budget === undefined ? history.dailyBudgetUsd : yield* parseBudget(text.budget)
    const label = [
      ...(text.workers === undefined ? [] : [text.workers.split(",").map((p) => p.trim()).join(",")]),
      ...(text.arrivals === undefined ? [] : [`arrivals=${arrivalsFactor}x`]),
      ...(text.budget === undefined ? [] : [`budget=$${dailyBudgetUsd}`])
    ].join(" ") || "as recorded"
    return { label, workers, arrivalsFactor, dailyBudgetUsd }
  })
