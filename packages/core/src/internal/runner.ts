/**
 * The in-process runner: runs a phase's job inside the coordinator (design,
 * assessment: an agent's call), charges every model call it made, answered or
 * failed, and records its outcome on the job through `JobWrites`. What a
 * failed run records is decided by `failureOf`, from its cause alone; an
 * interrupted run (a cancel, a lost lease) records nothing.
 */
import { Cause, Clock, Duration, Effect, Option, Schedule } from "effect"
import { Assessor, declaredCapabilities, Designer, usageOf } from "../Agents.js"
import { Budget } from "../Budget.js"
import type { Job, LlmCall, Research, Usage } from "../Domain.js"
import type { AgentError } from "../Errors.js"
import { type PhaseDefinition, Pipeline, workerTypes } from "../Pipeline.js"
import { Researches } from "../Researches.js"
import { Wakeup } from "../Wakeup.js"
import { WorkerRegistry } from "../WorkerRegistry.js"
import * as JobWrites from "./jobWrites.js"
import { liveWorkers } from "./queries.js"
import * as Spans from "./spans.js"

/** How many finished researches a designer is shown. */
export const RECENT_OUTCOMES = 5

/** What a failed in-process job records: the calls to charge, its error, and their usage. */
export interface Failure {
  readonly calls: ReadonlyArray<LlmCall>
  readonly error: string
  /** The calls summed, none when it made none. */
  readonly usage: Usage | null
}

/**
 * What a run that did not succeed records, or null when it was only
 * interrupted. An agent's failure carries the calls it made; a defect is told
 * in full.
 */
export const failureOf = (cause: Cause.Cause<AgentError>): Failure | null => {
  if (Cause.isInterruptedOnly(cause)) return null
  const failure = Option.getOrUndefined(Cause.failureOption(cause))
  const calls = failure?._tag === "AgentError" ? failure.calls : []
  return {
    calls,
    error: failure !== undefined ? failure.message : Cause.pretty(cause),
    usage: calls.length === 0 ? null : usageOf(calls)
  }
}

/** Runs in-process jobs over the agents, the budget and the job writes. */
export const make = Effect.gen(function*() {
  const researches = yield* Researches
  const jobs = yield* JobWrites.make
  const registry = yield* WorkerRegistry
  const budget = yield* Budget
  const wakeup = yield* Wakeup
  const types = new Set(workerTypes(yield* Pipeline))
  const agents = yield* Effect.context<Designer | Assessor>()

  /**
   * What an agent is told, read again while storage fails for a while (a
   * storage outage is not the agent's failure: the job waits for it, and a
   * cancel or a lost lease interrupts the wait).
   */
  const agentContext = Effect.gen(function*() {
    const [workers, recent] = yield* Effect.all([
      registry.list(),
      researches.list({ statuses: ["completed", "failed"], limit: RECENT_OUTCOMES, offset: 0 })
    ], { concurrency: "inherit" })
    return { workers: declaredCapabilities(liveWorkers(types, workers)), recent }
  }).pipe(
    Effect.tapError((error) => Effect.logWarning(`cannot read what the agent is told (${error.message}); trying again`)),
    Effect.retry(Schedule.union(Schedule.exponential(Duration.millis(200)), Schedule.spaced(Duration.seconds(5)))),
    // The schedule never ends: no failure gets past it.
    Effect.orDie
  )

  /** Charges each model call of an in-process job, answered or failed. */
  const chargeCalls = (job: Job, calls: ReadonlyArray<LlmCall>, at: number) =>
    Effect.forEach(calls, (call, i) => budget.charge({ researchId: job.researchId, jobId: job.id, call: i, ...call, at }), {
      discard: true
    })

  const recordFailure = (job: Job, failure: Failure | null) =>
    failure === null ? Effect.void : Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      yield* chargeCalls(job, failure.calls, now)
      yield* jobs.fail(job, failure.error, now, failure.usage)
    })

  /** Runs an in-process job, charges its LLM calls, records its outcome on the job and wakes the loop. */
  const run = ({ runner }: PhaseDefinition, research: Research, job: Job) =>
    runner._tag !== "InProcess" ? Effect.void : runner.run(research, agentContext).pipe(
      Effect.provide(agents),
      Effect.matchCauseEffect({
        onSuccess: (output) =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            yield* chargeCalls(job, output.calls, now)
            yield* jobs.complete(job, output, now)
          }),
        onFailure: (cause) => recordFailure(job, failureOf(cause))
      }),
      Effect.zipRight(wakeup.signal),
      Effect.catchAll((error) => Effect.logError(`could not record ${job.kind} job ${job.id}: ${error.message}`, Cause.fail(error))),
      // Observability: one span per in-process phase run, a trace of its own (it outlives the tick).
      Spans.withSpan("Coordinator.phase", {
        root: true,
        attributes: { "foreman.research.id": research.id, "foreman.phase": research.phase, "foreman.job.id": job.id },
        captureStackTrace: false
      })
    )

  return { run }
})
