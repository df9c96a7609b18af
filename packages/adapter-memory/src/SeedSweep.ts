/**
 * Seed sweeps: one `Simulation.run` setting over many seeds, on worker threads
 * (`node:worker_threads`, one seed at a time per thread), each seed's row
 * streamed as it finishes. A seed's row is a function of the settings and the
 * seed only, so it is the same whatever the number of threads, and a violation
 * it shows replays with `Simulation.run({ ...spec, seed })`.
 *
 * The settings cross a thread, so they are the data ones (`SimulationSpec`):
 * a custom pipeline, user invariants or job results (functions) cannot be
 * swept here; loop over `Simulation.run` in your own code for those.
 */
import { Clock, Data, Duration, Effect, Either, Option, ParseResult, Schema, Stream } from "effect"
import type { Worker } from "node:worker_threads"
import { startWorker } from "./internal/threadWorker.js"
import { runSeed, type SeedRow } from "./internal/seedRun.js"
import type { SimulationReport } from "./Simulation.js"
import { SimulationSpec } from "./SimulationOptions.js"
import { entry, marker, type SweepWorkerData } from "./SeedSweepWorker.js"

export type { SeedCrashed, SeedRan, SeedRow } from "./internal/seedRun.js"

export interface SweepOptions {
  /** The settings of every run, as plain data; each seed replaces `spec.seed`. */
  readonly spec: SimulationSpec
  /** The seeds, run in this order (rows arrive as they finish). */
  readonly seeds: ReadonlyArray<number>
  /** Worker threads; 1 runs the seeds one after another in this thread. */
  readonly jobs: number
  /** Start no seed once this much time has passed (but always `minSeeds`); none: run every seed. */
  readonly timeBudget?: Duration.DurationInput
  /** Seeds started whatever the time budget says (default 0). */
  readonly minSeeds?: number
  /**
   * The module a worker thread runs (by default `SeedSweepWorker`'s own file);
   * one that is not `SeedSweepWorker` must serve the same messages.
   */
  readonly workerEntry?: URL
}

/** Settings that are not plain `SimulationSpec` data (a function, an unknown key, a value out of range). */
export class InvalidSweepSpec extends Data.TaggedError("InvalidSweepSpec")<{ readonly message: string }> {}

const decodeSpec = Schema.decodeUnknownEither(SimulationSpec, { onExcessProperty: "error" })

/** Starts a worker thread on a module of this package (exported for `PlanCurves`' threads too). */
export { startWorker }

/** Whether the seed at `index` may start, `elapsed` ms into the sweep. */
const mayStartWith = (o: SweepOptions) => {
  const budget = o.timeBudget === undefined ? undefined : Duration.toMillis(Duration.decode(o.timeBudget))
  const floor = o.minSeeds ?? 0
  return (index: number, elapsed: number) =>
    index < o.seeds.length && (index < floor || budget === undefined || elapsed < budget)
}

/** The seeds one after another in this thread. */
const inProcess = (o: SweepOptions, spec: SimulationSpec): Stream.Stream<SeedRow> =>
  Stream.unwrap(Effect.map(Clock.currentTimeMillis, (start) => {
    const mayStart = mayStartWith(o)
    return Stream.unfoldEffect(0, (index) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        mayStart(index, now - start)
          ? Effect.map(runSeed(spec, o.seeds[index]!), (row) => Option.some([row, index + 1] as const))
          : Effect.succeedNone))
  }))

/**
 * The seeds on `jobs` worker threads: each thread is sent a seed when it
 * starts and another each time it answers. A thread that dies (an uncaught
 * exception, an exit) has its seed reported as crashed and is replaced.
 */
