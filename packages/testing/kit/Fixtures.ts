/**
 * Data the test suites share: a strategy design as an LLM designer answers it,
 * and worker results that pass the coordinator's default gates (so a research
 * goes through every phase). Plain values, importable from a test, a fixture
 * process or a fake LLM alike.
 */

/** A strategy design, as a designer returns it. */
export const design = {
  name: "rsi_trend",
  hypothesis: "RSI below 30 precedes a rise in EURUSD within two days.",
  instrument: "EURUSD",
  timeframe: "1d",
  indicators: [{ name: "rsi", parameters: [{ name: "period", value: 14 }] }],
  labelHorizonDays: 2,
  model: {
    family: "mlp",
    parameters: [{ name: "hiddenUnits", value: 16 }, { name: "epochs", value: 100 }, { name: "learningRate", value: 0.01 }]
  }
}

/** A training result that passes the training gate. */
export const passingTraining = { testAccuracy: 0.6, testLoss: 0.4, epochLosses: [0.9, 0.6, 0.45] }

/** A backtest result that passes the backtest gate. */
export const passingBacktest = {
  sharpeRatio: 1.2,
  winRate: 0.55,
  totalReturn: 0.1,
  totalTrades: 30,
  maxDrawdown: 0.1,
  netReturn: 0.09,
  tradeCount: 30
}

/** One LLM answer that decodes as a design and as an assessment (each ignores the other's fields). */
export const designOrAssessment = { ...design, verdict: "promising", summary: "It held up.", nextBrief: "Try RSI on GBPUSD" }
