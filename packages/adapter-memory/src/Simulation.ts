/**
 * Deterministic simulation of a research lab: the real coordinator, registry
 * and budget on in-memory storage, with simulated workers, agents and an
 * operator who triggers researches (refused ones wait in one line and retry),
 * under a discrete-event clock. Faults are injected from the seeded `Random`;
 * every invariant is checked after every step; the trace hash replays from the
 * seed. The pipeline, the workers, the arrivals, the job durations, the
 * faults and the LLM costs are settings (`SimulationOptions`), and a user's
 * own invariants run beside the built-in ones. The cost of a run grows with
 * simulated time and with the researches, not with how many wait at once.
 */
import {
  Budget,
  BudgetLedger,
  Coordinator,
  CoordinatorEvents,
  type Domain,
  Engine,
  ForemanConfig,
  Pipeline,
  Researches,
  Wakeup,
  WorkerStore
} from "@foreman/core"
import { Chunk, Duration, Effect, Either, Fiber, Layer, Logger, LogLevel, Option, Queue, Random } from "effect"
import { Referee } from "./internal/invariants.js"
import { agentsLayer, chance, timedPipeline, workerHandlers } from "./internal/simParts.js"
import { SimRuntime } from "./internal/simRuntime.js"
import * as Memory from "./Memory.js"
import * as MemoryWorkers from "./MemoryWorkers.js"
import { arrivalTimes } from "./SimulationModels.js"
import { decodeInput, type SimulationInput, type SimulationOptions, withDefaults } from "./SimulationOptions.js"
import { type PerWorkerType, perDay, type SimulationReport, waitFigures } from "./SimulationReport.js"

type MemoryWorkersShape = MemoryWorkers.MemoryWorkersShape

export * from "./SimulationOptions.js"
export * from "./SimulationReport.js"

/** 2026-01-01T00:00:00Z: simulations start at midnight UTC, the start of a budget day, unless told `startOfDaySeconds`. */
const MIDNIGHT = 1_767_225_600_000
const DAY = 86_400_000

