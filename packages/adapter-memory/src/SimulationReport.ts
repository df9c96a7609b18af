/**
 * What a `Simulation` run answers, and the statistics it is measured with
 * (quantiles, wait figures, figures per simulated day), in a module of their
 * own so that a reader of reports (a plan, the CLI) need not load the
 * simulator. `Simulation` re-exports everything here.
 */

/** A figure per worker type: training and backtest always, then the other types of the run. */
export type PerWorkerType = { readonly training: number; readonly backtest: number } & Readonly<Record<string, number>>

/** How long researches waited for a worker of one type. */
export interface WaitFigures {
  readonly meanSeconds: number
  readonly p50Seconds: number
  readonly p95Seconds: number
  /** How many waits: the waits that ended with a job started, and those still open at the end (counted up to it). */
  readonly count: number
}

export interface SimulationReport {
  readonly seed: number
  readonly researches: number
  /** Sums to `researches`; `notTriggered` counts those still in the line, or yet to arrive, when the horizon came. */
  readonly outcomes: {
    readonly completed: number
    readonly failed: number
    readonly cancelled: number
    readonly active: number
    readonly notTriggered: number
  }
  /**
   * Triggers the coordinator refused, by reason. Researches the operator could not
   * start wait in one first-come-first-served line, and only the head asks: an
   * arrival asks at once when nobody is ahead of it, the head asks again every
   * `retryTriggerEverySeconds`, and the next asks as soon as the head is accepted.
   * So a count is refused requests — about one per retry period for as long as
   * the lab stays full or broke — not one per waiting research per retry.
   */
  readonly refusals: { readonly capacity: number; readonly budget: number }
  readonly invariantViolations: ReadonlyArray<string>
  readonly traceHash: string
  readonly simulatedSeconds: number
  readonly events: number
  /** Busy share of each worker type's time (every type the run has workers of, training and backtest always). */
  readonly utilisation: PerWorkerType
  /** The longest wait for a worker of each type; a wait still open at the end counts up to the end. */
  readonly maxWaitSeconds: PerWorkerType
  /** The waits for a worker of each type the run has workers of (zeros when none waited). */
  readonly waits: Readonly<Record<string, WaitFigures>>
  /**
   * Researches that finished (completed or failed) in each day of the
   * horizon (24 hours from the start each), the first day first (one entry per
   * started day).
   */
  readonly finishedPerDay: ReadonlyArray<number>
  /** USD charged for LLM calls in each simulated day of the horizon, as `finishedPerDay`. */
  readonly spentPerDayUsd: ReadonlyArray<number>
  /** When, in seconds from the start, the coordinator first refused a trigger for the budget; null when it never did. */
  readonly budgetExhaustedAtSeconds: number | null
  readonly workerStarts: number
  readonly coordinatorRestarts: number
  readonly workerCrashes: number
  readonly spentUsd: number
}

/** The `q` quantile (0 to 1) of ascending `sorted` samples, interpolated linearly; 0 without samples. */
export const quantile = (sorted: ReadonlyArray<number>, q: number): number => {
  if (sorted.length === 0) return 0
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  const high = Math.ceil(at)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low)
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits

/** The mean, median and 95th percentile of waits in seconds (rounded to the millisecond), and how many. */
export const waitFigures = (samples: ReadonlyArray<number>): WaitFigures => {
  const sorted = [...samples].sort((a, b) => a - b)
  const mean = sorted.length === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / sorted.length
  return {
    meanSeconds: round(mean, 3),
    p50Seconds: round(quantile(sorted, 0.5), 3),
    p95Seconds: round(quantile(sorted, 0.95), 3),
    count: sorted.length
  }
}

const DAY = 86_400_000

/**
 * Sums `amount` of each `[at, amount]` by day of the window that starts at
 * `start` and lasts `seconds` (one entry per started day, at least one);
 * moments outside the window are left out.
 */
export const perDay = (start: number, seconds: number, items: Iterable<readonly [number, number]>): Array<number> => {
  const days = Math.max(1, Math.ceil((seconds * 1000) / DAY))
  const sums = Array.from({ length: days }, () => 0)
  for (const [at, amount] of items) {
    const day = Math.floor((at - start) / DAY)
    if (day >= 0 && day < days && at - start < seconds * 1000) sums[day]! += amount
  }
  return sums.map((x) => round(x, 4))
}
