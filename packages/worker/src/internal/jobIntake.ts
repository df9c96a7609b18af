/**
 * The jobs a worker takes and lets go: a job is taken idempotently by id (a
 * known one answers its entry and starts nothing) unless the worker drains, is
 * full, or was told the job runs elsewhere; a handover's jobs are taken and
 * the held jobs it names stopped, their results dropped.
 */
import type * as Domain from "@foreman/core/Domain"
import { Effect, Either, FiberSet, Option } from "effect"
import type * as JobQueue from "../JobQueue.js"
import { type Handover, type LinkState, type Refusal, release } from "./linkState.js"

/** Why the coordinator's stop list names a job. */
export const notThisWorkers = "the coordinator says it is no longer this worker's"

/** Stops held jobs the coordinator says are no longer this worker's, and drops their results. */
export const stopJobs = (state: LinkState, jobIds: ReadonlyArray<string>, reason: string): Effect.Effect<void> =>
  Effect.forEach(jobIds, (jobId) =>
    Effect.gen(function*() {
      const { queue } = state.options
      const result = state.unreported.get(jobId)
      if (result !== undefined) yield* release(state, result.report)
      const entry = yield* queue.get(jobId)
      if (Option.isNone(entry) || (entry.value.status !== "pending" && entry.value.status !== "running")) return
      yield* Effect.logWarning(`stopping job ${jobId}: ${reason}`)
      yield* FiberSet.run(state.stops, queue.cancel(jobId, reason))
    }), { discard: true })

const refuse = (reason: Refusal["reason"], why: string): Refusal => ({ reason, why })

/** Takes a job, idempotently by id, or says why not. */
export const take = (
  state: LinkState,
  spec: Domain.JobSpec
): Effect.Effect<JobQueue.Enqueued<Domain.JobSpec, unknown>, Refusal> =>
  state.accepting.withPermits(1)(Effect.gen(function*() {
    const { queue } = state.options
    const known = yield* queue.get(spec.jobId)
    if (Option.isSome(known)) return { entry: known.value, created: false }
    if (state.options.draining()) return yield* Effect.fail(refuse("draining", "is shutting down"))
    if (state.disowned.has(spec.jobId)) {
      return yield* Effect.fail(refuse("disowned", `was told job ${spec.jobId} runs elsewhere`))
    }
    const added = yield* queue.enqueue(spec.jobId, spec).pipe(
      Effect.catchTags({
        QueueFull: (e) => Effect.fail(refuse("full", `is full (${e.limit} jobs running or waiting)`)),
        QueueClosed: () => Effect.fail(refuse("draining", "is shutting down"))
      })
    )
    if (added.created) yield* Effect.logInfo(`accepted job ${spec.jobId} (${spec.kind}, attempt ${spec.attempt})`)
    return added
  }))

/** Starts the jobs a poll answer hands over and stops the held jobs it names. */
export const apply = (state: LinkState, handover: Handover): Effect.Effect<void> =>
  Effect.gen(function*() {
    yield* stopJobs(state, handover.stop, notThisWorkers)
    for (const spec of handover.jobs) {
      const taken = yield* Effect.either(take(state, spec))
      if (Either.isLeft(taken)) {
        yield* Effect.logWarning(`not running job ${spec.jobId}: worker ${state.workerId} ${taken.left.why}`)
      } else if (!taken.right.created) {
        yield* Effect.logDebug(`job ${spec.jobId} handed over again: already ${taken.right.entry.status}, not run twice`)
      }
    }
  })