const simulate = (o: SimulationOptions, runtime: SimRuntime, crashes: { count: number }) =>
  Effect.gen(function*() {
    const START = MIDNIGHT + o.startOfDaySeconds * 1000
    const coordinator = yield* Coordinator.Coordinator
    const pool = yield* MemoryWorkers.MemoryWorkers
    const events = yield* CoordinatorEvents.CoordinatorEvents
    const store = yield* Researches.Researches
    const workerStore = yield* WorkerStore.WorkerStore
    const ledger = yield* BudgetLedger.BudgetLedger
    const budget = yield* Budget.Budget
    const referee = new Referee()
    const subscription = yield* events.subscribe
    const end = START + o.horizonSeconds * 1000
    let accepted = 0
    let restarts = 0

    for (const [type, count] of Object.entries(o.workers)) {
      for (let i = 1; i <= count; i++) yield* pool.spawn({ id: `${type}-${i}`, type, protocol: o.workerProtocol })
    }
    let leader = yield* Effect.forkScoped(coordinator.run)

    const remainingBeforeTrigger = Effect.gen(function*() {
      if (o.dailyBudgetUsd === 0) return Infinity
      const now = runtime.now
      const dayStart = now - (now % DAY)
      return o.dailyBudgetUsd - (yield* ledger.spentBetween(dayStart, dayStart + DAY))
    })

    // The operator's waiting clients form one first-come-first-served line. An arrival
    // joins the back; the head tries to trigger at once, and after a refusal again every
    // `retryTriggerEverySeconds`; once the head is accepted the next one tries at once.
    // One fiber and at most one timer serve the whole line, so a backlog costs time
    // linear in its length, not one timer and one refused trigger per client per retry.
    const line: Array<number> = []
    let head = 0
    let arrived = 0
    const lineWakeup = yield* Wakeup.makeLocal

    const attempt = (n: number) =>
      Effect.gen(function*() {
        const remaining = yield* remainingBeforeTrigger
        const { estimateUsd } = yield* budget.status()
        const outcome = yield* Effect.either(coordinator.trigger({ brief: `simulated research ${n + 1}` }))
        if (outcome._tag === "Left") return false
        accepted++
        if (remaining < estimateUsd - 1e-9) {
          referee.violations.push(`${outcome.right.id} accepted with $${remaining.toFixed(4)} left`)
        }
        if (yield* chance(o.faults.cancel)) {
          const delay = yield* Random.nextIntBetween(0, 3600)
          const id = outcome.right.id
          yield* Effect.forkScoped(
            Effect.zipRight(Effect.sleep(Duration.seconds(delay)), Effect.ignore(coordinator.cancel(id)))
          )
        }
        return true
      })

    const serveLine = Effect.gen(function*() {
      for (;;) {
        while (head < line.length) {
          if (yield* attempt(line[head]!)) head++
          else yield* Effect.sleep(Duration.seconds(o.retryTriggerEverySeconds))
        }
        if (arrived === o.researches) return
        yield* lineWakeup.await
      }
    })

    // Arrivals come from a stream of their own, so runs of one seed that differ in
    // anything else (workers, durations) see the same arrivals.
    const arrivals = yield* Effect.withRandom(arrivalTimes(o.arrivals, o.researches), Random.make(`arrivals/${o.seed}`))
    const arrive = Effect.gen(function*() {
      for (let n = 0; n < o.researches; n++) {
        const at = START + Math.round(arrivals[n]! * 1000)
        if (at > runtime.now) yield* Effect.sleep(Duration.millis(at - runtime.now))
        line.push(n)
        arrived++
        yield* lineWakeup.signal
      }
    })
    yield* Effect.forkScoped(serveLine)
    yield* Effect.forkScoped(arrive)

    if (o.faults.coordinatorRestart > 0) {
      yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
        yield* Effect.sleep(Duration.minutes(10))
        if (yield* chance(o.faults.coordinatorRestart)) {
          restarts++
          yield* Fiber.interrupt(leader)
          leader = yield* Effect.forkScoped(coordinator.run)
        }
      })))
    }

    // The driver: once every fiber is blocked, fold the step's events and check the
    // workers, then jump the clock to the next timer. A step is one simulated moment.
    let checkedWorkers: ReadonlyArray<Domain.Worker> | undefined
    let budgetOutAt: number | null = null
    let checkedWaiting = -1
    const userInvariants = Object.entries(o.invariants)
    const reported = new Set<string>()
    for (;;) {
      yield* runtime.settle
      // Most steps (a heartbeat) announce nothing: only a step that did is drained.
      const pending = Option.getOrElse(subscription.unsafeSize(), () => 0)
      const stepEvents = pending === 0 ? [] : Chunk.toReadonlyArray(yield* Queue.takeAll(subscription))
      if (stepEvents.length > 0) referee.observe(stepEvents)
      if (budgetOutAt === null && referee.refusals.budget > 0) {
        budgetOutAt = stepEvents.find((e) => e._tag === "Refused" && e.reason === "budget")?.at ?? runtime.now
      }
      // The worker check is a function of the workers and of who waits; the memory store
      // answers the same array until a worker changes, so an unchanged pair was checked.
      const workers = yield* workerStore.list
      if (workers !== checkedWorkers || referee.waitingChanges !== checkedWaiting) {
        referee.checkWorkers(workers, runtime.now)
        checkedWorkers = workers
        checkedWaiting = referee.waitingChanges
      }
      if (userInvariants.length > 0) {
        const world = {
          now: runtime.now,
          researches: yield* store.list({ limit: Number.MAX_SAFE_INTEGER, offset: 0 }),
          workers,
          events: stepEvents
        }
        for (const [name, check] of userInvariants) {
          for (const violation of check(world)) {
            const line = `${name}: ${violation}`
            if (reported.has(line) || reported.size >= 100) continue
            reported.add(line)
            referee.violations.push(line)
          }
        }
      }
      // The store is asked only once the events say every research has ended.
      if (accepted === o.researches && referee.activeCount === 0 && (yield* store.countActive) === 0) break
      const next = runtime.next()
      if (next === undefined || next > end) break
      runtime.advanceTo(next)
    }
    const simulatedSeconds = (runtime.now - START) / 1000

    const all = yield* store.list({ limit: Number.MAX_SAFE_INTEGER, offset: 0 })
    referee.checkEnd(all)
    const stats = yield* pool.stats
    for (const id of stats.duplicateStarts) referee.violations.push(`worker job ${id} started twice`)
    for (const pair of stats.overlapping) referee.violations.push(`two worker jobs at once for ${pair}`)
    const longestWaits = referee.longestWaits(runtime.now)
    const openWaits = referee.openWaits(runtime.now)
    const entries = yield* ledger.entriesBetween(0, Number.MAX_SAFE_INTEGER)
    const count = (status: Domain.ResearchStatus) => all.filter((r) => r.status === status).length
    const utilisation = (type: string) => {
      const count = o.workers[type] ?? 0
      return count === 0 || simulatedSeconds === 0
        ? 0
        : Math.round(((stats.busySeconds[type] ?? 0) / (count * simulatedSeconds)) * 1000) / 1000
    }
    const types = Object.keys(o.workers).filter((t) => t !== "training" && t !== "backtest")
    const perType = (figure: (type: string) => number): PerWorkerType => ({
      training: figure("training"),
      backtest: figure("backtest"),
      ...Object.fromEntries(types.map((t) => [t, figure(t)]))
    })
    return {
      seed: o.seed,
      researches: o.researches,
      outcomes: {
        completed: count("completed"),
        failed: count("failed"),
        cancelled: count("cancelled"),
        active: count("pending") + count("running"),
        notTriggered: o.researches - all.length
      },
      refusals: { ...referee.refusals },
      invariantViolations: [...referee.violations],
      traceHash: referee.traceHash,
      simulatedSeconds,
      events: referee.events,
      utilisation: perType(utilisation),
      maxWaitSeconds: perType((t) => longestWaits[t] ?? 0),
      waits: Object.fromEntries(
        [...new Set(["training", "backtest", ...Object.keys(o.workers)])].map((t) => [
          t,
          waitFigures([...(referee.waitSamples[t] ?? []), ...(openWaits[t] ?? [])])
        ])
      ),
      finishedPerDay: perDay(
        START,
        o.horizonSeconds,
        all.flatMap((r) => (r.finishedAt !== null && (r.status === "completed" || r.status === "failed") ? [[r.finishedAt, 1] as const] : []))
      ),
      spentPerDayUsd: perDay(START, o.horizonSeconds, entries.map((e) => [e.at, e.costUsd] as const)),
      budgetExhaustedAtSeconds: budgetOutAt === null ? null : (budgetOutAt - START) / 1000,
      workerStarts: stats.starts,
      coordinatorRestarts: restarts,
      workerCrashes: crashes.count,
      spentUsd: Math.round((yield* ledger.spentBetween(0, Number.MAX_SAFE_INTEGER)) * 1e4) / 1e4
    } satisfies SimulationReport
  })

