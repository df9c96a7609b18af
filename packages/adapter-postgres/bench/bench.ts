/**
 * Benchmarks of the engine on PostgreSQL (DATABASE_URL, or an embedded server
 * in a temporary directory), each beside baselines measured in the same run:
 * the same measure on the in-memory adapter, and graphile-worker 0.18 on the
 * same server (see `graphileWorker.ts`).
 * - committed transitions per second, sustained, 500 researches through
 *   instant workers until every one has ended (met only if every one
 *   completed), against graphile-worker's unbatched jobs per second;
 * - latency from a worker becoming free to the next waiting research's job
 *   starting, against graphile-worker's add → start latency, and the same with
 *   1,000 and 100,000 researches waiting (it must not grow with the queue);
 * - one tick with 10,000 active researches, against one with 100 (and one with
 *   10,000 in memory): 10 training and 10 backtest workers, all busy; before each
 *   timed tick one training job and one backtest job finish, so the tick advances
 *   both researches and gives both freed workers their next job (its target is
 *   met only if every timed tick did).
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
  Researches,
  WorkerRegistry
} from "@foreman/core"
import { Deferred, Effect, Exit, Layer, Logger, LogLevel, Queue, Scope, Tracer } from "effect"
import { goodBacktest, goodTraining, research } from "@foreman/adapter-memory/TestEngine"
import * as Table from "../../../bench/table.js"
import * as EmbeddedPostgres from "../src/EmbeddedPostgres.js"
import * as Postgres from "../src/Postgres.js"
import * as GraphileWorker from "./graphileWorker.js"

type Handlers = MemoryWorkers.MemoryWorkersOptions["handlers"]
type EngineLayer = (handlers: Handlers, config: Parameters<typeof ForemanConfig.make>[0]) => Layer.Layer<
  Coordinator.Coordinator | MemoryWorkers.MemoryWorkers | CoordinatorEvents.CoordinatorEvents | Researches.Researches | WorkerRegistry.WorkerRegistry,
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

/** Statistics for the planner, as autovacuum gathers them soon after a bulk load. */
const analyze = (url: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`ANALYZE foreman_researches, foreman_jobs`
  }).pipe(Effect.provide(Postgres.client({ url, maxConnections: 1 })), Effect.orDie)

const instant = (result: unknown) => () => Effect.succeed(result)

/** Researches flowing through instant workers: committed transitions per second. */
const throughput = (layer: EngineLayer, researches: number) =>
  Effect.gen(function*() {
    const coordinator = yield* Coordinator.Coordinator
    const pool = yield* MemoryWorkers.MemoryWorkers
    const store = yield* Researches.Researches
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
    let completed = 0
    for (const id of ids) {
      const { research } = yield* coordinator.show(id)
      commits += research.version
      if (research.status === "completed") completed++
    }
    return { rate: commits / seconds, completed, researches }
  }).pipe(
    Effect.scoped,
    Effect.provide(layer({ training: instant(goodTraining), backtest: instant(goodBacktest) }, { dailyBudgetUsd: 0 }))
  )

/** `n` researches designed and waiting for a training worker, written straight to storage, oldest first. */
const waitingForTraining = (n: number) =>
  Effect.gen(function*() {
    const store = yield* Researches.Researches
    yield* Effect.forEach(
      Array.from({ length: n }, (_, i) => i),
      (i) =>
        store.insert(research(`op_bench${String(i).padStart(6, "0")}`, {
          forced: true,
          phase: "training",
          status: "running",
          strategy: { name: "s", spec: {} },
          createdAt: i,
          updatedAt: i,
          waitingFor: { workerType: "training", since: i }
        })),
      { concurrency: 16, discard: true }
    )
  })

/** Training jobs of the claim benchmark wait here until the driver finishes them. */
const gates: Array<Deferred.Deferred<void>> = []

/**
 * One training worker and at least `waiting` researches queued for it: the time from
 * its job finishing to the next research's training starting on it, in ms.
 */
