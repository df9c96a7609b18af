/**
 * The functional core: phase definitions and the pure `advance` step that,
 * given a research, its active job and a snapshot of the world, says what
 * happens next. The research pipeline (design → training → gate → backtest →
 * gate → assessment) is the default; a pipeline is plain data, so a user can
 * add a phase that runs on another worker type.
 */
import { Context, Effect, Either, Schema } from "effect"
import { type AgentContext, type AgentOutput, Assessor, Designer } from "./Agents.js"
import {
  Assessment,
  BacktestResult,
  isTerminalStatus,
  type Job,
  type Phase,
  Phases,
  type Research,
  Strategy,
  TrainingResult,
  type Worker,
  type WorkerId,
  type WorkerType
} from "./Domain.js"
import { type AgentError, describeParseError } from "./Errors.js"
import { type ForemanConfigShape, type GateThresholds, retryBackoffMillis } from "./ForemanConfig.js"
import * as Gates from "./Gates.js"
import { againAt, jobDueAt, lostAt, unpickedAt } from "./JobDeadlines.js"
import * as JobTransitions from "./JobTransitions.js"
import type { JobWrite } from "./Researches.js"
import * as ResearchTransitions from "./ResearchTransitions.js"

/** Where a phase's job runs. */
export type Runner =
  | {
    readonly _tag: "InProcess"
    /** `context` reads what an agent is told of the lab; a runner that needs it runs it. */
    readonly run: (
      research: Research,
      context: Effect.Effect<AgentContext>
    ) => Effect.Effect<AgentOutput<unknown>, AgentError, Designer | Assessor>
  }
  | { readonly _tag: "Worker"; readonly workerType: WorkerType }

/** What a finished job leads to. */
export type PhaseOutcome =
  | { readonly _tag: "Next"; readonly phase: Phase; readonly research: Research }
  | { readonly _tag: "Done"; readonly research: Research }
  | { readonly _tag: "Fail"; readonly reason: string }

export interface PhaseDefinition {
  readonly phase: Phase
  /** The job kind this phase runs (`design`, `training`, …). */
  readonly kind: string
  /** Overall progress when a research enters this phase (0–1). */
  readonly progress: number
  readonly runner: Runner
  /** The payload sent with the job. */
  readonly input: (research: Research) => unknown
  /** Pure: turns the job's result into the next state. */
  readonly onResult: (research: Research, result: unknown, gates: GateThresholds) => PhaseOutcome
}

export interface PipelineShape {
  readonly phases: Readonly<Record<Phase, PhaseDefinition>>
  /** The phase a new research starts in. */
  readonly initialPhase: (input: { readonly hasStrategy: boolean }) => Phase
}

/**
 * A check of a worker's result, made once per schema; fields the schema does
 * not name (a model, an equity curve) are kept.
 */
const decoderOf = <A, I>(schema: Schema.Schema<A, I>, what: string) => {
  const decode = Schema.decodeUnknownEither(schema, { onExcessProperty: "preserve" })
  return (value: unknown): Either.Either<A, string> =>
    Either.mapLeft(decode(value), (error) => `invalid ${what} result: ${describeParseError(error)}`)
}

const decodeDesign = decoderOf(Strategy, "design")
const decodeTraining = decoderOf(TrainingResult, "training")
const decodeBacktest = decoderOf(BacktestResult, "backtest")
const decodeAssessment = decoderOf(Assessment, "assessment")

const withResult = (research: Research, kind: string, result: unknown): Research => ({
  ...research,
  results: { ...research.results, [kind]: result }
})

const outcome = (either: Either.Either<PhaseOutcome, string>): PhaseOutcome =>
  Either.getOrElse(either, (reason): PhaseOutcome => ({ _tag: "Fail", reason }))

