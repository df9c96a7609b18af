/**
 * Worker configuration: preferred names, deprecated aliases with a warning,
 * defaults (generated id, pull protocol, endpoint), the required coordinator
 * URL, and invalid values failing with the variable's name.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Logger, LogLevel, Option, Redacted } from "effect"
import * as WorkerConfig from "../src/WorkerConfig.js"

const API = ["FOREMAN_API_URL", "http://coordinator:8000"] as const

/** Loads the configuration from `entries`, returning it with the warnings logged. */
const loadFrom = (entries: ReadonlyArray<readonly [string, string]>, options: WorkerConfig.LoadOptions = {}) =>
  Effect.gen(function*() {
    const warnings: Array<string> = []
    const capture = Logger.make(({ logLevel, message }) => {
      if (logLevel.label === "WARN") warnings.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
    })
    const config = yield* WorkerConfig.load(options).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries))),
      Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
      Logger.withMinimumLogLevel(LogLevel.All)
    )
    return { config, warnings }
  })

const errorFrom = (entries: ReadonlyArray<readonly [string, string]>, options: WorkerConfig.LoadOptions = { type: "training" }) =>
  WorkerConfig.load(options).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries))),
    Effect.flip,
    Effect.map(String)
  )

describe("WorkerConfig", () => {
  it.effect("uses the defaults: generated id, pull with 20 s polls, port 5003, endpoint on 127.0.0.1", () =>
    Effect.gen(function*() {
      const { config, warnings } = yield* loadFrom([API], { type: "backtest" })
      assert.match(config.id, /^backtest-worker-[0-9a-f]{8}$/)
      assert.strictEqual(config.type, "backtest")
      assert.strictEqual(config.protocol, "pull")
      assert.strictEqual(config.pollWaitSeconds, 20)
      assert.strictEqual(config.port, 5003)
      assert.strictEqual(config.apiUrl, "http://coordinator:8000")
      assert.strictEqual(WorkerConfig.endpointUrl(config, config.port), "http://127.0.0.1:5003")
      assert.strictEqual(config.capacity, 1)
      assert.strictEqual(config.queueLimit, 1)
      assert.deepStrictEqual(config.devices, ["slot-0"])
      assert.strictEqual(config.heartbeatIntervalSeconds, 10)
      assert.strictEqual(config.drainDeadlineSeconds, 30)
      assert.strictEqual(config.maxRetries, 2)
      assert.isTrue(Option.isNone(config.token))
      assert.deepStrictEqual(warnings, [])
    }))

  it.effect("reads the preferred names without warning", () =>
    Effect.gen(function*() {
      const { config, warnings } = yield* loadFrom([
        ["FOREMAN_API_URL", "https://foreman.example.com/api/v1/"],
        ["FOREMAN_WORKER_TYPE", "training"],
        ["FOREMAN_WORKER_ID", "gpu-box-1"],
        ["FOREMAN_WORKER_PROTOCOL", "push"],
        ["FOREMAN_POLL_WAIT_SECONDS", "45"],
        ["FOREMAN_WORKER_PORT", "5005"],
        ["FOREMAN_WORKER_ENDPOINT_URL", "http://gpu-box-1.internal:5005/"],
        ["FOREMAN_WORKER_CAPACITY", "2"],
        ["FOREMAN_WORKER_QUEUE_LIMIT", "4"],
        ["FOREMAN_WORKER_DEVICES", "cuda:0, cuda:1"],
        ["FOREMAN_HEARTBEAT_INTERVAL_SECONDS", "2.5"],
        ["FOREMAN_WORKER_DRAIN_SECONDS", "60"],
        ["FOREMAN_WORKER_MAX_RETRIES", "0"],
        ["FOREMAN_WORKER_TOKEN", "s3cret"]
      ], { type: "backtest" })
      assert.strictEqual(config.apiUrl, "https://foreman.example.com")
      assert.strictEqual(config.type, "training")
      assert.strictEqual(config.id, "gpu-box-1")
      assert.strictEqual(config.protocol, "push")
      assert.strictEqual(config.pollWaitSeconds, 45)
      assert.strictEqual(config.port, 5005)
      assert.strictEqual(WorkerConfig.endpointUrl(config, 5005), "http://gpu-box-1.internal:5005")
      assert.strictEqual(config.capacity, 2)
      assert.strictEqual(config.queueLimit, 4)
      assert.deepStrictEqual(config.devices, ["cuda:0", "cuda:1"])
      assert.strictEqual(config.heartbeatIntervalSeconds, 2.5)
      assert.strictEqual(config.drainDeadlineSeconds, 60)
      assert.strictEqual(config.maxRetries, 0)
      assert.strictEqual(Redacted.value(Option.getOrThrow(config.token)), "s3cret")
      assert.deepStrictEqual(warnings, [])
    }))

  it.effect("reads the heartbeat, drain deadline and poll wait as plain seconds or as durations", () =>
    Effect.gen(function*() {
      const { config } = yield* loadFrom([
        API,
        ["FOREMAN_HEARTBEAT_INTERVAL_SECONDS", "1500 millis"],
        ["FOREMAN_WORKER_DRAIN_SECONDS", "2 minutes"],
        ["FOREMAN_POLL_WAIT_SECONDS", "1 minute"]
      ], { type: "training" })
      assert.strictEqual(config.heartbeatIntervalSeconds, 1.5)
      assert.strictEqual(config.drainDeadlineSeconds, 120)
      assert.strictEqual(config.pollWaitSeconds, 60)
    }))

  it.effect("config leaves a missing id to load and takes the capabilities from the code", () =>
    Effect.gen(function*() {
      const settings = yield* WorkerConfig.config({ type: "training", capabilities: { gpu: true } }).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([API])))
      )
      assert.isTrue(Option.isNone(settings.id))
      assert.deepStrictEqual(settings.capabilities, { gpu: true })
      assert.strictEqual(settings.requestTimeoutSeconds, WorkerConfig.defaults.requestTimeoutSeconds)
    }))

  it.effect("builds the default endpoint from the public base", () =>
    Effect.gen(function*() {
      const host = yield* loadFrom([API, ["FOREMAN_WORKER_PUBLIC_BASE_URL", "backtest-1"], ["FOREMAN_WORKER_PORT", "5004"]], {
        type: "backtest"
      })
      assert.strictEqual(WorkerConfig.endpointUrl(host.config, 5004), "http://backtest-1:5004")
      const url = yield* loadFrom([API, ["FOREMAN_WORKER_PUBLIC_BASE_URL", "https://w1.example.com/"]], { type: "backtest" })
      assert.strictEqual(WorkerConfig.endpointUrl(url.config, 5003), "https://w1.example.com")
    }))

  describe("deprecated aliases", () => {
    const cases: ReadonlyArray<readonly [alias: string, name: string, value: string, check: (c: WorkerConfig.WorkerConfigShape) => unknown, expected: unknown]> = [
      ["WORKER_ID", "FOREMAN_WORKER_ID", "w-1", (c) => c.id, "w-1"],
      ["KTRDR_WORKER_ID", "FOREMAN_WORKER_ID", "w-2", (c) => c.id, "w-2"],
      ["WORKER_PORT", "FOREMAN_WORKER_PORT", "5010", (c) => c.port, 5010],
      ["KTRDR_WORKER_PORT", "FOREMAN_WORKER_PORT", "5011", (c) => c.port, 5011],
      ["WORKER_ENDPOINT_URL", "FOREMAN_WORKER_ENDPOINT_URL", "http://a:1", (c) => WorkerConfig.endpointUrl(c, 0), "http://a:1"],
      ["KTRDR_WORKER_ENDPOINT_URL", "FOREMAN_WORKER_ENDPOINT_URL", "http://b:2", (c) => WorkerConfig.endpointUrl(c, 0), "http://b:2"],
      ["WORKER_PUBLIC_BASE_URL", "FOREMAN_WORKER_PUBLIC_BASE_URL", "c", (c) => WorkerConfig.endpointUrl(c, 9), "http://c:9"],
      ["KTRDR_WORKER_PUBLIC_BASE_URL", "FOREMAN_WORKER_PUBLIC_BASE_URL", "d", (c) => WorkerConfig.endpointUrl(c, 9), "http://d:9"],
      ["WORKER_TYPE", "FOREMAN_WORKER_TYPE", "backtest", (c) => c.type, "backtest"]
    ]
    for (const [alias, name, value, check, expected] of cases) {
      it.effect(`uses ${alias} when ${name} is missing, with a warning`, () =>
        Effect.gen(function*() {
          const { config, warnings } = yield* loadFrom([API, [alias, value]], { type: "training" })
          assert.deepStrictEqual(check(config), expected)
          assert.deepStrictEqual(warnings, [`${alias} is deprecated; set ${name} instead`])
        }))
    }

    it.effect("uses KTRDR_API_URL when FOREMAN_API_URL is missing, with a warning", () =>
      Effect.gen(function*() {
        const { config, warnings } = yield* loadFrom([["KTRDR_API_URL", "http://backend:8000/api/v1"]], { type: "training" })
        assert.strictEqual(config.apiUrl, "http://backend:8000")
        assert.deepStrictEqual(warnings, ["KTRDR_API_URL is deprecated; set FOREMAN_API_URL instead"])
      }))

    it.effect("prefers the new name over every alias, and WORKER_ over KTRDR_", () =>
      Effect.gen(function*() {
        const preferred = yield* loadFrom([API, ["KTRDR_WORKER_ID", "old"], ["WORKER_ID", "older"], ["FOREMAN_WORKER_ID", "new"]], {
          type: "training"
        })
        assert.strictEqual(preferred.config.id, "new")
        assert.deepStrictEqual(preferred.warnings, [])
        const alias = yield* loadFrom([API, ["KTRDR_WORKER_ID", "old"], ["WORKER_ID", "older"]], { type: "training" })
        assert.strictEqual(alias.config.id, "older")
        assert.deepStrictEqual(alias.warnings, ["WORKER_ID is deprecated; set FOREMAN_WORKER_ID instead"])
      }))

    it.effect("treats an empty preferred variable as unset", () =>
      Effect.gen(function*() {
        const { config } = yield* loadFrom([API, ["FOREMAN_WORKER_PORT", ""], ["WORKER_PORT", "6000"]], { type: "training" })
        assert.strictEqual(config.port, 6000)
      }))
  })

  describe("errors", () => {
    it.effect("names FOREMAN_API_URL when no coordinator URL is set", () =>
      Effect.gen(function*() {
        const error = yield* errorFrom([["FOREMAN_WORKER_ID", "w"]])
        assert.include(error, "FOREMAN_API_URL is required")
      }))

    it.effect("names FOREMAN_WORKER_TYPE when the type is known neither from code nor environment", () =>
      Effect.gen(function*() {
        const error = yield* errorFrom([API], {})
        assert.include(error, "FOREMAN_WORKER_TYPE is required")
      }))

    const invalid: ReadonlyArray<readonly [string, string]> = [
      ["FOREMAN_API_URL", "coordinator:8000"],
      ["FOREMAN_API_URL", "ftp://coordinator"],
      ["KTRDR_API_URL", "not a url"],
      ["FOREMAN_WORKER_PORT", "http"],
      ["FOREMAN_WORKER_PORT", "70000"],
      ["WORKER_PORT", "-1"],
      ["FOREMAN_WORKER_ID", "has space"],
      ["KTRDR_WORKER_ID", "-starts-with-dash"],
      ["FOREMAN_WORKER_TYPE", "Training"],
      ["FOREMAN_WORKER_ENDPOINT_URL", "worker:5003"],
      ["FOREMAN_WORKER_PUBLIC_BASE_URL", "mailto://x"],
      ["FOREMAN_WORKER_CAPACITY", "0"],
      ["FOREMAN_WORKER_CAPACITY", "1.5"],
      ["FOREMAN_WORKER_QUEUE_LIMIT", "0"],
      ["FOREMAN_WORKER_DEVICES", " , "],
      ["FOREMAN_HEARTBEAT_INTERVAL_SECONDS", "0"],
      ["FOREMAN_WORKER_DRAIN_SECONDS", "-1"],
      ["FOREMAN_WORKER_MAX_RETRIES", "two"],
      ["FOREMAN_WORKER_MAX_RETRIES", "-1"],
      ["FOREMAN_WORKER_DRAIN_SECONDS", "-5 seconds"],
      ["FOREMAN_HEARTBEAT_INTERVAL_SECONDS", "Infinity"],
      ["FOREMAN_WORKER_PROTOCOL", "http"],
      ["FOREMAN_WORKER_PROTOCOL", "PULL"],
      ["FOREMAN_POLL_WAIT_SECONDS", "0"],
      ["FOREMAN_POLL_WAIT_SECONDS", "61"],
      ["FOREMAN_POLL_WAIT_SECONDS", "soon"]
    ]
    for (const [name, value] of invalid) {
      it.effect(`rejects ${name}=${value} naming the variable`, () =>
        Effect.gen(function*() {
          const entries: Array<readonly [string, string]> = name.endsWith("API_URL") ? [[name, value]] : [API, [name, value]]
          const error = yield* errorFrom(entries)
          assert.include(error, name)
        }))
    }

    it.effect("says which protocols there are", () =>
      Effect.gen(function*() {
        const error = yield* errorFrom([API, ["FOREMAN_WORKER_PROTOCOL", "http"]])
        assert.include(error, "FOREMAN_WORKER_PROTOCOL must be pull or push, got \"http\"")
      }))

    it.effect("rejects a queue limit below the capacity, naming both", () =>
      Effect.gen(function*() {
        const error = yield* errorFrom([API, ["FOREMAN_WORKER_CAPACITY", "3"], ["FOREMAN_WORKER_QUEUE_LIMIT", "2"]])
        assert.include(error, "FOREMAN_WORKER_QUEUE_LIMIT must be an integer >= FOREMAN_WORKER_CAPACITY (3), got \"2\"")
      }))

    it.effect("names every missing or invalid variable at once", () =>
      Effect.gen(function*() {
        const error = yield* errorFrom([["FOREMAN_WORKER_PORT", "http"]], {})
        assert.include(error, "FOREMAN_API_URL is required")
        assert.include(error, "FOREMAN_WORKER_TYPE is required")
        assert.include(error, "FOREMAN_WORKER_PORT must be a port number 0-65535")
      }))
  })

  it.effect("tokenConfig treats an empty FOREMAN_WORKER_TOKEN as unset", () =>
    Effect.gen(function*() {
      const token = yield* WorkerConfig.tokenConfig.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["FOREMAN_WORKER_TOKEN", " "]])))
      )
      assert.isTrue(Option.isNone(token))
    }))

  it("make fills the defaults around the required settings", () => {
    const config = WorkerConfig.make({ type: "training", apiUrl: "http://127.0.0.1:8000/", capacity: 3 })
    assert.strictEqual(config.apiUrl, "http://127.0.0.1:8000")
    assert.strictEqual(config.protocol, "pull")
    assert.strictEqual(config.queueLimit, 3)
    assert.deepStrictEqual(config.devices, ["slot-0", "slot-1", "slot-2"])
    assert.strictEqual(config.id, "training-worker-00000000")
  })
})
