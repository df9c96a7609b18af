/**
 * Benchmarks of the engine on PostgreSQL (DATABASE_URL, or an embedded server
 * in a temporary directory), each beside the same measure on the in-memory
 * adapter as a baseline:
 * - committed transitions per second, sustained (target ≥ 1,000/s);
 * - latency from a worker becoming free to the next waiting research's job
 *   being claimed (target p50 ≤ 5 ms, p99 ≤ 20 ms);
 * - queries per tick at 10 and at 10,000 active researches (must be equal).
 */
import { SqlClient } from "@effect/sql"
import { Memory, MemoryWorkers } from "@foreman/adapter-memory"
import { OfflineAgents } from "@foreman/agents"
import {
  Coordinator,
  CoordinatorEvents,
  type Domain,
  Engine,
  ForemanConfig,
  ResearchStore,
  WorkerRegistry
} from "@foreman/core"
import { Deferred, Effect, Exit, Layer, Logger, LogLevel, Queue, Scope, Tracer } from "effect"
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import * as EmbeddedPostgres from "../src/EmbeddedPostgres.js"
import * as Postgres from "../src/Postgres.js"

type Handlers = MemoryWorkers.MemoryWorkersOptions["handlers"]
type EngineLayer = (handlers: Handlers, config: Parameters<typeof ForemanConfig.make>[0]) => Layer.Layer<
  Coordinator.Coordinator | MemoryWorkers.MemoryWorkers | CoordinatorEvents.CoordinatorEvents | ResearchStore.ResearchStore | WorkerRegistry.WorkerRegistry,
  unknown
>

const memoryEngine: EngineLayer = (handlers, config) => Layer.fresh(Memory.layer({ handlers, config }))

const postgresEngine = (url: string): EngineLayer => (handlers, config) =>
  Layer.fresh(
    Engine.layer({
      storage: Postgres.layer({ url, maxConnections: 20 }),
      agents: OfflineAgents.layer(),
      transport: MemoryWorkers.layer({ handlers }),
      config: ForemanConfig.layerWith(config)
    })
  )

const emptyTables = (url: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`TRUNCATE foreman_strategies, foreman_jobs, foreman_researches, foreman_workers, foreman_budget`
  }).pipe(Effect.provide(Postgres.migrated.pipe(Layer.provideMerge(Postgres.client({ url, maxConnections: 1 })))))