/** The default pipeline of a research cycle. */
export const research: PipelineShape = {
  initialPhase: ({ hasStrategy }) => (hasStrategy ? Phases.training : Phases.designing),
  phases: {
    [Phases.designing]: {
      phase: Phases.designing,
      kind: "design",
      progress: 0.05,
      runner: {
        _tag: "InProcess",
        run: (r, context) =>
          Effect.zipWith(Designer, context, (d, c) => d.design({ ...c, researchId: r.id, brief: r.brief, model: r.model }))
            .pipe(Effect.flatten)
      },
      input: (r) => ({ brief: r.brief, model: r.model }),
      onResult: (r, result) =>
        outcome(Either.map(decodeDesign(result), (strategy) => ({
          _tag: "Next",
          phase: Phases.training,
          research: { ...withResult(r, "design", strategy), strategy }
        })))
    },
    [Phases.training]: {
      phase: Phases.training,
      kind: "training",
      progress: 0.2,
      runner: { _tag: "Worker", workerType: "training" },
      input: (r) => ({ brief: r.brief, strategy: r.strategy }),
      onResult: (r, result, gates) =>
        outcome(Either.map(decodeTraining(result), (training) => {
          const gate = r.bypassGates ? Gates.bypassed : Gates.training(training, gates)
          const next = { ...withResult(r, "training", training), gates: { ...r.gates, training: gate } }
          // A rejected model skips the backtest and goes straight to assessment.
          return { _tag: "Next", phase: gate.passed ? Phases.backtesting : Phases.assessing, research: next }
        }))
    },
    [Phases.backtesting]: {
      phase: Phases.backtesting,
      kind: "backtest",
      progress: 0.65,
      runner: { _tag: "Worker", workerType: "backtest" },
      input: (r) => ({ strategy: r.strategy, training: r.results["training"] ?? null }),
      onResult: (r, result, gates) =>
        outcome(Either.map(decodeBacktest(result), (backtest) => {
          const gate = r.bypassGates ? Gates.bypassed : Gates.backtest(backtest, gates)
          const next = { ...withResult(r, "backtest", backtest), gates: { ...r.gates, backtest: gate } }
          return { _tag: "Next", phase: Phases.assessing, research: next }
        }))
    },
    [Phases.assessing]: {
      phase: Phases.assessing,
      kind: "assessment",
      progress: 0.9,
      runner: {
        _tag: "InProcess",
        run: (r) =>
          Effect.flatMap(Assessor, (a) =>
            a.assess({
              researchId: r.id,
              brief: r.brief,
              model: r.model,
              strategy: r.strategy,
              results: r.results,
              gates: r.gates
            }))
      },
      input: (r) => ({ strategy: r.strategy }),
      onResult: (r, result) =>
        outcome(Either.map(decodeAssessment(result), (assessment) => ({
          _tag: "Done",
          research: withResult(r, "assessment", assessment)
        })))
    }
  }
}

/** The pipeline the coordinator runs; the research pipeline unless provided. */
export class Pipeline extends Context.Reference<Pipeline>()("@foreman/core/Pipeline", {
  defaultValue: (): PipelineShape => research
}) {}

/** Worker types a pipeline dispatches to. */
export const workerTypes = (pipeline: PipelineShape): ReadonlyArray<WorkerType> =>
  Object.values(pipeline.phases).flatMap((d) => (d.runner._tag === "Worker" ? [d.runner.workerType] : []))

/** Overall progress of a research (0–1). */
export const progressOf = (pipeline: PipelineShape, r: Research): number =>
  r.status === "completed" ? 1 : (pipeline.phases[r.phase]?.progress ?? 0)

/** What the coordinator sees when it advances researches. */
export interface World {
  readonly now: number
  readonly epoch: number
  /**
   * Since when workers could be heard: when this coordinator incarnation
   * started, or when storage answered again after an outage. A silent worker's
   * job is declared lost only once the orphan grace has passed since then.
   */
  readonly hearingSince: number
  readonly workers: ReadonlyMap<WorkerId, Worker>
  readonly config: ForemanConfigShape
}

/**
 * @deprecated The `World` of the previous release, whose `startedAt` held what
 * `hearingSince` holds now; `advance` still takes it. Use `World`.
 */
export type WorldWithStartedAt = Omit<World, "hearingSince"> & {
  /** @deprecated Use `World.hearingSince`. */
  readonly startedAt: number
}

/**
 * The one side effect a step asks for. `None` says when time alone would
 * change that (`wakeAt`: a retry backoff ends, or a rule on the active job
 * comes due, see `jobDueAt`), null when nothing will until something else changes.
 */
export type Action =
  | { readonly _tag: "None"; readonly wakeAt: number | null }
  | { readonly _tag: "RunInProcess"; readonly definition: PhaseDefinition }
  | { readonly _tag: "NeedWorker"; readonly definition: PhaseDefinition; readonly workerType: WorkerType; readonly since: number }
  | { readonly _tag: "Redispatch"; readonly job: Job }

export interface Step {
  /** The new state (the same object when nothing changed). */
  readonly research: Research
  /** Settled jobs to write with the transition (orphaned, lost). */
  readonly jobWrites: ReadonlyArray<JobWrite>
  readonly action: Action
  /** Things worth a warning in the log. */
  readonly notes: ReadonlyArray<string>
}

const none: Action = { _tag: "None", wakeAt: null }

export { jobDueAt }

/**
 * Advances one research as far as it can go without side effects. Pure: the
 * same inputs always give the same step.
 */
