/**
 * A push worker registered at an endpoint where nothing listens (its process
 * was killed without deregistering), reached through the real HTTP transport:
 * the refused connection costs its job no attempt, and the worker leaves the
 * rotation at once instead of waiting to go offline.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Memory } from "@foreman/adapter-memory"
import * as OfflineAgents from "@foreman/agents/OfflineAgents"
import { Coordinator, type Domain, Engine, ForemanConfig, WorkerRegistry } from "@foreman/core"
import { ConfigProvider, Duration, Effect, Layer, Logger, LogLevel } from "effect"
import * as HttpWorkerTransport from "../src/HttpWorkerTransport.js"

/** A port that refuses every connection, whatever runs on this machine: nothing can listen on port 0. */
const refusingPort = 0

const engine = Engine.layer({
  storage: Memory.storage,
  agents: OfflineAgents.layer(),
  transport: HttpWorkerTransport.layerWith({ timeout: Duration.seconds(2), retries: 2, backoff: Duration.millis(10) }).pipe(
    Layer.provide(NodeHttpClient.layerUndici)
  ),
  // Offline long after the test ends: the worker must leave the rotation by the failed dispatch alone.
  config: ForemanConfig.layerWith({ pollIntervalSeconds: 0.2, retryBackoffSeconds: 0.1, workerOfflineAfterSeconds: 600 })
})

const until = <A>(what: string, probe: Effect.Effect<A | undefined, unknown>) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 8_000
    for (;;) {
      const value = yield* Effect.orElseSucceed(probe, () => undefined)
      if (value !== undefined) return value
      if (Date.now() > deadline) return yield* Effect.die(new Error(`timed out waiting for ${what}`))
      yield* Effect.sleep(Duration.millis(50))
    }
  })

describe("a push worker whose endpoint refuses connections", () => {
  it.scopedLive("leaves the rotation at its first failed dispatch, and the research keeps its attempts", () =>
    Effect.gen(function*() {
      const port = refusingPort
      const registry = yield* WorkerRegistry.WorkerRegistry
      const coordinator = yield* Coordinator.Coordinator
      yield* registry.register({
        id: "gpu-1" as Domain.WorkerId,
        type: "training",
        endpoint: `http://127.0.0.1:${port}`,
        capacity: 1,
        capabilities: {},
        runningJobs: [],
        finishedJobs: []
      })
      yield* Effect.forkScoped(coordinator.run)
      const research = yield* coordinator.trigger({ strategy: { name: "mtf_momentum_1", spec: { indicators: ["rsi"] } } })
      const worker = yield* until(
        "the worker in error",
        Effect.map(registry.get("gpu-1" as Domain.WorkerId), (w) => (w.status === "error" ? w : undefined))
      )
      assert.deepStrictEqual(worker.currentJobs, [])
      // Several polls later, nothing else happened: the research waits for a worker, no attempt spent.
      yield* Effect.sleep(Duration.seconds(1))
      const shown = yield* coordinator.show(research.id)
      assert.deepStrictEqual(shown.jobs.map((j) => j.status), ["refused"])
      assert.include(shown.jobs[0]!.error!, "ECONNREFUSED")
      assert.deepStrictEqual(
        [shown.research.status, shown.research.failures, shown.research.waitingFor?.workerType],
        ["running", 0, "training"]
      )
    }).pipe(
      Effect.provide(Layer.fresh(engine)),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
      Logger.withMinimumLogLevel(LogLevel.Error)
    ))
})
