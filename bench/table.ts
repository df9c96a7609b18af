/**
 * The one way Foreman's benchmarks print: a Markdown table per benchmark, a row
 * per measure with its value, its target, the baseline it is compared with
 * (measured in the same run, since figures move with the machine's load) and
 * whether the target is met. `npm run bench` runs every package's benchmark;
 * the README shows one full run.
 */

export interface Row {
  readonly measure: string
  readonly value: string
  /** What the value should be; empty for a row that is itself a baseline. */
  readonly target?: string
  /** What it is compared with, measured in the same run. */
  readonly baseline?: string
  /** Whether the target is met; absent for a row without a target. */
  readonly met?: boolean
}

/** Prints a benchmark's title and its table's head. */
export const begin = (title: string): void => {
  console.log(`\n### ${title}\n`)
  console.log("| measure | value | target | baseline (same run) | met |")
  console.log("| --- | --- | --- | --- | --- |")
}

/** Prints one row, as soon as it is measured. */
export const row = ({ baseline = "", measure, met, target = "", value }: Row): void => {
  const verdict = met === undefined ? "" : met ? "yes" : "**no**"
  console.log(`| ${measure} | ${value} | ${target} | ${baseline} | ${verdict} |`)
}

/** The `p`th percentile of `xs` (nearest rank). */
export const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** Milliseconds with two decimals. */
export const ms = (x: number): string => `${x.toFixed(2)} ms`

/** A count with thousands separators. */
export const count = (x: number): string => Math.round(x).toLocaleString("en-US")

/** `a / b` as `1.23×`. */
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`
