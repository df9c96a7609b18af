/**
 * The simulated lab's parts that `Simulation` assembles: the workers' job
 * handlers (each kind's duration model, failures and crashes), the pipeline
 * with its in-process phases timed, and the offline agents with their calls
 * priced. Every draw comes from the run's seeded `Random`.
 */
import * as OfflineAgents from "@foreman/agents/OfflineAgents"
import { Agents, Pipeline } from "@foreman/core"
import { Duration, Effect, Layer, Random } from "effect"
import type * as MemoryWorkers from "../MemoryWorkers.js"
import * as SimulatedWork from "../SimulatedWork.js"
import { type LlmCostModel, meanSeconds, sampleCost, sampleDuration } from "../SimulationModels.js"
import type { SimulationOptions } from "../SimulationOptions.js"

type JobHandler = MemoryWorkers.JobHandler
type MemoryWorkersShape = MemoryWorkers.MemoryWorkersShape

/** True with probability `p`, drawn from the run's `Random` (no draw when `p` is 0). */
export const chance = (p: number) => (p <= 0 ? Effect.succeed(false) : Effect.map(Random.next, (x) => x < p))

/** Wraps a handler so that, with probability `p`, its worker crashes partway and comes back later. */
export const crashing = (
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

/** A sleep of a duration drawn from `model`. */
export const takeTime = (model: Parameters<typeof sampleDuration>[0]) =>
  Effect.flatMap(sampleDuration(model), (seconds) => Effect.sleep(Duration.millis(Math.round(seconds * 1000))))

/** The pipeline with every in-process phase whose kind has a duration model taking that time first. */
export const timedPipeline = (pipeline: Pipeline.PipelineShape, o: SimulationOptions): Pipeline.PipelineShape => {
  const phases: Record<string, Pipeline.PhaseDefinition> = {}
  let changed = false
  for (const [phase, d] of Object.entries(pipeline.phases)) {
    const model = o.jobs[d.kind]?.duration
    const runner = d.runner
    if (runner._tag === "InProcess" && model !== undefined) {
      changed = true
      phases[phase] = { ...d, runner: { _tag: "InProcess", run: (r, context) => Effect.zipRight(takeTime(model), runner.run(r, context)) } }
    } else {
      phases[phase] = d
    }
  }
  return changed ? { ...pipeline, phases } : pipeline
}

/** The offline agents, their calls priced by `cost` when given. */
export const agentsLayer = (options: OfflineAgents.AgentOptions, cost: LlmCostModel | undefined) => {
  if (cost === undefined) return OfflineAgents.layer(options)
  const priced = <A>(output: Agents.AgentOutput<A>) =>
    Effect.map(
      Effect.forEach(output.calls, (call) => Effect.map(sampleCost(cost), (costUsd) => ({ ...call, costUsd }))),
      (calls): Agents.AgentOutput<A> => ({ ...output, calls })
    )
  const designer = OfflineAgents.designer(options)
  const assessor = OfflineAgents.assessor(options)
  return Layer.merge(
    Layer.succeed(Agents.Designer, { design: (request) => Effect.flatMap(designer.design(request), priced) }),
    Layer.succeed(Agents.Assessor, { assess: (request) => Effect.flatMap(assessor.assess(request), priced) })
  )
}

/** The simulated workers' handlers by worker type; each does a job as its kind says. */
export const workerHandlers = (
  o: SimulationOptions,
  pipeline: Pipeline.PipelineShape,
  poolRef: () => MemoryWorkersShape,
  crashes: { count: number }
): Record<string, JobHandler> => {
  const byKind = new Map<string, JobHandler>()
  const forKind = (kind: string): JobHandler => {
    const known = byKind.get(kind)
    if (known !== undefined) return known
    const model = o.jobs[kind]
    const failureRate = model?.failureRate ?? o.faults.jobFailure
    const legacy = kind === "training" || kind === "backtest" ? o.phaseSeconds[kind] : undefined
    const work: SimulatedWork.WorkOptions = model?.duration !== undefined
      ? { duration: model.duration, failureRate }
      : { seconds: legacy ?? 0, failureRate }
    const result = o.results[kind]
    const handler = result !== undefined
      ? SimulatedWork.job(work, result)
      : kind === "training"
      ? SimulatedWork.training(work)
      : kind === "backtest"
      ? SimulatedWork.backtest(work)
      : SimulatedWork.job(work, () => Effect.succeed({}))
    const made = crashing(
      handler,
      model?.crashRate ?? o.faults.workerCrash,
      model?.duration !== undefined ? meanSeconds(model.duration) : legacy ?? 0,
      o.workerDowntimeSeconds,
      poolRef,
      crashes
    )
    byKind.set(kind, made)
    return made
  }
  const types = new Set([...Object.keys(o.workers), ...Pipeline.workerTypes(pipeline)])
  return Object.fromEntries([...types].map((type) => [type, (spec, context) => forKind(spec.kind)(spec, context)]))
}
