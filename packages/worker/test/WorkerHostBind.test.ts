/**
 * Where a push worker listens: loopback unless `FOREMAN_WORKER_HOST` says
 * otherwise, and a warning when it listens beyond loopback without a token.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import * as WorkerConfig from "../src/WorkerConfig.js"
import * as WorkerHost from "../src/WorkerHost.js"

/** Runs `effect`, answering the warnings it logged. */
const warningsOf = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const warnings: Array<string> = []
    const capture = Logger.make(({ logLevel, message }) => {
      if (logLevel.label === "WARN") warnings.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
    })
    yield* effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)), Logger.withMinimumLogLevel(LogLevel.All))
    return warnings
  })

const config = (settings: Partial<WorkerConfig.WorkerConfigShape> = {}) =>
  WorkerConfig.make({ type: "training", apiUrl: "http://127.0.0.1:1", protocol: "push", ...settings })

const echo: WorkerHost.WorkerFunction = (job) => Effect.succeed(job.input)

describe("the worker's listen address", () => {
  it.effect("is 127.0.0.1 by default, FOREMAN_WORKER_HOST otherwise", () =>
    Effect.gen(function*() {
      const load = (entries: ReadonlyArray<readonly [string, string]>) =>
        WorkerConfig.load({ type: "training" }).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["FOREMAN_API_URL", "http://coordinator:8000"], ...entries])))
        )
      assert.strictEqual(WorkerConfig.defaults.host, "127.0.0.1")
      assert.strictEqual((yield* load([])).host, "127.0.0.1")
      assert.strictEqual((yield* load([["FOREMAN_WORKER_HOST", "0.0.0.0"]])).host, "0.0.0.0")
    }))

  it.effect("beyond loopback without a token is warned about; with a token or on loopback it is not", () =>
    Effect.gen(function*() {
      const open = yield* warningsOf(WorkerHost.warnOpenBind(config({ host: "0.0.0.0", port: 5003 })))
      assert.deepStrictEqual(open, [
        "listening on 0.0.0.0 without FOREMAN_WORKER_TOKEN: anyone who reaches port 5003 can run jobs; " +
        "set FOREMAN_WORKER_TOKEN (the same on the coordinator) or FOREMAN_WORKER_HOST=127.0.0.1"
      ])
      const quiet = yield* Effect.all([
        warningsOf(WorkerHost.warnOpenBind(config({ host: "0.0.0.0", token: Option.some(Redacted.make("s3cret")) }))),
        warningsOf(WorkerHost.warnOpenBind(config())),
        warningsOf(WorkerHost.warnOpenBind(config({ host: "localhost" }))),
        warningsOf(WorkerHost.warnOpenBind(config({ host: "::1" })))
      ])
      assert.deepStrictEqual(quiet, [[], [], [], []])
    }))

  it.live("a worker started on 0.0.0.0 without a token warns as it starts", () =>
    Effect.gen(function*() {
      const warnings = yield* warningsOf(
        Effect.scoped(Layer.build(WorkerHost.layerNode(echo, config({ host: "0.0.0.0", port: 0, drainDeadlineSeconds: 0 }))))
      )
      assert.isTrue(warnings.some((w) => w.startsWith("listening on 0.0.0.0 without FOREMAN_WORKER_TOKEN")), warnings.join("\n"))
    }), 30_000)
})
