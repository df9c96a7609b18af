/**
 * A worker is offline for its own silence, never for the coordinator's: after
 * a storage outage longer than the offline limit (heartbeats failed all along,
 * through no fault of the workers), silence counts from when the coordinator
 * could hear again, so healthy workers stay available; one that is really
 * gone is still marked offline once the limit has passed since then.
 */
import { assert, describe, it } from "@effect/vitest"
import { OfflineAgents } from "@foreman/agents"
import { Engine, Errors, ForemanConfig, Jobs, Researches, WorkerRegistry, WorkerStore } from "@foreman/core"
import { Context, Effect, Layer } from "effect"
import { Memory, MemoryWorkers } from "../src/index.js"
import { advance, goodBacktest, goodTraining, lead, spawnWorkers, takes } from "../src/TestEngine.js"

/** A switch that makes every call of the stores it wraps fail, as a database outage does. */
interface Outage {
  on: boolean
}

const failing = <A extends object>(service: A, outage: Outage): A =>
  Object.fromEntries(Object.entries(service).map(([key, value]) => {
    const down = Effect.fail(new Errors.StorageError({ reason: "connection refused" }))
    if (typeof value === "function") {
      return [key, (...args: Array<unknown>) => Effect.suspend(() => outage.on ? down : value(...args))]
    }
    return [key, Effect.isEffect(value) ? Effect.suspend(() => outage.on ? down : value) : value]
  })) as A

/** The memory engine whose worker and research stores go down while `outage.on`. */
const lab = (outage: Outage) =>
  Engine.layer({
    storage: Layer.effectContext(Effect.gen(function*() {
      const workers = yield* WorkerStore.WorkerStore
      const researches = yield* Researches.Researches
      const jobs = yield* Jobs.Jobs
      return Context.make(WorkerStore.WorkerStore, failing(workers, outage)).pipe(
        Context.add(Researches.Researches, failing(researches, outage)),
        Context.add(Jobs.Jobs, failing(jobs, outage))
      )
    })).pipe(Layer.provideMerge(Memory.storage)),
    agents: OfflineAgents.layer(),
    transport: MemoryWorkers.layer({ handlers: { training: takes(100, goodTraining), backtest: takes(50, goodBacktest) } }),
    config: ForemanConfig.layerWith({})
  })

const statuses = Effect.flatMap(WorkerRegistry.WorkerRegistry, (r) => r.list()).pipe(
  Effect.map((workers) => workers.map((w) => `${w.id}:${w.status}`))
)

describe("hearing workers after a storage outage", () => {
  it.scoped("healthy workers are not marked offline for an outage longer than the offline limit", () => {
    const outage: Outage = { on: false }
    return Effect.gen(function*() {
      yield* spawnWorkers()
      yield* lead
      yield* advance(5)
      assert.deepStrictEqual(yield* statuses, ["backtest-1:available", "training-1:available"])

      // The outage outlasts the offline limit (30 s): every heartbeat fails meanwhile.
      outage.on = true
      yield* advance(60)
      outage.on = false

      // Storage answers again: the loop ticks every 2 s, the workers beat every 10 s.
      for (let second = 1; second <= 40; second++) {
        yield* advance(1)
        assert.deepStrictEqual(
          yield* statuses,
          ["backtest-1:available", "training-1:available"],
          `${second} s after the outage`
        )
      }
    }).pipe(Effect.provide(Layer.fresh(lab(outage))))
  })

  it.scoped("a worker that died meanwhile is marked offline once the limit has passed since storage answered", () => {
    const outage: Outage = { on: false }
    return Effect.gen(function*() {
      yield* spawnWorkers()
      yield* lead
      yield* advance(5)
      outage.on = true
      yield* advance(20)
      yield* Effect.flatMap(MemoryWorkers.MemoryWorkers, (pool) => pool.crash("training-1"))
      yield* advance(40)
      outage.on = false

      yield* advance(25)
      assert.deepStrictEqual(yield* statuses, ["backtest-1:available", "training-1:available"], "within the limit")
      yield* advance(10)
      assert.deepStrictEqual(yield* statuses, ["backtest-1:available", "training-1:offline"])
    }).pipe(Effect.provide(Layer.fresh(lab(outage))))
  })
})
