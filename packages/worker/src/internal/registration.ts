/**
 * A worker's registration with its coordinator: what it says (type, capacity,
 * capabilities, the jobs it runs and the results it could not deliver), under
 * a sequence that never repeats; what the answer changes (the credential, the
 * longest pause between attempts, jobs to stop or refuse); and the pauses
 * between attempts after failures.
 */
import type * as Domain from "@foreman/core/Domain"
import { Clock, Duration, Effect, FiberSet, Option } from "effect"
import { limited, type LinkState, release, unsent } from "./linkState.js"

/** The next registration's sequence: this worker's clock, and never twice the same. */
export const nextSequence = (state: LinkState): Effect.Effect<number> =>
  Effect.map(Clock.currentTimeMillis, (now) => (state.lastSequence = Math.max(state.lastSequence + 1, now)))

/** The body of a registration. */
export const registrationPayload = (
  state: LinkState,
  runningJobs: ReadonlyArray<string>,
  finishedJobs: ReadonlyArray<Domain.JobReport>,
  sequence: number
) => {
  const { config, endpoint } = state.options
  return {
    id: state.workerId,
    sequence,
    type: config.type,
    ...(endpoint === null ? { runtime: `node ${process.versions.node}` } : { endpoint }),
    capacity: config.capacity,
    capabilities: { ...config.capabilities, devices: config.devices },
    runningJobs,
    finishedJobs
  }
}

/** Registers with the jobs running and the results held; answers how many results it delivered. */
export const register = (state: LinkState) =>
  state.accepting.withPermits(1)(Effect.gen(function*() {
    const { queue } = state.options
    const finished = unsent(state)
    // A job whose result is being delivered right now still counts as running here:
    // its report follows, and the coordinator must not declare it lost meanwhile.
    const delivering = Array.from(state.unreported.values()).filter((result) => result.sending)
      .map((result) => result.report.jobId)
    const running = [...(yield* queue.active).map((entry) => entry.id), ...delivering]
    const payload = registrationPayload(state, running, finished, yield* nextSequence(state))
    const answer = yield* state.coordinator.workers.register({ payload }).pipe(limited(state))
    state.secret = answer.secret
    // Keep retrying within what the coordinator tolerates, or its jobs are declared lost.
    state.backoffMax = Duration.min(
      Duration.seconds(state.options.config.registerBackoffMaxSeconds),
      Duration.seconds(answer.retryWithinSeconds)
    )
    for (const report of finished) yield* release(state, report)
    for (const jobId of answer.cancel) {
      // A job not here yet is a dispatch that crossed this registration: refuse it when it comes.
      state.disowned.add(jobId)
      if (Option.isNone(yield* queue.get(jobId))) continue
      yield* Effect.logWarning(`coordinator does not assign job ${jobId} to this worker: stopping it`)
      yield* FiberSet.run(state.stops, queue.cancel(jobId, "the coordinator assigned this job elsewhere"))
    }
    return finished.length
  }))

/** Pauses between attempts after failures: the configured first pause, doubling, capped as registrations are. */
export const backoff = (state: LinkState): { readonly next: () => Duration.Duration; readonly reset: () => void } => {
  const base = Duration.seconds(state.options.config.registerBackoffSeconds)
  let pause = base
  return {
    next: () => {
      const now = Duration.min(pause, state.backoffMax)
      pause = Duration.min(Duration.times(pause, 2), state.backoffMax)
      return now
    },
    reset: () => void (pause = base)
  }
}