const claimLatency = (layer: EngineLayer, waiting: number, rounds: number, loaded: Effect.Effect<void> = Effect.void) =>
  Effect.gen(function*() {
    gates.length = 0
    const coordinator = yield* Coordinator.Coordinator
    const pool = yield* MemoryWorkers.MemoryWorkers
    const events = yield* CoordinatorEvents.CoordinatorEvents
    const subscription = yield* events.subscribe
    // Every handover leaves at least `waiting` in the queue.
    yield* waitingForTraining(waiting + rounds + 1)
    yield* loaded
    yield* pool.spawn({ id: "t-1", type: "training" })
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
    return { p50: Table.percentile(latencies, 50), p99: Table.percentile(latencies, 99) }
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

/** Worker jobs of the tick benchmark wait here, by type, until the driver finishes them. */
const tickGates: Record<string, Array<Deferred.Deferred<void>>> = { training: [], backtest: [] }

const gated = (type: string, result: unknown) => () =>
  Effect.gen(function*() {
    const gate = yield* Deferred.make<void>()
    tickGates[type]!.push(gate)
    yield* Deferred.await(gate)
    return result
  })

/**
 * A tick that has work to do, with `n` researches waiting for training and
 * `workers` training and `workers` backtest workers, all busy: before each timed
 * tick the oldest training job and the oldest backtest job (once there is one)
 * finish, so the tick advances those researches, starts the trained one's
 * backtest and the next waiting research's training. Its median wall time, the
 * queries it issued, and `short`: timed ticks after which a freed worker stayed idle.
 */
const busyTick = (layer: EngineLayer, n: number, workers: number) =>
  Effect.gen(function*() {
    tickGates["training"]!.length = 0
    tickGates["backtest"]!.length = 0
    const coordinator = yield* Coordinator.Coordinator
    const pool = yield* MemoryWorkers.MemoryWorkers
    const events = yield* CoordinatorEvents.CoordinatorEvents
    const subscription = yield* events.subscribe
    yield* waitingForTraining(n)
    for (let i = 0; i < workers; i++) {
      yield* pool.spawn({ id: `t-${i}`, type: "training" })
      yield* pool.spawn({ id: `b-${i}`, type: "backtest" })
    }
    const { tick } = yield* coordinator.manual
    const running = (type: string) => tickGates[type]!.length
    for (let i = 0; i < 50 && running("training") < workers; i++) {
      yield* tick
      yield* Effect.sleep("10 millis")
    }
    /** Finishes the oldest job of `type`, if any, and waits until its report is stored. */
    const finish = (type: string) =>
      Effect.gen(function*() {
        const gate = tickGates[type]!.shift()
        if (gate === undefined) return 0
        yield* Deferred.succeed(gate, undefined)
        for (;;) {
          const event = yield* Queue.take(subscription)
          if (event._tag === "JobReported" && event.report === "Completed") return 1
        }
      })
    let queries = 0
    const base = yield* Effect.tracer
    const counting = Tracer.make({
      span: (name, parent, context, links, startTime, kind, options) => {
        if (name === "sql.execute") queries++
        return base.span(name, parent, context, links, startTime, kind, options)
      },
      context: base.context
    })
    const times: Array<number> = []
    let short = 0
    for (let i = 0; i < 11; i++) {
      yield* Queue.takeAll(subscription)
      const before = { training: running("training"), backtest: running("backtest") }
      const trained = yield* finish("training")
      const backtested = yield* finish("backtest")
      queries = 0
      const t0 = performance.now()
      const summary = yield* Effect.withTracer(tick, counting)
      times.push(performance.now() - t0)
      const refilled = () =>
        running("training") >= before.training && running("backtest") >= before.backtest - backtested + 1
      for (let wait = 0; wait < 2000 && !refilled(); wait++) yield* Effect.sleep("1 millis")
      if (trained === 0 || summary.started < 2 || !refilled()) short++
    }
    return { queries, ms: Table.percentile(times, 50), short }
  }).pipe(
    Effect.scoped,
    Effect.provide(Layer.suspend(() =>
      layer({ training: gated("training", goodTraining), backtest: gated("backtest", goodBacktest) }, { dailyBudgetUsd: 0 })
    ))
  )

const latency = (x: { p50: number; p99: number }) => `p50 ${Table.ms(x.p50)}, p99 ${Table.ms(x.p99)}`

/**
 * `node dist/bench.mjs throughput|claim|tick`: only the rows of committed transitions per second,
 * of the claim with 200 waiting, or of the tick (each with its baselines).
 */
const only = process.argv[2]

const program = Effect.gen(function*() {
  const scope = yield* Scope.make()
  const configured = process.env["DATABASE_URL"] ?? process.env["FOREMAN_DATABASE_URL"] ?? ""
  const url = configured !== "" ? configured : (yield* Scope.extend(EmbeddedPostgres.startTemporary, scope)).url
  const pg = postgresEngine(url)
  const reset = emptyTables(url)
  Table.begin("PostgreSQL engine, against graphile-worker 0.18 on the same server (packages/adapter-postgres)")

  if (only === undefined || only === "throughput") {
    const graphileRate = yield* Effect.promise(() => GraphileWorker.jobsPerSecond(url, 20_000))
    const mem = yield* throughput(memoryEngine, 500)
    yield* reset
    const pgRun = yield* throughput(pg, 500)
    const memRate = mem.rate
    const pgRate = pgRun.rate
    const completed = (x: { completed: number; researches: number }) => `${x.completed} of ${x.researches} completed`
    Table.row({ measure: "graphile-worker, unbatched jobs/s (baseline)", value: Table.count(graphileRate) })
    Table.row({ measure: "committed transitions/s, memory (baseline)", value: Table.count(memRate), baseline: completed(mem) })
    Table.row({
      measure: "committed transitions/s, postgres",
      value: Table.count(pgRate),
      target: "≥ graphile-worker's jobs/s, every research completed",
      baseline: `${Table.ratio(pgRate, graphileRate)} graphile-worker's; ${Table.ratio(pgRate, memRate)} memory's; ${completed(pgRun)}`,
      met: pgRate >= graphileRate && pgRun.completed === pgRun.researches
    })
  }

  if (only === "throughput") return yield* Scope.close(scope, Exit.void)

  if (only === undefined || only === "claim") {
    const graphileLatency = yield* Effect.promise(() => GraphileWorker.addToStart(url, 500))
    const memClaim = yield* claimLatency(memoryEngine, 200, 200)
    yield* reset
    const pgClaim = yield* claimLatency(pg, 200, 200)
    Table.row({ measure: "graphile-worker, add → start (baseline)", value: latency(graphileLatency) })
    Table.row({ measure: "free worker → next claim, 200 waiting, memory (baseline)", value: latency(memClaim) })
    Table.row({
      measure: "free worker → next claim, 200 waiting, postgres",
      value: latency(pgClaim),
      target: `p50 ≤ graphile-worker's (${Table.ms(graphileLatency.p50)}), p99 ≤ 20 ms`,
      baseline: `p50 ${Table.ratio(pgClaim.p50, graphileLatency.p50)} graphile-worker's`,
      met: pgClaim.p50 <= graphileLatency.p50 && pgClaim.p99 <= 20
    })
  }
  if (only === "claim") return yield* Scope.close(scope, Exit.void)

  if (only === undefined || only === "tick") {
    yield* reset
    const small = yield* busyTick(pg, 100, 10)
    yield* reset
    const large = yield* busyTick(pg, 10_000, 10)
    const memLarge = yield* busyTick(memoryEngine, 10_000, 10)
    const ticks = (x: { short: number }) => x.short === 0 ? "every tick started 2 jobs" : `${x.short} ticks short of 2 jobs`
    Table.row({
      measure: "one tick with 2 jobs done, 100 active, postgres (baseline)",
      value: Table.ms(small.ms),
      baseline: `${small.queries} queries; ${ticks(small)}`
    })
    Table.row({ measure: "one tick with 2 jobs done, 10,000 active, memory (baseline)", value: Table.ms(memLarge.ms), baseline: ticks(memLarge) })
    Table.row({
      measure: "one tick with 2 jobs done, 10,000 active, postgres",
      value: Table.ms(large.ms),
      target: "≤ 30 ms, both freed workers busy again",
      baseline: `${Table.ratio(large.ms, small.ms)} the 100-active tick; ${large.queries} queries; ${ticks(large)}`,
      met: large.ms <= 30 && large.short === 0 && small.short === 0 && memLarge.short === 0
    })
  }
  if (only === "tick") return yield* Scope.close(scope, Exit.void)

  yield* reset
  const thousand = yield* claimLatency(pg, 1_000, 50, analyze(url))
  yield* reset
  const hundredThousand = yield* claimLatency(pg, 100_000, 20, analyze(url))
  Table.row({ measure: "free worker → next claim, 1,000 waiting, postgres (baseline)", value: latency(thousand) })
  Table.row({
    measure: "free worker → next claim, 100,000 waiting, postgres",
    value: latency(hundredThousand),
    target: "p50 ≤ 2× with 1,000 waiting",
    baseline: `p50 ${Table.ratio(hundredThousand.p50, thousand.p50)} with 1,000 waiting`,
    met: hundredThousand.p50 <= 2 * thousand.p50
  })
  yield* Scope.close(scope, Exit.void)
})

Effect.runPromise(program.pipe(Logger.withMinimumLogLevel(LogLevel.Error))).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
