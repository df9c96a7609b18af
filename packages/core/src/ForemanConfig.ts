/**
 * Engine configuration, read through `Config` (the environment by default).
 * Preferred names come first; deprecated aliases are accepted with a warning.
 * Invalid values fail at start with a message naming the variable.
 */
import { Config, ConfigError, Context, Effect, Layer, Option } from "effect"

/** Gate thresholds (REFERENCE.md). */
export interface GateThresholds {
  readonly trainingMinAccuracy: number
  readonly trainingMaxLoss: number
  readonly trainingMaxLossIncrease: number
  readonly regressionMinDirectionalAccuracy: number
  readonly backtestMinWinRate: number
  readonly backtestMaxDrawdown: number
  readonly backtestMinSharpe: number
  readonly regressionMinTrades: number
}

export interface ForemanConfigShape {
  readonly pollIntervalSeconds: number
  readonly maxConcurrentResearches: number
  readonly concurrencyBuffer: number
  readonly dailyBudgetUsd: number
  readonly cycleCostEstimateUsd: number
  readonly heartbeatIntervalSeconds: number
  readonly workerOfflineAfterSeconds: number
  readonly workerRemoveAfterSeconds: number
  /** How long a worker job may go unclaimed by a live worker before it is declared lost. */
  readonly orphanGraceSeconds: number
  /** Infrastructure failures (lost worker, failed dispatch) tolerated per phase. */
  readonly maxJobAttempts: number
  readonly retryBackoffSeconds: number
  readonly retryBackoffMaxSeconds: number
  readonly gates: GateThresholds
}

export const defaultGates: GateThresholds = {
  trainingMinAccuracy: 0.1,
  trainingMaxLoss: 0.8,
  trainingMaxLossIncrease: 0.5,
  regressionMinDirectionalAccuracy: 0.5,
  backtestMinWinRate: 0.1,
  backtestMaxDrawdown: 0.4,
  backtestMinSharpe: -0.5,
  regressionMinTrades: 5
}

export const defaults: ForemanConfigShape = {
  pollIntervalSeconds: 2,
  maxConcurrentResearches: 0,
  concurrencyBuffer: 1,
  dailyBudgetUsd: 5,
  cycleCostEstimateUsd: 0.15,
  heartbeatIntervalSeconds: 10,
  workerOfflineAfterSeconds: 30,
  workerRemoveAfterSeconds: 300,
  orphanGraceSeconds: 60,
  maxJobAttempts: 3,
  retryBackoffSeconds: 5,
  retryBackoffMaxSeconds: 60,
  gates: defaultGates
}

/** The engine's configuration service. */
export class ForemanConfig extends Context.Tag("@foreman/core/ForemanConfig")<ForemanConfig, ForemanConfigShape>() {}

/** Deep-enough merge of overrides onto the defaults (for tests and embedding). */
export const make = (overrides: Partial<Omit<ForemanConfigShape, "gates">> & {
  readonly gates?: Partial<GateThresholds>
} = {}): ForemanConfigShape => ({
  ...defaults,
  ...overrides,
  gates: { ...defaultGates, ...overrides.gates }
})

/** A layer with fixed values. */
export const layerWith = (overrides: Parameters<typeof make>[0] = {}): Layer.Layer<ForemanConfig> =>
  Layer.succeed(ForemanConfig, make(overrides))

/**
 * Reads a number from `name`, else from the first deprecated alias present (warning
 * once), else the default. Values must satisfy `valid`.
 */
export const numberWithAliases = (
  name: string,
  aliases: ReadonlyArray<string>,
  fallback: number,
  valid: (n: number) => boolean = (n) => n >= 0,
  expected = "a number >= 0"
): Effect.Effect<number, ConfigError.ConfigError> =>
  Effect.gen(function*() {
    for (const key of [name, ...aliases]) {
      const raw = yield* Config.option(Config.string(key))
      // Set but empty (common in .env and compose files) counts as not set.
      if (Option.isNone(raw) || raw.value.trim() === "") continue
      const value = Number(raw.value.trim())
      if (Number.isNaN(value) || !valid(value)) {
        return yield* Effect.fail(ConfigError.InvalidData([key], `${key} must be ${expected}, got "${raw.value}"`))
      }
      if (key !== name) yield* Effect.logWarning(`${key} is deprecated; set ${name} instead`)
      return value
    }
    return fallback
  })

const positive = (n: number) => n > 0
const positiveInt = (n: number) => Number.isInteger(n) && n > 0
const nonNegativeInt = (n: number) => Number.isInteger(n) && n >= 0

