/**
 * Engine configuration: every setting with its default and its environment variable,
 * in one place. `config` reads them through `Config` (the environment by default),
 * `layer` provides them, `layerWith` fixes them (tests, embedding). A renamed setting is
 * still read from its deprecated names when the preferred one is unset, with a warning.
 * Invalid values fail at start with a message naming the variable.
 *
 * `deprecatedNames`, `number` and `seconds` read the worker's settings the same way.
 */
import { Config, ConfigError, Context, Duration, Effect, Either, Layer, Option } from "effect"

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
  /**
   * How long a job assigned to a pull worker may wait for one of its polls to
   * pick it up before it goes back to the queue (uncounted).
   */
  readonly assignmentAckSeconds: number
  /** Infrastructure failures (lost worker, failed dispatch) tolerated per phase. */
  readonly maxJobAttempts: number
  readonly retryBackoffSeconds: number
  readonly retryBackoffMaxSeconds: number
  /**
   * How long a trigger's idempotency key is kept: a repeat within it answers the
   * first research (or is refused when its request differs); after it, the key
   * may start a new research.
   */
  readonly idempotencyKeyTtlSeconds: number
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
  assignmentAckSeconds: 10,
  maxJobAttempts: 3,
  retryBackoffSeconds: 5,
  retryBackoffMaxSeconds: 60,
  idempotencyKeyTtlSeconds: 24 * 60 * 60,
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

/** A setting's text (trimmed) and the variable it was read from. */
export interface Setting {
  readonly key: string
  readonly value: string
}

/** The text of `key`; set but empty (common in .env and compose files) counts as unset. */
const text = (key: string): Config.Config<Setting> =>
  Config.mapOrFail(Config.string(key), (raw) => {
    const value = raw.trim()
    return value === "" ? Either.left(ConfigError.MissingData([], `${key} is empty`)) : Either.right({ key, value })
  })

/**
 * Reading renamed settings: `renamed` lists, under each preferred name, the deprecated
 * names still accepted, most preferred first. `setting(name)` reads `name`, else (through
 * `Config.orElse`) the first deprecated name that is set; a preferred name that is set always
 * wins, even with an invalid value. A `Config` cannot log, so loaders run `warn` after
 * reading: it logs "OLD is deprecated; set NEW instead" for each deprecated name in use.
 */
export const deprecatedNames = (renamed: Readonly<Record<string, ReadonlyArray<string>>>): {
  readonly setting: (name: string) => Config.Config<Setting>
  readonly warn: Effect.Effect<void, ConfigError.ConfigError>
} => {
  const setting = (name: string) =>
    (renamed[name] ?? []).reduce((config, alias) => Config.orElse(config, () => text(alias)), text(name))
  const warn = Effect.forEach(Object.keys(renamed), (name) =>
    Effect.flatMap(Config.option(setting(name)), (read) =>
      Option.isSome(read) && read.value.key !== name
        ? Effect.logWarning(`${read.value.key} is deprecated; set ${name} instead`)
        : Effect.void), { discard: true })
  return { setting, warn }
}

/** What a number must be, and how an error says so. */
export interface Rule {
  readonly valid: (n: number) => boolean
  readonly expected: string
}

const parse = (rule: Rule, read: (text: string) => number) => (self: Config.Config<Setting>): Config.Config<number> =>
  Config.mapOrFail(self, ({ key, value }) => {
    const n = read(value)
    return Number.isNaN(n) || !rule.valid(n)
      ? Either.left(ConfigError.InvalidData([key], `${key} must be ${rule.expected}, got "${value}"`))
      : Either.right(n)
  })

/** A number that satisfies `rule`; an error names the variable the text came from. */
export const number = (rule: Rule): (self: Config.Config<Setting>) => Config.Config<number> => parse(rule, Number)

/**
 * A duration in seconds that satisfies `rule`: a plain number of seconds (`2`, `0.5`), or a
 * duration as `Config.duration` reads it (`500 millis`, `2 minutes`). Durations are never
 * negative (`Duration` would read "-5 seconds" as zero), so a sign is refused.
 */
export const seconds = (rule: Rule): (self: Config.Config<Setting>) => Config.Config<number> =>
  parse(
    { ...rule, expected: `${rule.expected} (seconds, or a duration such as "500 millis")` },
    (value) => {
      const n = Number(value)
      if (!Number.isNaN(n) || value.startsWith("-")) return n
      return Option.match(Duration.decodeUnknown(value), { onNone: () => NaN, onSome: Duration.toSeconds })
    }
  )

const atLeastZero: Rule = { valid: (n) => n >= 0, expected: "a number >= 0" }
const aboveZero: Rule = { valid: (n) => n > 0, expected: "a number > 0" }
const finite: Rule = { valid: Number.isFinite, expected: "a finite number" }
const integer = (min: number, expected = `an integer >= ${min}`): Rule => ({
  valid: (n) => Number.isInteger(n) && n >= min,
  expected
})

