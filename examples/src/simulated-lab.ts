/**
 * A small lab in memory, in real time: two training workers and one backtest
 * worker, an operator who triggers six researches (retrying when refused at
 * capacity), and a line printed for every move through the phases. Jobs take
 * seconds instead of minutes. Run it with `npm run simulated-lab`; Ctrl+C stops it.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Memory, MemoryWorkers, SimulatedWork } from "@foreman/adapter-memory"
import { Coordinator, CoordinatorEvents, type Domain } from "@foreman/core"
import { Clock, Duration, Effect, Layer, Logger, LogLevel, Queue } from "effect"

const BRIEFS = [
  "Explore RSI variations",
  "Test MACD strategies",
  "Multi-timeframe experiment",
  "Bollinger band breakouts",
  "EMA crossover on daily bars",
  "Stochastic momentum"
]

const lab = Memory.layer({
  config: { pollIntervalSeconds: 1, dailyBudgetUsd: 5 },
  agents: { designLatency: Duration.seconds(2), assessLatency: Duration.seconds(1) },
  handlers: {
    training: SimulatedWork.training({ seconds: 6 }),
    backtest: SimulatedWork.backtest({ seconds: 4 })
  }
})

const clockTime = (start: number, now: number) => {
  const s = Math.floor((now - start) / 1000)
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`
}

const program = Effect.gen(function*() {
  const coordinator = yield* Coordinator.Coordinator
  const workers = yield* MemoryWorkers.MemoryWorkers
  const events = yield* CoordinatorEvents.CoordinatorEvents
  const start = yield* Clock.currentTimeMillis
  const strategies = new Map<string, string>()

  yield* Effect.log("Foreman simulated lab: 2 training workers, 1 backtest worker, 6 researches (in memory).")
  for (const id of ["training-1", "training-2"]) yield* workers.spawn({ id, type: "training" })
  yield* workers.spawn({ id: "backtest-1", type: "backtest" })
  const subscription = yield* events.subscribe
  yield* Effect.forkScoped(coordinator.run)

  yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
    const event = yield* Queue.take(subscription)
    if (event._tag === "Transition" && !strategies.has(event.researchId)) {
      const shown = yield* Effect.option(coordinator.show(event.researchId))
      if (shown._tag === "Some" && shown.value.research.strategy) {
        strategies.set(event.researchId, shown.value.research.strategy.name)
      }
    }
    const line = CoordinatorEvents.describe(event, (id) => strategies.get(id))
    if (line !== null) yield* Effect.log(`[${clockTime(start, yield* Clock.currentTimeMillis)}] ${line}`)
  })))

  const triggered: Array<Domain.ResearchId> = []
  triggering: for (const brief of BRIEFS) {
    for (;;) {
      const outcome = yield* Effect.either(coordinator.trigger({ brief }))
      if (outcome._tag === "Right") {
        triggered.push(outcome.right.id)
        break
      }
      // At capacity: a slot frees up when a research finishes. Any other refusal (the budget) will not pass.
      if (outcome.left._tag !== "AtCapacity") {
        yield* Effect.log(`${outcome.left.message}: no more triggers`)
        break triggering
      }
      yield* Effect.sleep(Duration.seconds(3))
    }
  }
  for (;;) {
    yield* Effect.sleep(Duration.seconds(1))
    const status = yield* coordinator.status()
    if (status.active.length === 0) break
  }
  const budget = (yield* coordinator.status()).budget
  yield* Effect.log(
    `All ${triggered.length} researches finished in ${clockTime(start, yield* Clock.currentTimeMillis)}; ` +
      `spent $${budget.spentUsd.toFixed(4)} of today's $${budget.limitUsd.toFixed(2)}.`
  )
  for (const id of triggered) {
    const { research } = yield* coordinator.show(id)
    const gates = Object.entries(research.gates).map(([gate, g]) => `${gate} ${g.passed ? "passed" : `failed: ${g.reason}`}`)
    yield* Effect.log(`  ${id}  ${research.status.padEnd(9)} ${research.strategy?.name ?? "-"}  ${gates.join("; ")}`)
  }
})

program.pipe(
  Effect.scoped,
  Effect.provide(Layer.fresh(lab)),
  Effect.provide(Logger.pretty),
  Logger.withMinimumLogLevel(LogLevel.Info),
  NodeRuntime.runMain
)