/** Loads the whole configuration from the current `ConfigProvider`. */
export const load: Effect.Effect<ForemanConfigShape, ConfigError.ConfigError> = Effect.gen(function*() {
  const d = defaults
  const g = defaultGates
  const gate = (suffix: string, fallback: number) =>
    numberWithAliases(`FOREMAN_GATE_${suffix}`, [], fallback, Number.isFinite, "a finite number")
  return {
    pollIntervalSeconds: yield* numberWithAliases(
      "FOREMAN_POLL_INTERVAL_SECONDS",
      ["KTRDR_AGENT_POLL_INTERVAL", "AGENT_POLL_INTERVAL"],
      d.pollIntervalSeconds,
      positive,
      "a number > 0"
    ),
    maxConcurrentResearches: yield* numberWithAliases(
      "FOREMAN_MAX_CONCURRENT_RESEARCHES",
      ["KTRDR_AGENT_MAX_CONCURRENT_RESEARCHES"],
      d.maxConcurrentResearches,
      nonNegativeInt,
      "an integer >= 0 (0 derives it from the workers)"
    ),
    concurrencyBuffer: yield* numberWithAliases(
      "FOREMAN_CONCURRENCY_BUFFER",
      ["KTRDR_AGENT_CONCURRENCY_BUFFER"],
      d.concurrencyBuffer,
      nonNegativeInt,
      "an integer >= 0"
    ),
    dailyBudgetUsd: yield* numberWithAliases(
      "FOREMAN_DAILY_BUDGET_USD",
      ["KTRDR_AGENT_DAILY_BUDGET", "AGENT_DAILY_BUDGET"],
      d.dailyBudgetUsd,
      (n) => Number.isFinite(n) && n >= 0,
      "a number >= 0 (0 means unlimited)"
    ),
    cycleCostEstimateUsd: yield* numberWithAliases("FOREMAN_CYCLE_COST_ESTIMATE_USD", [], d.cycleCostEstimateUsd),
    heartbeatIntervalSeconds: yield* numberWithAliases(
      "FOREMAN_HEARTBEAT_INTERVAL_SECONDS",
      [],
      d.heartbeatIntervalSeconds,
      positive,
      "a number > 0"
    ),
    workerOfflineAfterSeconds: yield* numberWithAliases(
      "FOREMAN_WORKER_OFFLINE_AFTER_SECONDS",
      [],
      d.workerOfflineAfterSeconds,
      positive,
      "a number > 0"
    ),
    workerRemoveAfterSeconds: yield* numberWithAliases(
      "FOREMAN_WORKER_REMOVE_AFTER_SECONDS",
      [],
      d.workerRemoveAfterSeconds,
      positive,
      "a number > 0"
    ),
    orphanGraceSeconds: yield* numberWithAliases("FOREMAN_ORPHAN_GRACE_SECONDS", [], d.orphanGraceSeconds),
    maxJobAttempts: yield* numberWithAliases(
      "FOREMAN_MAX_JOB_ATTEMPTS",
      [],
      d.maxJobAttempts,
      positiveInt,
      "an integer > 0"
    ),
    retryBackoffSeconds: yield* numberWithAliases("FOREMAN_RETRY_BACKOFF_SECONDS", [], d.retryBackoffSeconds),
    retryBackoffMaxSeconds: yield* numberWithAliases(
      "FOREMAN_RETRY_BACKOFF_MAX_SECONDS",
      [],
      d.retryBackoffMaxSeconds
    ),
    gates: {
      trainingMinAccuracy: yield* gate("TRAINING_MIN_ACCURACY", g.trainingMinAccuracy),
      trainingMaxLoss: yield* gate("TRAINING_MAX_LOSS", g.trainingMaxLoss),
      trainingMaxLossIncrease: yield* gate("TRAINING_MAX_LOSS_INCREASE", g.trainingMaxLossIncrease),
      regressionMinDirectionalAccuracy: yield* gate(
        "REGRESSION_MIN_DIRECTIONAL_ACCURACY",
        g.regressionMinDirectionalAccuracy
      ),
      backtestMinWinRate: yield* gate("BACKTEST_MIN_WIN_RATE", g.backtestMinWinRate),
      backtestMaxDrawdown: yield* gate("BACKTEST_MAX_DRAWDOWN", g.backtestMaxDrawdown),
      backtestMinSharpe: yield* gate("BACKTEST_MIN_SHARPE", g.backtestMinSharpe),
      regressionMinTrades: yield* gate("REGRESSION_MIN_TRADES", g.regressionMinTrades)
    }
  }
})

/** The configuration read from the environment (through `ConfigProvider`). */
export const layer: Layer.Layer<ForemanConfig, ConfigError.ConfigError> = Layer.effect(ForemanConfig, load)

/** The limit on active researches: the configured maximum, else workers + buffer (at least 1). */
export const concurrencyLimit = (config: ForemanConfigShape, workerCount: number): number =>
  config.maxConcurrentResearches > 0
    ? config.maxConcurrentResearches
    : Math.max(1, workerCount + config.concurrencyBuffer)

/** Backoff before retry number `failures` (1-based): base doubling, capped. */
export const retryBackoffMillis = (config: ForemanConfigShape, failures: number): number =>
  Math.min(config.retryBackoffSeconds * 2 ** Math.max(0, failures - 1), config.retryBackoffMaxSeconds) * 1000

