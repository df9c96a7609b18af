/**
 * The example training worker: loads the strategy's instrument, computes its
 * indicator features, trains a small neural network on the first 60% of the
 * data and measures it on the next 20% (see `dataset.ts`). The result carries
 * the metrics the training gate reads (`testAccuracy`, `testLoss`,
 * `epochLosses`), more detail, and the trained model for the backtest worker.
 * Training is seeded from the strategy, so the same job gives the same result.
 * A design's `spec.model` (hidden units, epochs, learning rate) overrides the
 * worker's settings.
 */
import type { WorkerHost } from "@foreman/worker"
import { Effect } from "effect"
import * as Dataset from "./dataset.js"
import * as MarketData from "./marketData.js"
import * as Model from "./model.js"
import * as SeededRandom from "./seededRandom.js"
import { decodeStrategy } from "./strategySpec.js"
import type { TrainedModel } from "./trainedModel.js"

/** Hyperparameters of the example network (the seed comes from the strategy). */
export type TrainingSettings = Omit<Model.TrainingOptions, "seed">

export const defaultSettings: TrainingSettings = {
  hiddenUnits: 48,
  epochs: 300,
  batchSize: 32,
  learningRate: 0.0005,
  l2: 0.01
}

const MIN_SAMPLES = 100
const PROGRESS_REPORTS = 20

/**
 * Lets Node's event loop run between epochs, so progress reports, heartbeats
 * and cancellations go out and come in while the job trains. (`Effect.yieldNow`
 * alone resumes on the microtask queue, where no I/O happens.)
 */
const yieldToEventLoop = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

const span = (s: ReadonlyArray<Dataset.Sample>) => ({ from: s[0]?.date ?? null, to: s[s.length - 1]?.date ?? null })

/** Trains on a job input `{ strategy }`, reporting progress between epochs. */
export const train = (
  input: unknown,
  progress: (fraction: number, message?: string) => Effect.Effect<void>,
  settings: TrainingSettings = defaultSettings
) =>
  Effect.gen(function*() {
    const strategy = yield* decodeStrategy(input)
    const { spec } = strategy
    const bars = yield* MarketData.load(spec.instrument)
    const data = Dataset.split(bars, spec)
    if (data.train.length < MIN_SAMPLES || data.test.length < MIN_SAMPLES) {
      return yield* Effect.fail(
        `not enough data for ${strategy.name}: ${data.train.length} training and ${data.test.length} test samples ` +
          `(at least ${MIN_SAMPLES} each); shorten the indicator periods`
      )
    }
    // The backtest needs at least two held-out days; find out before training, not after.
    const holdoutFrom = data.holdout[0]?.date
    if (holdoutFrom === undefined || data.holdout.length < 2) {
      return yield* Effect.fail(`no held-out data left for ${strategy.name} to backtest on`)
    }
    const seed = SeededRandom.hashSeed(JSON.stringify(strategy))
    const tuned: TrainingSettings = { ...settings, ...spec.model }
    const trainer = Model.makeTrainer(
      data.featureNames,
      data.train.map((s) => s.features),
      data.train.map((s) => s.label),
      { ...tuned, seed }
    )
    yield* progress(0, `training on ${data.train.length} samples of ${spec.instrument}`)
    const epochLosses: Array<number> = []
    const every = Math.max(1, Math.ceil(tuned.epochs / PROGRESS_REPORTS))
    for (let epoch = 1; epoch <= tuned.epochs; epoch++) {
      const loss = trainer.epoch()
      epochLosses.push(loss)
      if (epoch % every === 0 && epoch < tuned.epochs) {
        yield* progress(epoch / tuned.epochs, `epoch ${epoch}/${tuned.epochs}, loss ${loss.toFixed(4)}`)
      }
      yield* yieldToEventLoop
    }
    const network = trainer.model()
    const trainMetrics = Model.evaluate(network, data.train.map((s) => s.features), data.train.map((s) => s.label))
    const testMetrics = Model.evaluate(network, data.test.map((s) => s.features), data.test.map((s) => s.label))
    const upShare = (s: ReadonlyArray<{ readonly label: 0 | 1 }>) => s.filter((x) => x.label === 1).length / s.length
    const model: TrainedModel = {
      instrument: spec.instrument,
      indicators: spec.indicators,
      labelHorizonDays: spec.labelHorizonDays,
      holdoutFrom,
      network
    }
    yield* progress(1, `test accuracy ${(testMetrics.accuracy * 100).toFixed(1)}%`)
    return {
      kind: "classification" as const,
      testAccuracy: testMetrics.accuracy,
      testLoss: testMetrics.loss,
      epochLosses,
      trainAccuracy: trainMetrics.accuracy,
      trainLoss: trainMetrics.loss,
      /** Accuracy of always predicting the training window's majority label, for comparison. */
      baselineAccuracy: upShare(data.train) >= 0.5 ? upShare(data.test) : 1 - upShare(data.test),
      samples: { train: data.train.length, test: data.test.length, holdout: data.holdout.length },
      windows: { train: span(data.train), test: span(data.test), holdout: span(data.holdout) },
      features: data.featureNames,
      model
    }
  })

/** The training worker function, for `WorkerHost.runNode`. */
export const trainingWorker = (settings: TrainingSettings = defaultSettings): WorkerHost.WorkerFunction => (job, ctx) =>
  train(job.input, ctx.progress, settings)
