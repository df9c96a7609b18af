/**
 * Deterministic simulation of a research lab: the real coordinator, registry
 * and budget on in-memory storage, with simulated workers, agents and an
 * operator who triggers researches (refused ones wait in one line and retry),
 * under a discrete-event clock. Faults are injected from the seeded `Random`;
 * every invariant is checked after every step; the trace hash replays from the
 * seed. The cost of a run grows with simulated time and with the researches,
 * not with how many wait at once.
 */
import {
  Budget,
  BudgetLedger,
  Coordinator,
  CoordinatorEvents,
  type Domain,
  Researches,
  Wakeup,
  WorkerStore
} from "@foreman/core"
import { Chunk, Duration, Effect, Fiber, Layer, Logger, LogLevel, Queue, Random } from "effect"
import { Referee } from "./internal/invariants.js"
import { SimRuntime } from "./internal/simRuntime.js"
import * as Memory from "./Memory.js"
import { type JobHandler, MemoryWorkers, type MemoryWorkersShape } from "./MemoryWorkers.js"
import * as SimulatedWork from "./SimulatedWork.js"
import { type SimulationInput, type SimulationOptions, withDefaults } from "./SimulationOptions.js"

export * from "./SimulationOptions.js"

export interface SimulationReport {
  readonly seed: number
  readonly researches: number
  /** Sums to `researches`; `notTriggered` counts those still in the line, or yet to arrive, when the horizon came. */
  readonly outcomes: {
    readonly completed: number
    readonly failed: number
    readonly cancelled: number
    readonly active: number
    readonly notTriggered: number
  }
  /**
   * Triggers the coordinator refused, by reason. Researches the operator could not
   * start wait in one first-come-first-served line, and only the head asks: an
   * arrival asks at once when nobody is ahead of it, the head asks again every
   * `retryTriggerEverySeconds`, and the next asks as soon as the head is accepted.
   * So a count is refused requests — about one per retry period for as long as
   * the lab stays full or broke — not one per waiting research per retry.
   */
  readonly refusals: { readonly capacity: number; readonly budget: number }
  readonly invariantViolations: ReadonlyArray<string>
  readonly traceHash: string
  readonly simulatedSeconds: number
  readonly events: number
  readonly utilisation: { readonly training: number; readonly backtest: number }
  /** The longest wait for a worker of each type; a wait still open at the end counts up to the end. */
  readonly maxWaitSeconds: { readonly training: number; readonly backtest: number }
  readonly workerStarts: number
  readonly coordinatorRestarts: number
  readonly workerCrashes: number
  readonly spentUsd: number
}

/** 2026-01-01T00:00:00Z: simulations start at midnight UTC, the start of a budget day. */
const START = 1_767_225_600_000
const DAY = 86_400_000

const chance = (p: number) => (p <= 0 ? Effect.succeed(false) : Effect.map(Random.next, (x) => x < p))