const percentile = (xs: ReadonlyArray<number>, p: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

const instant = (result: unknown) => () => Effect.succeed(result)

/** Researches flowing through instant workers: committed transitions per second. */
const throughput = (layer: EngineLayer, researches: number) =>
  Effect.gen(function*() {
    const coordinator = yield* Coordinator.Coordinator
    const pool = yield* MemoryWorkers.MemoryWorkers
    const store = yield* ResearchStore.ResearchStore
    for (let i = 0; i < 8; i++) {
      yield* pool.spawn({ id: `t-${i}`, type: "training", capacity: 4 })
      yield* pool.spawn({ id: `b-${i}`, type: "backtest", capacity: 4 })
    }
    const ids: Array<Domain.ResearchId> = []
    for (let i = 0; i < researches; i++) ids.push((yield* coordinator.trigger({ brief: `r${i}`, force: true })).id)
    const t0 = performance.now()
    yield* Effect.forkScoped(coordinator.run)
    for (;;) {
      if ((yield* store.countActive) === 0) break
      yield* Effect.sleep("20 millis")
    }
    const seconds = (performance.now() - t0) / 1000
    let commits = 0
    for (const id of ids) commits += (yield* coordinator.show(id)).research.version
    return commits / seconds
  }).pipe(
    Effect.scoped,
    Effect.provide(layer({ training: instant(goodTraining), backtest: instant(goodBacktest) }, { dailyBudgetUsd: 0 }))
  )

/** Training jobs of the handover benchmark wait here until the driver finishes them. */
const gates: Array<Deferred.Deferred<void>> = []

/** One training worker, a queue of waiting researches: report → next claim, in ms. */
const handover = (layer: EngineLayer, rounds: number) =>
  Effect.gen(function*() {
    const coordinator = yield* Coordinator.Coordinator
    const pool = yield* MemoryWorkers.MemoryWorkers
    const events = yield* CoordinatorEvents.CoordinatorEvents
    const subscription = yield* events.subscribe
    yield* pool.spawn({ id: "t-1", type: "training" })
    for (let i = 0; i <= rounds; i++) yield* coordinator.trigger({ brief: `r${i}`, force: true })
    yield* Effect.forkScoped(coordinator.run)
    const nextTrainingStart = Effect.gen(function*() {
      for (;;) {
        const event = yield* Queue.take(subscription)
        if (event._tag === "JobStarted" && event.kind === "training") return performance.now()
      }
    })
    yield* nextTrainingStart
    const latencies: Array<number> = []
    for (let i = 0; i < rounds; i++) {
      while (gates.length === 0) yield* Effect.sleep("1 millis")
      const t0 = performance.now()
      yield* Deferred.succeed(gates.shift()!, undefined)
      latencies.push((yield* nextTrainingStart) - t0)
    }
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
  }).pipe(
    Effect.scoped,
    Effect.provide(Layer.suspend(() =>
      layer({
        training: () =>
          Effect.gen(function*() {
            const gate = yield* Deferred.make<void>()
            gates.push(gate)
            yield* Deferred.await(gate)
            return goodTraining
          }),
        backtest: () => Effect.never
      }, { dailyBudgetUsd: 0 })
    ))
  )

/** Queries issued by one steady tick with `n` researches waiting for a worker. */
const queriesPerTick = (layer: EngineLayer, n: number) =>
  Effect.gen(function*() {
    const coordinator = yield* Coordinator.Coordinator
    const store = yield* ResearchStore.ResearchStore
    yield* Effect.forEach(
      Array.from({ length: n }, (_, i) => i),
      (i) =>
        store.insert({
          id: `op_bench${i}` as Domain.ResearchId,
          brief: "bench",
          model: null,
          bypassGates: false,
          forced: true,
          phase: "training",
          status: "running",
          strategy: { name: "s", spec: {} },
          results: {},
          gates: {},
          costUsd: 0,
          createdAt: i,
          updatedAt: i,
          finishedAt: null,
          waitingFor: { workerType: "training", since: i },
          activeJobId: null,
          attempt: 1,
          failures: 0,
          retryAt: null,
          error: null,
          version: 1
        }),
      { concurrency: 16, discard: true }
    )
    const { tick } = yield* coordinator.manual
    yield* tick
    let queries = 0
    const base = yield* Effect.tracer
    const counting = Tracer.make({
      span: (name, parent, context, links, startTime, kind, options) => {
        if (name === "sql.execute") queries++
        return base.span(name, parent, context, links, startTime, kind, options)
      },
      context: base.context
    })
    const t0 = performance.now()
    yield* Effect.withTracer(tick, counting)
    return { queries, ms: performance.now() - t0 }
  }).pipe(Effect.scoped, Effect.provide(layer({}, { dailyBudgetUsd: 0 })))

const program = Effect.gen(function*() {
  const scope = yield* Scope.make()
  const configured = process.env["DATABASE_URL"] ?? process.env["FOREMAN_DATABASE_URL"] ?? ""
  const url = configured !== "" ? configured : (yield* Scope.extend(EmbeddedPostgres.startTemporary, scope)).url
  const pg = postgresEngine(url)
  const reset = emptyTables(url)

  const rows: Array<[string, string, string]> = []
  const memRate = yield* throughput(memoryEngine, 500)
  yield* reset
  const pgRate = yield* throughput(pg, 500)
  rows.push(["transitions/s, memory (baseline)", memRate.toFixed(0), ""])
  rows.push(["transitions/s, postgres", pgRate.toFixed(0), "target >= 1,000/s"])

  gates.length = 0
  const memLatency = yield* handover(memoryEngine, 200)
  yield* reset
  gates.length = 0
  const pgLatency = yield* handover(pg, 200)
  rows.push(["free worker -> next claim, memory (baseline)", `p50 ${memLatency.p50.toFixed(2)} ms`, `p99 ${memLatency.p99.toFixed(2)} ms`])
  rows.push(["free worker -> next claim, postgres", `p50 ${pgLatency.p50.toFixed(2)} ms`, `p99 ${pgLatency.p99.toFixed(2)} ms; target p50 <= 5, p99 <= 20`])

  for (const n of [10, 10_000]) {
    yield* reset
    const q = yield* queriesPerTick(pg, n)
    rows.push([`queries per tick, ${n} active researches`, String(q.queries), `tick ${q.ms.toFixed(1)} ms`])
  }
  for (const [name, value, note] of rows) console.log(`${name.padEnd(46)} ${value.padStart(14)}  ${note}`)
  yield* Scope.close(scope, Exit.void)
})

Effect.runPromise(program.pipe(Logger.withMinimumLogLevel(LogLevel.Error))).catch((error) => {
  console.error(error)
  process.exit(1)
})