/**
 * Runs a simulation. Its cost grows with the researches (each trigger, tick
 * and job), a little with simulated time (the coordinator, which does not poll
 * in memory, ticks on what happens and when something time-based is due; push
 * workers' heartbeats are applied by the store when read, not sent), and not
 * with how many wait at once.
 */
export const run = (input: SimulationInput = {}): Effect.Effect<SimulationReport> =>
  Effect.suspend(() => {
    const checked = decodeInput(input)
    if (Either.isLeft(checked)) return Effect.dieMessage(`Simulation.run: invalid options: ${checked.left}`)
    const o = withDefaults(input)
    const runtime = new SimRuntime(MIDNIGHT + o.startOfDaySeconds * 1000)
    let pool: MemoryWorkersShape | undefined
    const poolRef = () => pool!
    const crashes = { count: 0 }
    const pipeline = timedPipeline(o.pipeline ?? Pipeline.research, o)
    // An agent thinks for `phaseSeconds` unless its phase has a duration model (which then takes the time).
    const latency = (kind: "design" | "assessment") =>
      o.jobs[kind]?.duration === undefined ? Duration.seconds(o.phaseSeconds[kind]) : Duration.zero
    const lab = Engine.layer({
      storage: Memory.storage,
      agents: agentsLayer({ designLatency: latency("design"), assessLatency: latency("assessment") }, o.llmCost),
      transport: MemoryWorkers.layer({
        handlers: workerHandlers(o, pipeline, poolRef, crashes),
        dispatchFails: chance(o.faults.dispatchFailure),
        beatByPulse: true
      }),
      config: ForemanConfig.layerWith({
        pollIntervalSeconds: o.pollIntervalSeconds,
        dailyBudgetUsd: o.dailyBudgetUsd,
        maxConcurrentResearches: o.maxConcurrentResearches,
        ...(o.heartbeatIntervalSeconds === undefined ? {} : {
          heartbeatIntervalSeconds: o.heartbeatIntervalSeconds,
          workerOfflineAfterSeconds: 3 * o.heartbeatIntervalSeconds,
          workerRemoveAfterSeconds: Math.max(300, 30 * o.heartbeatIntervalSeconds)
        })
      })
    })
    return Effect.gen(function*() {
      pool = yield* MemoryWorkers.MemoryWorkers
      return yield* simulate(o, runtime, crashes)
    }).pipe(
      Effect.provide(Layer.fresh(lab)),
      Effect.provideService(Pipeline.Pipeline, pipeline),
      Effect.scoped,
      Effect.orDie,
      Effect.withRandom(Random.make(o.seed)),
      Effect.withClock(runtime.clock),
      Effect.withScheduler(runtime.scheduler),
      // Nobody reads a simulation's spans: none is recorded.
      Effect.withTracerEnabled(false),
      // Reads the engine would make at once (`concurrency: "inherit"`) are made one after the
      // other: in memory each answers at once, and a fork costs more than the read.
      Effect.withConcurrency(1),
      Logger.withMinimumLogLevel(LogLevel.None)
    )
  })
