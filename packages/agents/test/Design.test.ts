/**
 * What the workers declare bounds a design: model families (`models`, an object
 * of family → hyper-parameters) as well as indicators, instruments and timeframes.
 */
import { assert, describe, it } from "@effect/vitest"
import { Design } from "../src/index.js"

const design = (family: string): Design.Design => ({
  name: "rsi_forest",
  hypothesis: "RSI extremes revert within three days on EURUSD.",
  instrument: "EURUSD",
  timeframe: "1d",
  indicators: [{ name: "rsi", parameters: [{ name: "period", value: 14 }] }],
  labelHorizonDays: 3,
  model: { family, parameters: [{ name: "n_estimators", value: 200 }] }
})

const workers = [
  {
    workerType: "training",
    capabilities: {
      indicators: ["rsi", "sma"],
      models: { random_forest: { n_estimators: { type: "int", min: 10, max: 1000 } }, mlp: {} }
    }
  },
  { workerType: "backtest", capabilities: { indicators: ["rsi", "sma"] } }
]

describe("Design", () => {
  it("reads the model families the training workers declare", () => {
    assert.deepStrictEqual(Design.supported(workers).models, ["random_forest", "mlp"])
  })

  it("names a model family no worker declares", () => {
    const support = Design.supported(workers)
    assert.deepStrictEqual(Design.unsupported(design("random_forest"), support), [])
    assert.deepStrictEqual(Design.unsupported(design("xgboost"), support), [
      `model family "xgboost" (the workers support random_forest, mlp)`
    ])
  })

  it("gives the workers the family and its hyper-parameters in the strategy's spec", () => {
    assert.deepStrictEqual(Design.toStrategy(design("random_forest")).spec["model"], { family: "random_forest", n_estimators: 200 })
  })
})
