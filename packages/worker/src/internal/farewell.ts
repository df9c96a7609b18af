/**
 * The end of a worker's drain, as the coordinator hears it: results under way
 * get their time, heartbeats stop, a last registration lists no running jobs
 * (so the coordinator runs the rest elsewhere now) and the results still held,
 * then the worker deregisters.
 */
import { Duration, Effect, Fiber, FiberSet } from "effect"
import { workerSecretHeader } from "@foreman/api/WorkerMessages"
import { describe, limited, type LinkState } from "./linkState.js"
import { nextSequence, registrationPayload } from "./registration.js"

/** Waits at most `within` for results under way, then says goodbye; never fails. */
export const farewell = (state: LinkState, within: Duration.Duration): Effect.Effect<void> =>
  Effect.gen(function*() {
    const { coordinator, workerId } = state
    // Reports under way get what is left of the deadline, and at least one request's time.
    yield* Effect.interruptible(FiberSet.awaitEmpty(state.deliveries)).pipe(
      Effect.timeoutOption(Duration.max(within, state.requestTimeout))
    )
    if (state.heartbeats !== undefined) yield* Fiber.interrupt(state.heartbeats)
    // The last word: results still held, and no running jobs, so the coordinator runs the
    // interrupted and unstarted ones elsewhere now instead of waiting for them to be lost.
    const finished = Array.from(state.unreported.values(), (result) => result.report)
    const payload = registrationPayload(state, [], finished, yield* nextSequence(state))
    yield* coordinator.workers.register({ payload }).pipe(
      limited(state),
      // The last registration's credential is the one the goodbye needs.
      Effect.flatMap((answer) =>
        coordinator.workers.deregister({ path: { workerId }, headers: { [workerSecretHeader]: answer.secret } })
          .pipe(limited(state))
      ),
      Effect.zipRight(Effect.logInfo(`drained and deregistered from ${state.options.config.apiUrl}`)),
      Effect.catchAll((error) =>
        Effect.logWarning(`could not say goodbye to the coordinator (${describe(state, error)}); it will notice the silence`)
      )
    )
  })
