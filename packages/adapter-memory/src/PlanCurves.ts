/**
 * The `Planner` port over the simulator: a curve's simulations (each worker
 * count × each seed) run on worker threads (`PlanCurvesWorker`), so a server
 * that computes one keeps answering meanwhile. The work is bounded: a request
 * is at most `PlanCurve.limits.runs` simulations, one curve is computed at a
 * time, a request for a curve being computed waits for it and shares it, and a
 * curve is kept for a minute (`ttl`) for the same window and question.
 */
import { type History, PlanCurve } from "@foreman/core"
import { Clock, Duration, Effect, Fiber, Layer, type Scope } from "effect"
import type { Worker } from "node:worker_threads"
import { type CurveFigures, type CurveTask, type CurveTaskResult, runCurveTask } from "./internal/curveRun.js"
import { spread } from "./Plan.js"
import { entry, marker, type CurveWorkerData } from "./PlanCurvesWorker.js"
import { startWorker } from "./internal/threadWorker.js"

export interface PlanCurvesOptions {
  /** Worker threads per curve; 1 runs the simulations in this thread (tests of the figures only). 2 by default. */
  readonly threads?: number
  /** How long a curve is kept for the same window and question; 1 minute by default. */
  readonly ttl?: Duration.DurationInput
  /** The module a worker thread runs (by default `PlanCurvesWorker`'s own file). */
  readonly workerEntry?: URL
}

/** Runs `tasks` on `threads` worker threads, each sent a task when it starts and another each time it answers. */
const onThreads = (
  history: History.History,
  type: string,
  tasks: ReadonlyArray<CurveTask>,
  threads: number,
  workerEntry: URL
): Effect.Effect<ReadonlyArray<CurveTaskResult>> =>
  Effect.async<ReadonlyArray<CurveTaskResult>>((resume) => {
    const data: CurveWorkerData = { [marker]: true, history, type }
    const results: Array<CurveTaskResult> = []
    const live = new Set<Worker>()
    let next = 0
    let done = false
    const end = () => {
      done = true
      for (const worker of live) void worker.terminate()
    }
    const spawn = () => {
      const worker = startWorker(workerEntry, data)
      live.add(worker)
      let current: CurveTask | undefined
      const feed = () => {
        if (next >= tasks.length) {
          live.delete(worker)
          void worker.terminate()
          if (live.size === 0 && !done) {
            done = true
            resume(Effect.succeed(results))
          }
          return
        }
        current = tasks[next++]!
        worker.postMessage(current)
      }
      worker.on("message", (answer: CurveTaskResult) => {
        current = undefined
        results.push(answer)
        feed()
      })
      const fail = (message: string) => {
        if (done || current === undefined) return
        results.push({ ...current, _tag: "Failed", message })
        current = undefined
        end()
        resume(Effect.succeed(results))
      }
      worker.on("error", (error) => fail(`a simulation's thread failed: ${error.message.split("\n")[0]}`))
      worker.on("exit", (code) => fail(`a simulation's thread exited with code ${code}`))
      feed()
    }
    for (let i = 0; i < Math.min(threads, tasks.length); i++) spawn()
    return Effect.sync(end)
  })

/** The curve from each run's figures, one point per count. */
const curveOf = (
  history: History.History,
  request: PlanCurve.PlanRequest,
  figures: ReadonlyArray<CurveFigures>
): PlanCurve.PlanCurve => ({
  since: history.since,
  until: history.until,
  type: request.type,
  seeds: request.seeds,
  workers: history.workers,
  observed: PlanCurve.observedOf(history, request.type),
  points: request.counts.map((count) => {
    const runs = figures.filter((f) => f.count === count)
    return {
      workers: count,
      waitP50Seconds: spread(runs.map((r) => r.waitP50Seconds)),
      waitP95Seconds: spread(runs.map((r) => r.waitP95Seconds)),
      researchesPerDay: spread(runs.map((r) => r.researchesPerDay)),
      utilisation: spread(runs.map((r) => r.utilisation))
    }
  })
})

/**
 * Computes the curve of `request` over `history` on `threads` threads (1: in
 * this thread). `NoPlanHistory` without a research in the window,
 * `PlanRefused` for an unknown type, a request above the limits, or a run that failed.
 */
export const compute = (
  history: History.History,
  request: PlanCurve.PlanRequest,
  options: Pick<PlanCurvesOptions, "threads" | "workerEntry"> = {}
): Effect.Effect<PlanCurve.PlanCurve, PlanCurve.NoPlanHistory | PlanCurve.PlanRefused> =>
  Effect.gen(function*() {
    if (history.researches.length === 0) {
      return yield* new PlanCurve.NoPlanHistory({
        message: "No research was created in this window, so there is no history to plan from: widen the window."
      })
    }
    if (history.workers[request.type] === undefined) {
      const known = Object.keys(history.workers).join(", ") || "none"
      return yield* new PlanCurve.PlanRefused({ message: `unknown worker type ${JSON.stringify(request.type)} (the window knows ${known})` })
    }
    const large = PlanCurve.tooLarge(request)
    if (large !== undefined) return yield* new PlanCurve.PlanRefused({ message: large })
    const tasks = request.counts.flatMap((count) => Array.from({ length: request.seeds }, (_, i) => ({ count, seed: i + 1 })))
    const threads = options.threads ?? 2
    const results = threads <= 1
      ? yield* Effect.forEach(tasks, (task) => runCurveTask(history, request.type, task))
      : yield* onThreads(history, request.type, tasks, threads, options.workerEntry ?? entry)
    const failed = results.find((r) => r._tag === "Failed")
    if (failed !== undefined) return yield* new PlanCurve.PlanRefused({ message: `a simulation failed: ${failed.message}` })
    return curveOf(history, request, results.filter((r): r is CurveFigures => r._tag === "Ran"))
  })

/** What identifies a curve: the window, what it recorded (in counts), and the question. */
const keyOf = (history: History.History, request: PlanCurve.PlanRequest): string =>
  JSON.stringify([
    history.since,
    history.until,
    history.researches.length,
    history.jobs.length,
    history.llmCalls.length,
    history.workers,
    request
  ])

/**
 * The planner: `compute`, one curve at a time, shared while it runs and kept
 * for `ttl`. Each computation runs in the layer's scope, not the asker's: an
 * asker that goes away (a closed connection) leaves it running for the
 * others, and closing the scope (the server stopping) ends it and its threads.
 */
export const make = (options: PlanCurvesOptions = {}): Effect.Effect<PlanCurve.PlannerShape, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const oneAtATime = yield* Effect.makeSemaphore(1)
    const ttl = Duration.toMillis(Duration.decode(options.ttl ?? Duration.minutes(1)))
    const kept = new Map<string, { readonly at: number; readonly curve: ReturnType<typeof compute> }>()
    return {
      curve: (history, request) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          for (const [key, entry] of kept) if (now - entry.at > ttl) kept.delete(key)
          const key = keyOf(history, request)
          const found = kept.get(key)
          if (found !== undefined) return yield* found.curve
          const fiber = yield* Effect.forkIn(oneAtATime.withPermits(1)(compute(history, request, options)), scope)
          kept.set(key, { at: now, curve: Fiber.join(fiber) })
          return yield* Fiber.join(fiber)
        })
    }
  })

/** The `Planner` port over `make`. */
export const layer = (options: PlanCurvesOptions = {}): Layer.Layer<PlanCurve.Planner> =>
  Layer.scoped(PlanCurve.Planner, make(options))
