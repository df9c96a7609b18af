import { assert, describe, it } from "@effect/vitest"
import { Domain, ForemanConfig, Gates } from "@foreman/core"
import { Effect, Schema } from "effect"
import { train, trainingWorker } from "../src/trainingWorker.js"
import { exampleWorkers } from "../src/workers.js"
import { job, mixOnSpx, noProgress, quick, recordingContext, rsiOnEurusd } from "./helpers.js"

const withSpec = (spec: Record<string, unknown>) => ({ strategy: { name: "bad", spec: { ...rsiOnEurusd.spec, ...spec } } })

describe("training worker", () => {
  it.effect("trains a real model whose metrics the core training gate evaluates", () =>
    Effect.gen(function*() {
      const { ctx, reports } = yield* recordingContext
      const started = Date.now()
      const raw = yield* exampleWorkers.training(job("training", { brief: "RSI on EURUSD", strategy: rsiOnEurusd }), ctx)
      const seconds = (Date.now() - started) / 1000
      const result = yield* Schema.decodeUnknown(Domain.TrainingResult)(raw)
      assert.isTrue(result.testAccuracy > 0.4 && result.testAccuracy < 0.7, `test accuracy ${result.testAccuracy}`)
      assert.isTrue(result.testLoss > 0.5 && result.testLoss < 0.8, `test loss ${result.testLoss}`)
      const losses = result.epochLosses ?? []
      assert.strictEqual(losses.length, 300)
      assert.isTrue(losses.every(Number.isFinite))
      assert.deepStrictEqual(Gates.training(result, ForemanConfig.defaultGates), {
        passed: true,
        reason: null,
        bypassed: false
      })
      // Loss falls overall: the last tenth of the epochs is below the first tenth.
      const mean = (xs: ReadonlyArray<number>) => xs.reduce((s, x) => s + x, 0) / xs.length
      assert.isTrue(mean(losses.slice(-30)) < mean(losses.slice(0, 30)))
      const full = raw as { trainAccuracy: number; samples: { train: number; test: number }; model: unknown }
      assert.isTrue(full.trainAccuracy > 0.5)
      assert.isTrue(full.samples.train > 1400 && full.samples.test > 450)
      assert.isDefined(full.model)
      assert.isTrue(seconds < 60)
      const progress = yield* reports
      assert.isTrue(progress.length >= 10)
      assert.deepStrictEqual(progress.map((p) => p.fraction), [...progress.map((p) => p.fraction)].sort((a, b) => a - b))
      assert.strictEqual(progress[progress.length - 1]?.fraction, 1)
      assert.match(progress[1]?.message ?? "", /^epoch \d+\/300, loss 0\.\d{4}$/)
    }))

  it.effect("gives the same result for the same input, and another for another strategy", () =>
    Effect.gen(function*() {
      const first = yield* train({ strategy: mixOnSpx }, noProgress, quick)
      const second = yield* train({ strategy: mixOnSpx }, noProgress, quick)
      assert.deepStrictEqual(second, first)
      // Storage may reorder keys (PostgreSQL's jsonb does) and add unknown ones: the seed does not change.
      const reordered = {
        spec: {
          timeframe: "1d",
          instrument: "SPX",
          labelHorizonDays: 3,
          indicators: mixOnSpx.spec.indicators.map((i) => Object.fromEntries(Object.entries(i).reverse())),
          note: "ignored"
        },
        name: mixOnSpx.name
      }
      assert.deepStrictEqual((yield* train({ strategy: reordered }, noProgress, quick)).epochLosses, first.epochLosses)
      const renamed = yield* train({ strategy: { ...mixOnSpx, name: "mix_other" } }, noProgress, quick)
      assert.notDeepEqual(renamed.epochLosses, first.epochLosses)
      assert.deepStrictEqual(first.features, [
        "log_return_1d",
        "macd12_26_9_line",
        "macd12_26_9_histogram",
        "bollinger20_2_percent_b",
        "bollinger20_2_bandwidth",
        "momentum20_over_close"
      ])
    }))

  it.effect("lets the event loop run while it trains, so progress reports go out", () =>
    Effect.gen(function*() {
      const { ctx } = yield* recordingContext
      let ticks = 0
      const timer = setInterval(() => ticks++, 1)
      yield* trainingWorker({ ...quick, epochs: 100 })(job("training", { strategy: mixOnSpx }), ctx).pipe(
        Effect.ensuring(Effect.sync(() => clearInterval(timer)))
      )
      assert.isTrue(ticks > 10, `${ticks} timer callbacks ran during training`)
    }))

  it.effect("fills textbook defaults for parameters the designer left out", () =>
    Effect.gen(function*() {
      const result = yield* train(withSpec({ indicators: [{ name: "macd" }, { name: "stochastic" }] }), noProgress, quick)
      assert.deepStrictEqual(result.model.indicators, [
        { name: "macd", fast: 12, slow: 26, signal: 9 },
        { name: "stochastic", period: 14, smoothing: 3, signal: 3 }
      ])
    }))

  it.effect("fails malformed jobs with clear messages", () =>
    Effect.gen(function*() {
      const failure = (input: unknown) => Effect.flip(train(input, noProgress, quick))
      assert.strictEqual(
        yield* failure({ brief: "x", strategy: null }),
        "the job input has no strategy (expected { strategy: { name, spec } })"
      )
      assert.strictEqual(yield* failure(undefined), "the job input has no strategy (expected { strategy: { name, spec } })")
      assert.strictEqual(
        yield* failure(withSpec({ indicators: [{ name: "rsi" }, { name: "ichimoku", period: 9 }] })),
        "unknown indicator \"ichimoku\": the example workers know rsi, macd, sma, ema, bollinger, atr, stochastic, momentum"
      )
      assert.strictEqual(yield* failure(withSpec({ indicators: [] })), "the strategy names no indicators")
      assert.strictEqual(
        yield* failure(withSpec({ instrument: "DOGEUSD" })),
        "unknown instrument \"DOGEUSD\": the example workers ship data for EURUSD, GBPUSD, USDJPY, SPX"
      )
      assert.include(yield* failure(withSpec({ timeframe: "1h" })), "unsupported timeframe \"1h\"")
      assert.include(
        yield* failure(withSpec({ indicators: [{ name: "macd", fast: 30, slow: 10 }] })),
        "macd needs fast < slow (got 30/10)"
      )
      const badPeriod = yield* failure(withSpec({ indicators: [{ name: "rsi", period: -3 }] }))
      assert.match(badPeriod, /^invalid indicator parameters: 0\.period: /)
    }))

  it.effect("fails through the worker function, without crashing it", () =>
    Effect.gen(function*() {
      const { ctx } = yield* recordingContext
      const error = yield* Effect.flip(exampleWorkers.training(job("training", { brief: "x" }), ctx))
      assert.strictEqual(error, "the job input has no strategy (expected { strategy: { name, spec } })")
    }))
})