export const advance = (
  pipeline: PipelineShape,
  start: Research,
  activeJob: Job | undefined,
  given: World | WorldWithStartedAt
): Step => {
  const world: World = "hearingSince" in given ? given : { ...given, hearingSince: given.startedAt }
  let r = start
  let job = activeJob !== undefined && activeJob.id === start.activeJobId ? activeJob : undefined
  const jobWrites: Array<JobWrite> = []
  const notes: Array<string> = []
  const { config, now } = world

  /** An infrastructure failure: retry the phase after a backoff, or give up. */
  const retryOrFail = (kind: string, reason: string): Research => {
    const failures = r.failures + 1
    if (failures >= config.maxJobAttempts) {
      return ResearchTransitions.fail(r, now, `${kind} failed ${failures} times, giving up: ${reason}`)
    }
    return ResearchTransitions.retryLater(r, failures, now + retryBackoffMillis(config, failures))
  }

  const settle = (j: Job, status: "failed" | "lost", error: string): void => {
    jobWrites.push({ job: JobTransitions.settle(j, status, error, now), expected: j.status })
  }

  for (let guard = 0; guard < 64; guard++) {
    if (isTerminalStatus(r.status)) break
    const definition = pipeline.phases[r.phase]
    if (definition === undefined) {
      r = ResearchTransitions.fail(r, now, `unknown phase ${r.phase}`)
      continue
    }
    if (r.activeJobId !== null) {
      if (job === undefined) {
        notes.push(`${r.id}: active job ${r.activeJobId} is missing from storage; retrying the phase`)
        r = retryOrFail(definition.kind, `job ${r.activeJobId} missing`)
        continue
      }
      switch (job.status) {
        case "pending":
        case "running": {
          if (job.workerId === null) {
            if (job.epoch === world.epoch) return { research: r, jobWrites, action: none, notes }
            const error =
              `orphaned: coordinator epoch ${job.epoch} stopped while this ${job.kind} job was running; restarting the phase`
            notes.push(`${r.id}: ${job.id} ${error}`)
            settle(job, "failed", error)
            r = ResearchTransitions.restartPhase(r)
            job = undefined
            continue
          }
          const lost = lostAt(job, world)
          if (lost !== null && now >= lost) {
            const error = `lost: worker ${job.workerId} stopped answering while running it`
            notes.push(`${r.id}: ${job.id} ${error}`)
            settle(job, "lost", error)
            r = retryOrFail(job.kind, error)
            job = undefined
            continue
          }
          const unpicked = job.status === "pending" ? unpickedAt(job, world) : null
          if (unpicked !== null && now >= unpicked) {
            // Assigned to a pull worker that has not polled for it since: another worker may.
            const error = `not picked up by worker ${job.workerId} within ${config.assignmentAckSeconds}s of its assignment`
            notes.push(`${r.id}: ${job.id} ${error}: back to the queue`)
            jobWrites.push({ job: JobTransitions.settle(job, "refused", error, now), expected: "pending" })
            r = ResearchTransitions.requeue(r, job)
            job = undefined
            continue
          }
          if (job.status === "pending" && job.epoch !== world.epoch) {
            return { research: r, jobWrites, action: { _tag: "Redispatch", job }, notes }
          }
          if (job.status === "pending" && now >= againAt(job, config)) {
            // A dispatch whose outcome was never recorded (storage failed meanwhile): send it
            // again (workers take a repeated job id idempotently), at most once per grace.
            const again = JobTransitions.redispatched(job, now)
            jobWrites.push({ job: again, expected: "pending" })
            notes.push(`${r.id}: ${job.id} has been pending since its dispatch without a word: dispatching again`)
            return { research: r, jobWrites, action: { _tag: "Redispatch", job: again }, notes }
          }
          return { research: r, jobWrites, action: { _tag: "None", wakeAt: jobDueAt(job, world) }, notes }
        }
        case "completed": {
          const base = ResearchTransitions.jobDone(r, job.usage?.costUsd ?? 0)
          const result = definition.onResult(base, job.result, config.gates)
          switch (result._tag) {
            case "Next":
              r = ResearchTransitions.enterPhase(result.research, result.phase)
              break
            case "Done":
              r = ResearchTransitions.complete(result.research, now)
              break
            case "Fail":
              r = ResearchTransitions.fail(base, now, result.reason)
              break
          }
          job = undefined
          continue
        }
        case "failed":
          // An agent that failed may still have spent tokens on the way.
          r = ResearchTransitions.fail(
            { ...r, costUsd: r.costUsd + (job.usage?.costUsd ?? 0) },
            now,
            `${job.kind} job failed: ${job.error ?? "no reason given"}`
          )
          continue
        case "lost":
          r = retryOrFail(job.kind, job.error ?? "lost")
          job = undefined
          continue
        case "refused":
          r = ResearchTransitions.requeue(r, job)
          job = undefined
          continue
        case "cancelled":
          r = ResearchTransitions.cancel(r, now)
          continue
      }
    }
    if (r.retryAt !== null && r.retryAt > now) {
      return { research: r, jobWrites, action: { _tag: "None", wakeAt: r.retryAt }, notes }
    }
    const runner = definition.runner
    if (runner._tag === "InProcess") {
      return { research: r, jobWrites, action: { _tag: "RunInProcess", definition }, notes }
    }
    const since = r.waitingFor?.workerType === runner.workerType ? r.waitingFor.since : now
    return {
      research: r,
      jobWrites,
      action: { _tag: "NeedWorker", definition, workerType: runner.workerType, since },
      notes
    }
  }
  return { research: r, jobWrites, action: none, notes }
}
