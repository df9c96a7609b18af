/** Test helpers: an in-memory lab with scripted workers, driven by the TestClock. */
import { Coordinator, type Domain } from "@foreman/core"
import { Duration, Effect, Layer, TestClock } from "effect"
import { Memory, MemoryWorkers } from "../src/index.js"

export const goodTraining = {
  kind: "classification",
  testAccuracy: 0.62,
  testLoss: 0.41,
  epochLosses: [0.9, 0.7, 0.5, 0.45]
}
export const badTraining = { ...goodTraining, testAccuracy: 0.05 }
export const goodBacktest = {
  sharpeRatio: 1.3,
  winRate: 0.55,
  totalReturn: 0.12,
  totalTrades: 40,
  maxDrawdown: 0.1,
  netReturn: 0.1,
  tradeCount: 40
}

/** A handler that takes `seconds` and returns `result`. */
export const takes = (seconds: number, result: unknown): MemoryWorkers.JobHandler => () =>
  Effect.as(Effect.sleep(Duration.seconds(seconds)), result)

export const labLayer = (options: Memory.MemoryOptions = {}) =>
  Memory.layer({
    handlers: { training: takes(100, goodTraining), backtest: takes(50, goodBacktest) },
    ...options
  })

/** Spawns workers (`training-1`, …) and forks the coordinator loop in the test's scope. */
export const startLab = (workers: { readonly training?: number; readonly backtest?: number } = {}) =>
  Effect.gen(function*() {
    const pool = yield* MemoryWorkers.MemoryWorkers
    for (const [type, count] of Object.entries({ training: 1, backtest: 1, ...workers })) {
      for (let i = 1; i <= count; i++) yield* pool.spawn({ id: `${type}-${i}`, type })
    }
    const coordinator = yield* Coordinator.Coordinator
    yield* Effect.forkScoped(coordinator.run)
    yield* TestClock.adjust(Duration.zero)
    return coordinator
  })

/** Moves simulated time forward in one-second steps so every event in between is handled. */
export const advance = (seconds: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < seconds; i++) yield* TestClock.adjust(Duration.seconds(1))
  })

export const phaseOf = (id: Domain.ResearchId) =>
  Effect.flatMap(Coordinator.Coordinator, (c) => Effect.map(c.show(id), (s) => `${s.research.status}:${s.research.phase}`))

export const fresh = <A, E, R>(self: Effect.Effect<A, E, R>, options?: Memory.MemoryOptions) =>
  Effect.provide(self, Layer.fresh(labLayer(options)))