const { setting, warn } = deprecatedNames({
  FOREMAN_POLL_INTERVAL_SECONDS: ["KTRDR_AGENT_POLL_INTERVAL", "AGENT_POLL_INTERVAL"],
  FOREMAN_MAX_CONCURRENT_RESEARCHES: ["KTRDR_AGENT_MAX_CONCURRENT_RESEARCHES"],
  FOREMAN_CONCURRENCY_BUFFER: ["KTRDR_AGENT_CONCURRENCY_BUFFER"],
  FOREMAN_DAILY_BUDGET_USD: ["KTRDR_AGENT_DAILY_BUDGET", "AGENT_DAILY_BUDGET"]
})

/** `name` read as `as`, `fallback` when unset. */
const read = (
  name: string,
  as: (self: Config.Config<Setting>) => Config.Config<number>,
  fallback: number
): Config.Config<number> => setting(name).pipe(as, Config.withDefault(fallback))

const gate = (suffix: string, fallback: number) => read(`FOREMAN_GATE_${suffix}`, number(finite), fallback)

/** Every setting, from the current `ConfigProvider`. */
export const config: Config.Config<ForemanConfigShape> = Config.all({
  pollIntervalSeconds: read("FOREMAN_POLL_INTERVAL_SECONDS", seconds(aboveZero), defaults.pollIntervalSeconds),
  maxConcurrentResearches: read(
    "FOREMAN_MAX_CONCURRENT_RESEARCHES",
    number(integer(0, "an integer >= 0 (0 derives it from the workers)")),
    defaults.maxConcurrentResearches
  ),
  concurrencyBuffer: read("FOREMAN_CONCURRENCY_BUFFER", number(integer(0)), defaults.concurrencyBuffer),
  dailyBudgetUsd: read(
    "FOREMAN_DAILY_BUDGET_USD",
    number({ valid: (n) => Number.isFinite(n) && n >= 0, expected: "a number >= 0 (0 means unlimited)" }),
    defaults.dailyBudgetUsd
  ),
  cycleCostEstimateUsd: read("FOREMAN_CYCLE_COST_ESTIMATE_USD", number(atLeastZero), defaults.cycleCostEstimateUsd),
  heartbeatIntervalSeconds: read(
    "FOREMAN_HEARTBEAT_INTERVAL_SECONDS",
    seconds(aboveZero),
    defaults.heartbeatIntervalSeconds
  ),
  workerOfflineAfterSeconds: read(
    "FOREMAN_WORKER_OFFLINE_AFTER_SECONDS",
    seconds(aboveZero),
    defaults.workerOfflineAfterSeconds
  ),
  workerRemoveAfterSeconds: read(
    "FOREMAN_WORKER_REMOVE_AFTER_SECONDS",
    seconds(aboveZero),
    defaults.workerRemoveAfterSeconds
  ),
  orphanGraceSeconds: read("FOREMAN_ORPHAN_GRACE_SECONDS", seconds(atLeastZero), defaults.orphanGraceSeconds),
  assignmentAckSeconds: read(
    "FOREMAN_ASSIGNMENT_ACK_SECONDS",
    seconds(aboveZero),
    defaults.assignmentAckSeconds
  ),
  maxJobAttempts: read("FOREMAN_MAX_JOB_ATTEMPTS", number(integer(1, "an integer > 0")), defaults.maxJobAttempts),
  retryBackoffSeconds: read("FOREMAN_RETRY_BACKOFF_SECONDS", seconds(atLeastZero), defaults.retryBackoffSeconds),
  retryBackoffMaxSeconds: read(
    "FOREMAN_RETRY_BACKOFF_MAX_SECONDS",
    seconds(atLeastZero),
    defaults.retryBackoffMaxSeconds
  ),
  idempotencyKeyTtlSeconds: read(
    "FOREMAN_IDEMPOTENCY_KEY_TTL_SECONDS",
    seconds(aboveZero),
    defaults.idempotencyKeyTtlSeconds
  ),
  gates: Config.all({
    trainingMinAccuracy: gate("TRAINING_MIN_ACCURACY", defaultGates.trainingMinAccuracy),
    trainingMaxLoss: gate("TRAINING_MAX_LOSS", defaultGates.trainingMaxLoss),
    trainingMaxLossIncrease: gate("TRAINING_MAX_LOSS_INCREASE", defaultGates.trainingMaxLossIncrease),
    regressionMinDirectionalAccuracy: gate(
      "REGRESSION_MIN_DIRECTIONAL_ACCURACY",
      defaultGates.regressionMinDirectionalAccuracy
    ),
    backtestMinWinRate: gate("BACKTEST_MIN_WIN_RATE", defaultGates.backtestMinWinRate),
    backtestMaxDrawdown: gate("BACKTEST_MAX_DRAWDOWN", defaultGates.backtestMaxDrawdown),
    backtestMinSharpe: gate("BACKTEST_MIN_SHARPE", defaultGates.backtestMinSharpe),
    regressionMinTrades: gate("REGRESSION_MIN_TRADES", defaultGates.regressionMinTrades)
  })
})

/** Reads `config`, then warns about each deprecated name it used. */
export const load: Effect.Effect<ForemanConfigShape, ConfigError.ConfigError> = Effect.tap(config, () => warn)

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
