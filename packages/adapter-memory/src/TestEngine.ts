/**
 * A test kit for code built on Foreman: an in-memory lab with scripted
 * workers driven by the TestClock, job results that pass or fail the gates,
 * and hand-built domain objects with sensible defaults (override what
 * matters). Import it as `@foreman/adapter-memory/TestEngine`.
 */
import { Coordinator, type Domain, ResearchTransitions } from "@foreman/core"
import { Duration, Effect, Layer, TestClock } from "effect"
import * as Memory from "./Memory.js"
import * as MemoryWorkers from "./MemoryWorkers.js"

type Job = Domain.Job
type Research = Domain.Research
type Worker = Domain.Worker
type JobId = Domain.JobId
type ResearchId = Domain.ResearchId
type WorkerId = Domain.WorkerId

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

/** Workers that answer at once: a good training and a good backtest result. */
export const instantHandlers: Readonly<Record<"training" | "backtest", MemoryWorkers.JobHandler>> = {
  training: () => Effect.succeed(goodTraining),
  backtest: () => Effect.succeed(goodBacktest)
}

/** A handler that takes `seconds` and returns `result`. */
export const takes = (seconds: number, result: unknown): MemoryWorkers.JobHandler => () =>
  Effect.as(Effect.sleep(Duration.seconds(seconds)), result)

export const labLayer = (options: Memory.MemoryOptions = {}) =>
  Memory.layer({
    handlers: { training: takes(100, goodTraining), backtest: takes(50, goodBacktest) },
    ...options
  })

/** Spawns in-memory workers named `training-1`, `backtest-1`, … (one of each by default). */
export const spawnWorkers = (workers: { readonly training?: number; readonly backtest?: number } = {}) =>
  Effect.gen(function*() {
    const pool = yield* MemoryWorkers.MemoryWorkers
    for (const [type, count] of Object.entries({ training: 1, backtest: 1, ...workers })) {
      for (let i = 1; i <= count; i++) yield* pool.spawn({ id: `${type}-${i}`, type })
    }
  })

/** Forks a coordinator loop in the test's scope; interrupt the fiber to kill that coordinator. */
export const lead = Effect.gen(function*() {
  const coordinator = yield* Coordinator.Coordinator
  const fiber = yield* Effect.forkScoped(coordinator.run)
  yield* TestClock.adjust(Duration.zero)
  return fiber
})

/** Spawns workers and forks the coordinator loop in the test's scope. */
export const startLab = (workers: { readonly training?: number; readonly backtest?: number } = {}) =>
  Effect.gen(function*() {
    yield* spawnWorkers(workers)
    yield* lead
    return yield* Coordinator.Coordinator
  })

/** Moves simulated time forward; every sleep due in between wakes in order. */
export const advance = (seconds: number) => TestClock.adjust(Duration.seconds(seconds))

/** The research with its jobs. */
export const show = (id: Domain.ResearchId) => Effect.flatMap(Coordinator.Coordinator, (c) => c.show(id))

/** Job kinds and statuses of a research, in order: `training:lost`, … */
export const jobsOf = (id: Domain.ResearchId) =>
  Effect.map(show(id), (s) => s.jobs.map((j) => `${j.kind}:${j.status}`))

/** `status:phase` of a research. */
export const phaseOf = (id: Domain.ResearchId) => Effect.map(show(id), (s) => `${s.research.status}:${s.research.phase}`)

/** Runs `self` in a fresh lab of its own. */
export const fresh = <A, E, R>(self: Effect.Effect<A, E, R>, options?: Memory.MemoryOptions) =>
  Effect.provide(self, Layer.fresh(labLayer(options)))


/** A research just triggered (`ResearchTransitions.create` at time 1000), with `overrides` on top. */
export const research = (id: string, overrides: Partial<Research> = {}): Research => ({
  ...ResearchTransitions.create({
    id: id as ResearchId,
    brief: "Explore RSI variations",
    model: null,
    bypassGates: false,
    forced: false,
    phase: "designing",
    strategy: null,
    now: 1000
  }),
  ...overrides
})

export const job = (id: string, researchId: string, overrides: Partial<Job> = {}): Job => ({
  id: id as JobId,
  researchId: researchId as ResearchId,
  kind: "training",
  phase: "training",
  workerType: "training",
  workerId: "w-1" as WorkerId,
  status: "running",
  attempt: 1,
  progress: 0,
  message: null,
  input: { strategy: { name: "s", spec: { period: 14 } } },
  result: null,
  usage: null,
  error: null,
  epoch: 1,
  createdAt: 1000,
  updatedAt: 1000,
  finishedAt: null,
  ...overrides
})

export const worker = (id: string, overrides: Partial<Worker> = {}): Worker => ({
  id: id as WorkerId,
  type: "training",
  endpoint: `http://127.0.0.1:5005/${id}`,
  protocol: "push",
  pollingUntil: null,
  status: "available",
  capacity: 1,
  currentJobs: [],
  capabilities: { gpu: false },
  registeredAt: 1000,
  lastHeartbeatAt: 1000,
  ...overrides
})
