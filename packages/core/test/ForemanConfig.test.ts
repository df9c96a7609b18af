/**
 * Engine configuration: preferred names, deprecated aliases with a warning,
 * validation naming the variable, gate thresholds, and the derived limits.
 */
import { assert, describe, it } from "@effect/vitest"
import { Config, ConfigProvider, Effect, Either, Logger, LogLevel, Option } from "effect"
import * as ForemanConfig from "../src/ForemanConfig.js"

interface Logged {
  readonly level: string
  readonly message: string
}

/** Runs `effect` with the configuration `entries`, returning its value with what was logged. */
const runWith = <A, E>(effect: Effect.Effect<A, E>, entries: ReadonlyArray<readonly [string, string]>) =>
  Effect.gen(function*() {
    const logs: Array<Logged> = []
    const capture = Logger.make(({ logLevel, message }) => {
      const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
      logs.push({ level: logLevel.label, message: text })
    })
    const value = yield* effect.pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries))),
      Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
      Logger.withMinimumLogLevel(LogLevel.All)
    )
    return { value, logs }
  })

/** Loads the configuration from `entries`, returning it with what was logged. */
const loadFrom = (entries: ReadonlyArray<readonly [string, string]>) =>
  Effect.map(runWith(ForemanConfig.load, entries), ({ logs, value }) => ({ config: value, logs }))

/** The error `load` fails with for `entries`. */
const errorFrom = (entries: ReadonlyArray<readonly [string, string]>) =>
  ForemanConfig.load.pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries))),
    Effect.flip
  )

const warnings = (logs: ReadonlyArray<Logged>) => logs.filter((l) => l.level === "WARN").map((l) => l.message)