const simulate = (o: SimulationOptions, runtime: SimRuntime, crashes: { count: number }) =>
  Effect.gen(function*() {
    const coordinator = yield* Coordinator.Coordinator
    const pool = yield* MemoryWorkers
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

    const arrive = Effect.gen(function*() {
      for (let n = 0; n < o.researches; n++) {
        const at = START + n * o.arrivalEverySeconds * 1000
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
    let checkedWaiting = -1
    for (;;) {
      yield* runtime.settle
      const stepEvents = yield* Queue.takeAll(subscription)
      if (Chunk.isNonEmpty(stepEvents)) referee.observe(Chunk.toReadonlyArray(stepEvents))
      // The worker check is a function of the workers and of who waits; the memory store
      // answers the same array until a worker changes, so an unchanged pair was checked.
      const workers = yield* workerStore.list
      if (workers !== checkedWorkers || referee.waitingChanges !== checkedWaiting) {
        referee.checkWorkers(workers, runtime.now)
        checkedWorkers = workers
        checkedWaiting = referee.waitingChanges
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
    const count = (status: Domain.ResearchStatus) => all.filter((r) => r.status === status).length
    const utilisation = (type: "training" | "backtest") =>
      o.workers[type] === 0 || simulatedSeconds === 0
        ? 0
        : Math.round(((stats.busySeconds[type] ?? 0) / (o.workers[type] * simulatedSeconds)) * 1000) / 1000
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
      utilisation: { training: utilisation("training"), backtest: utilisation("backtest") },
      maxWaitSeconds: { training: longestWaits["training"] ?? 0, backtest: longestWaits["backtest"] ?? 0 },
      workerStarts: stats.starts,
      coordinatorRestarts: restarts,
      workerCrashes: crashes.count,
      spentUsd: Math.round((yield* ledger.spentBetween(0, Number.MAX_SAFE_INTEGER)) * 1e4) / 1e4
    } satisfies SimulationReport
  })

/** Wraps a handler so that, with probability `p`, its worker crashes partway and comes back later. */
const crashing = (
  handler: JobHandler,
  p: number,
  seconds: number,
  downtime: number,
  pool: () => MemoryWorkersShape,
  crashes: { count: number }
): JobHandler =>
(spec, context) =>
  Effect.gen(function*() {
    if (yield* chance(p)) {
      const at = Math.round(seconds * (yield* Random.next) * 1000)
      yield* Effect.forkDaemon(Effect.gen(function*() {
        yield* Effect.sleep(Duration.millis(at))
        crashes.count++
        yield* pool().crash(context.workerId)
        yield* Effect.sleep(Duration.seconds(downtime))
        yield* pool().restart(context.workerId)
      }))
    }
    return yield* handler(spec, context)
  })

/**
 * Runs a simulation. Its cost grows with simulated time (every worker
 * heartbeats; the coordinator, which does not poll in memory, ticks on what
 * happens and when something time-based is due) and with the researches, not
 * with how many wait at once.
 */
export const run = (input: SimulationInput = {}): Effect.Effect<SimulationReport> =>
  Effect.suspend(() => {
    const o = withDefaults(input)
    const runtime = new SimRuntime(START)
    let pool: MemoryWorkersShape | undefined
    const poolRef = () => pool!
    const crashes = { count: 0 }
    const handlers = {
      training: crashing(
        SimulatedWork.training({ seconds: o.phaseSeconds.training, failureRate: o.faults.jobFailure }),
        o.faults.workerCrash,
        o.phaseSeconds.training,
        o.workerDowntimeSeconds,
        poolRef,
        crashes
      ),
      backtest: crashing(
        SimulatedWork.backtest({ seconds: o.phaseSeconds.backtest, failureRate: o.faults.jobFailure }),
        o.faults.workerCrash,
        o.phaseSeconds.backtest,
        o.workerDowntimeSeconds,
        poolRef,
        crashes
      )
    }
    const lab = Memory.layer({
      config: {
        pollIntervalSeconds: o.pollIntervalSeconds,
        dailyBudgetUsd: o.dailyBudgetUsd,
        maxConcurrentResearches: o.maxConcurrentResearches
      },
      agents: {
        designLatency: Duration.seconds(o.phaseSeconds.design),
        assessLatency: Duration.seconds(o.phaseSeconds.assessment)
      },
      handlers,
      dispatchFails: chance(o.faults.dispatchFailure)
    })
    return Effect.gen(function*() {
      pool = yield* MemoryWorkers
      return yield* simulate(o, runtime, crashes)
    }).pipe(
      Effect.provide(Layer.fresh(lab)),
      Effect.scoped,
      Effect.orDie,
      Effect.withRandom(Random.make(o.seed)),
      Effect.withClock(runtime.clock),
      Effect.withScheduler(runtime.scheduler),
      Logger.withMinimumLogLevel(LogLevel.None)
    )
  })