const onThreads = (o: SweepOptions, spec: SimulationSpec): Stream.Stream<SeedRow> =>
  Stream.unwrap(Effect.map(Effect.clock, (clock) =>
    Stream.async<SeedRow>((emit) => {
      const start = clock.unsafeCurrentTimeMillis()
      const mayStart = mayStartWith(o)
      const workerData: SweepWorkerData = { [marker]: true, spec }
      const live = new Set<Worker>()
      let next = 0
      let ended = false
      const finish = () => {
        if (live.size === 0 && !ended) {
          ended = true
          void emit.end()
        }
      }
      const spawn = () => {
        const worker = startWorker(o.workerEntry ?? entry, workerData)
        live.add(worker)
        let current: { readonly seed: number; readonly at: number } | undefined
        let retired = false
        const crashed = (message: string) => {
          if (current === undefined) return
          const { at, seed } = current
          current = undefined
          void emit.single({ _tag: "Crashed", seed, message, wallMs: clock.unsafeCurrentTimeMillis() - at })
        }
        const feed = () => {
          const now = clock.unsafeCurrentTimeMillis()
          if (!mayStart(next, now - start)) {
            retired = true
            void worker.terminate()
            return
          }
          const seed = o.seeds[next++]!
          current = { seed, at: now }
          worker.postMessage(seed)
        }
        worker.on("message", (row: SeedRow) => {
          current = undefined
          void emit.single(row)
          feed()
        })
        worker.on("error", (error) => crashed(`worker thread failed: ${error.message.split("\n")[0]}`))
        worker.on("exit", (code) => {
          crashed(`worker thread exited with code ${code}`)
          live.delete(worker)
          if (!retired && !ended && mayStart(next, clock.unsafeCurrentTimeMillis() - start)) spawn()
          finish()
        })
        feed()
      }
      const threads = Math.max(1, Math.min(o.jobs, o.seeds.length))
      for (let i = 0; i < threads && mayStart(next, 0); i++) spawn()
      finish()
      return Effect.promise(() => {
        ended = true
        return Promise.all([...live].map((worker) => worker.terminate()))
      })
    }, "unbounded")))

/**
 * Runs `o.seeds` with `o.spec` on `o.jobs` threads and streams each seed's
 * row as it finishes (in finishing order; `seed` says which). A seed whose
 * run dies is a `Crashed` row, not a failure of the stream. Fails only with
 * `InvalidSweepSpec` when the settings are not plain `SimulationSpec` data.
 */
export const stream = (o: SweepOptions): Stream.Stream<SeedRow, InvalidSweepSpec> =>
  Either.match(decodeSpec(o.spec), {
    onLeft: (error) =>
      Stream.fail(new InvalidSweepSpec({ message: `invalid sweep settings: ${ParseResult.TreeFormatter.formatErrorSync(error)}` })),
    onRight: (spec) => (o.jobs <= 1 ? inProcess(o, spec) : onThreads(o, spec))
  })

/** What a sweep found, over its rows. */
export interface SweepSummary {
  /** Seeds that ran or crashed. */
  readonly seeds: number
  /** Seeds asked for that did not start (the time budget ran out). */
  readonly notStarted: number
  readonly seedsWithViolations: number
  readonly crashedSeeds: number
  /** Different violation texts over every seed. */
  readonly distinctViolations: number
  /** Every seed's outcomes added up (of the seeds that ran). */
  readonly outcomes: SimulationReport["outcomes"]
  readonly events: number
  readonly spentUsd: number
  readonly jobs: number
  readonly wallMs: number
  readonly seedsPerSecond: number
}

/** Adds up `rows` of a sweep that asked for `planned` seeds on `jobs` threads and took `wallMs`. */
export const summarise = (
  rows: ReadonlyArray<SeedRow>,
  run: { readonly planned: number; readonly jobs: number; readonly wallMs: number }
): SweepSummary => {
  const outcomes = { completed: 0, failed: 0, cancelled: 0, active: 0, notTriggered: 0 }
  const distinct = new Set<string>()
  let events = 0
  let spent = 0
  let withViolations = 0
  let crashed = 0
  for (const row of rows) {
    if (row._tag === "Crashed") {
      crashed++
      continue
    }
    for (const key of Object.keys(outcomes) as Array<keyof typeof outcomes>) outcomes[key] += row.outcomes[key]
    for (const violation of row.violations) distinct.add(violation)
    if (row.violations.length > 0) withViolations++
    events += row.events
    spent += row.spentUsd
  }
  return {
    seeds: rows.length,
    notStarted: run.planned - rows.length,
    seedsWithViolations: withViolations,
    crashedSeeds: crashed,
    distinctViolations: distinct.size,
    outcomes,
    events,
    spentUsd: Math.round(spent * 1e4) / 1e4,
    jobs: run.jobs,
    wallMs: run.wallMs,
    seedsPerSecond: run.wallMs === 0 ? 0 : Math.round((rows.length / run.wallMs) * 1e5) / 100
  }
}