describe("ForemanConfig", () => {
  describe("load", () => {
    it.effect("uses the defaults when nothing is set", () =>
      Effect.gen(function*() {
        const { config, logs } = yield* loadFrom([])
        assert.deepStrictEqual(config, ForemanConfig.defaults)
        assert.deepStrictEqual(config, {
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
          idempotencyKeyTtlSeconds: 86400,
          gates: {
            trainingMinAccuracy: 0.1,
            trainingMaxLoss: 0.8,
            trainingMaxLossIncrease: 0.5,
            regressionMinDirectionalAccuracy: 0.5,
            backtestMinWinRate: 0.1,
            backtestMaxDrawdown: 0.4,
            backtestMinSharpe: -0.5,
            regressionMinTrades: 5
          }
        })
        assert.deepStrictEqual(logs, [])
      }))

    it.effect("reads the preferred names without warning", () =>
      Effect.gen(function*() {
        const { config, logs } = yield* loadFrom([
          ["FOREMAN_POLL_INTERVAL_SECONDS", "0.5"],
          ["FOREMAN_MAX_CONCURRENT_RESEARCHES", "4"],
          ["FOREMAN_CONCURRENCY_BUFFER", "2"],
          ["FOREMAN_DAILY_BUDGET_USD", "12.5"],
          ["FOREMAN_CYCLE_COST_ESTIMATE_USD", "0.3"]
        ])
        assert.strictEqual(config.pollIntervalSeconds, 0.5)
        assert.strictEqual(config.maxConcurrentResearches, 4)
        assert.strictEqual(config.concurrencyBuffer, 2)
        assert.strictEqual(config.dailyBudgetUsd, 12.5)
        assert.strictEqual(config.cycleCostEstimateUsd, 0.3)
        assert.deepStrictEqual(warnings(logs), [])
      }))

    it.effect("reads the worker, retry and recovery settings", () =>
      Effect.gen(function*() {
        const { config } = yield* loadFrom([
          ["FOREMAN_HEARTBEAT_INTERVAL_SECONDS", "3"],
          ["FOREMAN_WORKER_OFFLINE_AFTER_SECONDS", "15"],
          ["FOREMAN_WORKER_REMOVE_AFTER_SECONDS", "120"],
          ["FOREMAN_ORPHAN_GRACE_SECONDS", "20"],
          ["FOREMAN_MAX_JOB_ATTEMPTS", "5"],
          ["FOREMAN_RETRY_BACKOFF_SECONDS", "1"],
          ["FOREMAN_RETRY_BACKOFF_MAX_SECONDS", "8"]
        ])
        assert.strictEqual(config.heartbeatIntervalSeconds, 3)
        assert.strictEqual(config.workerOfflineAfterSeconds, 15)
        assert.strictEqual(config.workerRemoveAfterSeconds, 120)
        assert.strictEqual(config.orphanGraceSeconds, 20)
        assert.strictEqual(config.maxJobAttempts, 5)
        assert.strictEqual(config.retryBackoffSeconds, 1)
        assert.strictEqual(config.retryBackoffMaxSeconds, 8)
      }))

    it.effect("reads a duration as plain seconds or as a duration like Config.duration's", () =>
      Effect.gen(function*() {
        const { config, logs } = yield* loadFrom([
          ["FOREMAN_POLL_INTERVAL_SECONDS", "500 millis"],
          ["FOREMAN_HEARTBEAT_INTERVAL_SECONDS", "2"],
          ["FOREMAN_WORKER_REMOVE_AFTER_SECONDS", "10 minutes"],
          ["FOREMAN_ORPHAN_GRACE_SECONDS", "0 seconds"],
          ["FOREMAN_RETRY_BACKOFF_MAX_SECONDS", "1 minute"],
          ["FOREMAN_IDEMPOTENCY_KEY_TTL_SECONDS", "2 hours"]
        ])
        assert.strictEqual(config.pollIntervalSeconds, 0.5)
        assert.strictEqual(config.heartbeatIntervalSeconds, 2)
        assert.strictEqual(config.workerRemoveAfterSeconds, 600)
        assert.strictEqual(config.orphanGraceSeconds, 0)
        assert.strictEqual(config.retryBackoffMaxSeconds, 60)
        assert.strictEqual(config.idempotencyKeyTtlSeconds, 7200)
        assert.deepStrictEqual(logs, [])
      }))

    it.effect("reads a deprecated name as a duration too", () =>
      Effect.gen(function*() {
        const { config, logs } = yield* loadFrom([["AGENT_POLL_INTERVAL", "3 seconds"]])
        assert.strictEqual(config.pollIntervalSeconds, 3)
        assert.deepStrictEqual(warnings(logs), [
          "AGENT_POLL_INTERVAL is deprecated; set FOREMAN_POLL_INTERVAL_SECONDS instead"
        ])
      }))

    it.effect("accepts zero budget (unlimited) and zero max concurrency (derived)", () =>
      Effect.gen(function*() {
        const { config } = yield* loadFrom([
          ["FOREMAN_DAILY_BUDGET_USD", "0"],
          ["FOREMAN_MAX_CONCURRENT_RESEARCHES", "0"],
          ["FOREMAN_CONCURRENCY_BUFFER", "0"]
        ])
        assert.strictEqual(config.dailyBudgetUsd, 0)
        assert.strictEqual(config.maxConcurrentResearches, 0)
        assert.strictEqual(config.concurrencyBuffer, 0)
      }))

    describe("deprecated aliases", () => {
      const aliases: ReadonlyArray<
        readonly [alias: string, name: string, key: keyof ForemanConfig.ForemanConfigShape, value: string, expected: number]
      > = [
        ["KTRDR_AGENT_POLL_INTERVAL", "FOREMAN_POLL_INTERVAL_SECONDS", "pollIntervalSeconds", "7", 7],
        ["AGENT_POLL_INTERVAL", "FOREMAN_POLL_INTERVAL_SECONDS", "pollIntervalSeconds", "8", 8],
        [
          "KTRDR_AGENT_MAX_CONCURRENT_RESEARCHES",
          "FOREMAN_MAX_CONCURRENT_RESEARCHES",
          "maxConcurrentResearches",
          "6",
          6
        ],
        ["KTRDR_AGENT_CONCURRENCY_BUFFER", "FOREMAN_CONCURRENCY_BUFFER", "concurrencyBuffer", "3", 3],
        ["KTRDR_AGENT_DAILY_BUDGET", "FOREMAN_DAILY_BUDGET_USD", "dailyBudgetUsd", "9.5", 9.5],
        ["AGENT_DAILY_BUDGET", "FOREMAN_DAILY_BUDGET_USD", "dailyBudgetUsd", "2.25", 2.25]
      ]

      for (const [alias, name, key, value, expected] of aliases) {
        it.effect(`uses ${alias} when ${name} is missing, with a warning`, () =>
          Effect.gen(function*() {
            const { config, logs } = yield* loadFrom([[alias, value]])
            assert.strictEqual(config[key], expected)
            assert.deepStrictEqual(warnings(logs), [`${alias} is deprecated; set ${name} instead`])
          }))

        it.effect(`prefers ${name} over ${alias}`, () =>
          Effect.gen(function*() {
            const { config, logs } = yield* loadFrom([[alias, value], [name, "1"]])
            assert.strictEqual(config[key], 1)
            assert.deepStrictEqual(warnings(logs), [])
          }))
      }

      it.effect("prefers KTRDR_AGENT_POLL_INTERVAL over AGENT_POLL_INTERVAL", () =>
        Effect.gen(function*() {
          const { config, logs } = yield* loadFrom([["AGENT_POLL_INTERVAL", "8"], ["KTRDR_AGENT_POLL_INTERVAL", "7"]])
          assert.strictEqual(config.pollIntervalSeconds, 7)
          assert.deepStrictEqual(warnings(logs), [
            "KTRDR_AGENT_POLL_INTERVAL is deprecated; set FOREMAN_POLL_INTERVAL_SECONDS instead"
          ])
        }))

      it.effect("prefers KTRDR_AGENT_DAILY_BUDGET over AGENT_DAILY_BUDGET", () =>
        Effect.gen(function*() {
          const { config } = yield* loadFrom([["AGENT_DAILY_BUDGET", "1"], ["KTRDR_AGENT_DAILY_BUDGET", "3"]])
          assert.strictEqual(config.dailyBudgetUsd, 3)
        }))

      it.effect("warns once per deprecated name used", () =>
        Effect.gen(function*() {
          const { logs } = yield* loadFrom([
            ["AGENT_POLL_INTERVAL", "8"],
            ["KTRDR_AGENT_CONCURRENCY_BUFFER", "2"],
            ["AGENT_DAILY_BUDGET", "4"]
          ])
          assert.deepStrictEqual(warnings(logs), [
            "AGENT_POLL_INTERVAL is deprecated; set FOREMAN_POLL_INTERVAL_SECONDS instead",
            "KTRDR_AGENT_CONCURRENCY_BUFFER is deprecated; set FOREMAN_CONCURRENCY_BUFFER instead",
            "AGENT_DAILY_BUDGET is deprecated; set FOREMAN_DAILY_BUDGET_USD instead"
          ])
        }))
    })

    describe("invalid values", () => {
      const invalid: ReadonlyArray<readonly [name: string, value: string]> = [
        ["FOREMAN_POLL_INTERVAL_SECONDS", "abc"],
        ["FOREMAN_POLL_INTERVAL_SECONDS", "0"],
        ["FOREMAN_POLL_INTERVAL_SECONDS", "-1"],
        ["FOREMAN_MAX_CONCURRENT_RESEARCHES", "2.5"],
        ["FOREMAN_MAX_CONCURRENT_RESEARCHES", "-1"],
        ["FOREMAN_CONCURRENCY_BUFFER", "1.5"],
        ["FOREMAN_DAILY_BUDGET_USD", "-5"],
        ["FOREMAN_DAILY_BUDGET_USD", "Infinity"],
        ["FOREMAN_DAILY_BUDGET_USD", "five"],
        ["FOREMAN_CYCLE_COST_ESTIMATE_USD", "-0.1"],
        ["FOREMAN_HEARTBEAT_INTERVAL_SECONDS", "0"],
        ["FOREMAN_WORKER_OFFLINE_AFTER_SECONDS", "0"],
        ["FOREMAN_WORKER_REMOVE_AFTER_SECONDS", "-30"],
        ["FOREMAN_ORPHAN_GRACE_SECONDS", "-1"],
        ["FOREMAN_MAX_JOB_ATTEMPTS", "0"],
        ["FOREMAN_MAX_JOB_ATTEMPTS", "1.5"],
        ["FOREMAN_RETRY_BACKOFF_SECONDS", "-2"],
        ["FOREMAN_GATE_TRAINING_MIN_ACCURACY", "high"],
        ["FOREMAN_GATE_BACKTEST_MIN_SHARPE", "-Infinity"],
        ["KTRDR_AGENT_POLL_INTERVAL", "abc"],
        ["AGENT_DAILY_BUDGET", "-1"],
        ["KTRDR_AGENT_MAX_CONCURRENT_RESEARCHES", "1.5"],
        ["FOREMAN_POLL_INTERVAL_SECONDS", "0 seconds"],
        ["FOREMAN_ORPHAN_GRACE_SECONDS", "-5 seconds"],
        ["FOREMAN_RETRY_BACKOFF_MAX_SECONDS", "2 fortnights"],
        ["FOREMAN_MAX_JOB_ATTEMPTS", "3 seconds"],
        ["FOREMAN_IDEMPOTENCY_KEY_TTL_SECONDS", "0"]
      ]

      for (const [name, value] of invalid) {
        it.effect(`rejects ${name}=${value} naming the variable`, () =>
          Effect.gen(function*() {
            const error = yield* errorFrom([[name, value]])
            assert.strictEqual(error._tag, "ConfigError")
            assert.strictEqual(error._op, "InvalidData")
            assert.include(String(error), name)
          }))
      }

      it.effect("explains what a valid value is", () =>
        Effect.gen(function*() {
          const error = yield* errorFrom([["FOREMAN_MAX_CONCURRENT_RESEARCHES", "2.5"]])
          assert.include(
            String(error),
            "FOREMAN_MAX_CONCURRENT_RESEARCHES must be an integer >= 0 (0 derives it from the workers), got \"2.5\""
          )
        }))

      // `Config.number` reads "" as Number("") === 0, so an empty variable (`FOREMAN_DAILY_BUDGET_USD=`
      // in an env file) would silently switch the budget off instead of failing or using the default.
      it.effect("never reads an empty FOREMAN_DAILY_BUDGET_USD as 0 (unlimited)", () =>
        Effect.gen(function*() {
          const result = yield* loadFrom([["FOREMAN_DAILY_BUDGET_USD", ""]]).pipe(Effect.either)
          if (Either.isLeft(result)) {
            assert.include(String(result.left), "FOREMAN_DAILY_BUDGET_USD")
          } else {
            assert.strictEqual(result.right.config.dailyBudgetUsd, ForemanConfig.defaults.dailyBudgetUsd)
          }
        }))

      it.effect("says a duration may be written with a unit", () =>
        Effect.gen(function*() {
          const error = yield* errorFrom([["FOREMAN_POLL_INTERVAL_SECONDS", "soon"]])
          assert.include(
            String(error),
            "FOREMAN_POLL_INTERVAL_SECONDS must be a number > 0 (seconds, or a duration such as \"500 millis\"), got \"soon\""
          )
        }))

      it.effect("names every invalid variable at once", () =>
        Effect.gen(function*() {
          const error = String(yield* errorFrom([["FOREMAN_POLL_INTERVAL_SECONDS", "0"], ["FOREMAN_MAX_JOB_ATTEMPTS", "0"]]))
          assert.include(error, "FOREMAN_POLL_INTERVAL_SECONDS must be")
          assert.include(error, "FOREMAN_MAX_JOB_ATTEMPTS must be")
        }))

      it.effect("rejects an invalid preferred value even when a valid alias is set", () =>
        Effect.gen(function*() {
          const error = yield* errorFrom([["FOREMAN_DAILY_BUDGET_USD", "-1"], ["AGENT_DAILY_BUDGET", "3"]])
          assert.include(String(error), "FOREMAN_DAILY_BUDGET_USD")
        }))
    })

    it.effect("reads every gate threshold", () =>
      Effect.gen(function*() {
        const { config } = yield* loadFrom([
          ["FOREMAN_GATE_TRAINING_MIN_ACCURACY", "0.3"],
          ["FOREMAN_GATE_TRAINING_MAX_LOSS", "0.6"],
          ["FOREMAN_GATE_TRAINING_MAX_LOSS_INCREASE", "0.25"],
          ["FOREMAN_GATE_REGRESSION_MIN_DIRECTIONAL_ACCURACY", "0.55"],
          ["FOREMAN_GATE_BACKTEST_MIN_WIN_RATE", "0.2"],
          ["FOREMAN_GATE_BACKTEST_MAX_DRAWDOWN", "0.3"],
          ["FOREMAN_GATE_BACKTEST_MIN_SHARPE", "0.5"],
          ["FOREMAN_GATE_REGRESSION_MIN_TRADES", "10"]
        ])
        assert.deepStrictEqual(config.gates, {
          trainingMinAccuracy: 0.3,
          trainingMaxLoss: 0.6,
          trainingMaxLossIncrease: 0.25,
          regressionMinDirectionalAccuracy: 0.55,
          backtestMinWinRate: 0.2,
          backtestMaxDrawdown: 0.3,
          backtestMinSharpe: 0.5,
          regressionMinTrades: 10
        })
      }))

    it.effect("accepts a negative gate threshold and keeps the other gate defaults", () =>
      Effect.gen(function*() {
        const { config } = yield* loadFrom([["FOREMAN_GATE_BACKTEST_MIN_SHARPE", "-1.5"]])
        assert.deepStrictEqual(config.gates, { ...ForemanConfig.defaultGates, backtestMinSharpe: -1.5 })
      }))
  })

  describe("config", () => {
    it.effect("is a Config of the whole shape that reads aliases without logging (load warns)", () =>
      Effect.gen(function*() {
        const { logs, value } = yield* runWith(ForemanConfig.config, [["AGENT_DAILY_BUDGET", "4"]])
        assert.deepStrictEqual(value, { ...ForemanConfig.defaults, dailyBudgetUsd: 4 })
        assert.deepStrictEqual(logs, [])
      }))
  })

  describe("deprecatedNames", () => {
    const { setting, warn } = ForemanConfig.deprecatedNames({ NEW: ["OLD", "OLDER"] })
    const read = Effect.zipLeft(Config.option(setting("NEW")), warn)

    it.effect("reads the preferred name without warning", () =>
      Effect.gen(function*() {
        const { logs, value } = yield* runWith(read, [["NEW", " n "], ["OLD", "o"]])
        assert.deepStrictEqual(value, Option.some({ key: "NEW", value: "n" }))
        assert.deepStrictEqual(logs, [])
      }))

    it.effect("falls back to the first deprecated name set, and warn names it", () =>
      Effect.gen(function*() {
        const { logs, value } = yield* runWith(read, [["NEW", ""], ["OLDER", "b"]])
        assert.deepStrictEqual(value, Option.some({ key: "OLDER", value: "b" }))
        assert.deepStrictEqual(warnings(logs), ["OLDER is deprecated; set NEW instead"])
      }))

    it.effect("is missing when no name is set", () =>
      Effect.gen(function*() {
        const { logs, value } = yield* runWith(read, [["OTHER", "x"]])
        assert.deepStrictEqual(value, Option.none())
        assert.deepStrictEqual(logs, [])
      }))
  })

  describe("layer", () => {
    it.effect("provides the loaded configuration", () =>
      Effect.gen(function*() {
        const config = yield* ForemanConfig.ForemanConfig.pipe(
          Effect.provide(ForemanConfig.layer),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["FOREMAN_MAX_JOB_ATTEMPTS", "7"]])))
        )
        assert.strictEqual(config.maxJobAttempts, 7)
      }))
  })

  describe("make", () => {
    it("merges overrides and partial gates onto the defaults", () => {
      const config = ForemanConfig.make({ maxJobAttempts: 9, gates: { backtestMaxDrawdown: 0.2 } })
      assert.strictEqual(config.maxJobAttempts, 9)
      assert.strictEqual(config.pollIntervalSeconds, 2)
      assert.deepStrictEqual(config.gates, { ...ForemanConfig.defaultGates, backtestMaxDrawdown: 0.2 })
      assert.deepStrictEqual(ForemanConfig.make(), ForemanConfig.defaults)
    })
  })

  describe("concurrencyLimit", () => {
    it("uses the configured maximum when it is above 0", () => {
      const config = ForemanConfig.make({ maxConcurrentResearches: 3 })
      assert.strictEqual(ForemanConfig.concurrencyLimit(config, 0), 3)
      assert.strictEqual(ForemanConfig.concurrencyLimit(config, 10), 3)
    })

    it("derives workers + buffer when the maximum is 0", () => {
      assert.strictEqual(ForemanConfig.concurrencyLimit(ForemanConfig.make(), 4), 5)
      assert.strictEqual(ForemanConfig.concurrencyLimit(ForemanConfig.make({ concurrencyBuffer: 3 }), 4), 7)
    })

    it("is at least 1", () => {
      assert.strictEqual(ForemanConfig.concurrencyLimit(ForemanConfig.make({ concurrencyBuffer: 0 }), 0), 1)
      assert.strictEqual(ForemanConfig.concurrencyLimit(ForemanConfig.make(), 0), 1)
    })
  })

  describe("retryBackoffMillis", () => {
    const config = ForemanConfig.make()

    it("starts at 5 s and doubles", () => {
      assert.deepStrictEqual([1, 2, 3, 4].map((n) => ForemanConfig.retryBackoffMillis(config, n)), [
        5_000,
        10_000,
        20_000,
        40_000
      ])
    })

    it("is capped at 60 s", () => {
      assert.strictEqual(ForemanConfig.retryBackoffMillis(config, 5), 60_000)
      assert.strictEqual(ForemanConfig.retryBackoffMillis(config, 50), 60_000)
    })

    it("treats 0 failures like the first", () => {
      assert.strictEqual(ForemanConfig.retryBackoffMillis(config, 0), 5_000)
    })

    it("follows the configured base and cap", () => {
      const custom = ForemanConfig.make({ retryBackoffSeconds: 1, retryBackoffMaxSeconds: 3 })
      assert.deepStrictEqual([1, 2, 3].map((n) => ForemanConfig.retryBackoffMillis(custom, n)), [1_000, 2_000, 3_000])
    })
  })
})
