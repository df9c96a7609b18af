/**
 * Labelled samples and their chronological split. Of the bars where every
 * indicator is warm, the first 60% train the model, the next 20% test it and
 * the last 20% are held out for backtests. A gap of `labelHorizonDays` bars
 * separates the windows, so no label looks into the next window's prices.
 */
import * as Features from "./features.js"
import type { Bar } from "./marketData.js"
import type { Indicator } from "./strategySpec.js"

/** One day with its features (and label, when the horizon is inside the data). */
export interface Sample {
  /** Index of the bar in the series. */
  readonly index: number
  readonly date: string
  readonly features: ReadonlyArray<number>
  readonly label: 0 | 1 | null
}

/** Labelled training and test samples, and the held-out samples for backtests. */
export interface Split {
  readonly featureNames: ReadonlyArray<string>
  readonly train: ReadonlyArray<Sample & { readonly label: 0 | 1 }>
  readonly test: ReadonlyArray<Sample & { readonly label: 0 | 1 }>
  readonly holdout: ReadonlyArray<Sample>
}

/** What the features and labels depend on. */
export interface FeatureSpec {
  readonly indicators: ReadonlyArray<Indicator>
  readonly labelHorizonDays: number
}

export const TRAIN_FRACTION = 0.6
export const TEST_FRACTION = 0.2

/** Every bar whose features are all defined, oldest first. */
export const samples = (
  bars: ReadonlyArray<Bar>,
  spec: FeatureSpec
): { readonly featureNames: ReadonlyArray<string>; readonly samples: ReadonlyArray<Sample> } => {
  const matrix = Features.compute(bars, spec.indicators)
  const labels = Features.labels(bars, spec.labelHorizonDays)
  const out: Array<Sample> = []
  matrix.rows.forEach((features, index) => {
    if (features !== null) out.push({ index, date: bars[index]!.date, features, label: labels[index] ?? null })
  })
  return { featureNames: matrix.names, samples: out }
}

const labelled = (s: ReadonlyArray<Sample>) =>
  s.filter((x): x is Sample & { readonly label: 0 | 1 } => x.label !== null)

/** Splits the samples chronologically (train, gap, test, gap, holdout). */
export const split = (bars: ReadonlyArray<Bar>, spec: FeatureSpec): Split => {
  const { featureNames, samples: all } = samples(bars, spec)
  const gap = spec.labelHorizonDays
  const trainEnd = Math.floor(all.length * TRAIN_FRACTION)
  const testEnd = Math.floor(all.length * (TRAIN_FRACTION + TEST_FRACTION))
  return {
    featureNames,
    train: labelled(all.slice(0, Math.max(0, trainEnd - gap))),
    test: labelled(all.slice(trainEnd, Math.max(trainEnd, testEnd - gap))),
    holdout: all.slice(testEnd)
  }
}
