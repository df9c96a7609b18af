/**
 * A worker's heartbeats, and registering again when needed: registers first
 * (and whenever results wait for a registration), heartbeats every interval
 * (a pull worker lists the jobs it holds and stops those the answer names),
 * registers again at once when the coordinator forgot the worker, and backs
 * off while the coordinator cannot be reached.
 */
import { Duration, Effect, Either, Queue } from "effect"
import type { Scope } from "effect"
import { isNotRegistered, isPassing } from "./callFailures.js"
import { notThisWorkers, stopJobs } from "./jobIntake.js"
import { credential, describe, held, limited, type LinkState, setRegistered, unsent } from "./linkState.js"
import { backoff, register } from "./registration.js"

/** One heartbeat. */
export const heartbeat = (state: LinkState) =>
  Effect.gen(function*() {
    const { coordinator, workerId } = state
    if (!state.pulls) {
      yield* coordinator.workers.heartbeat({ path: { workerId }, headers: credential(state), payload: { healthy: true } })
        .pipe(limited(state))
      return
    }
    const running = yield* held(state)
    const answer = yield* coordinator.workers.heartbeat({
      path: { workerId },
      headers: credential(state),
      payload: { healthy: true, running }
    }).pipe(limited(state))
    yield* stopJobs(state, answer.stop, notThisWorkers)
  })

/** Registers, heartbeats, and registers again when needed, until interrupted. */
const keepRegistered = (state: LinkState): Effect.Effect<never> =>
  Effect.gen(function*() {
    const { config, endpoint } = state.options
    const interval = Duration.seconds(config.heartbeatIntervalSeconds)
    const where = endpoint === null ? "to pull jobs" : `at ${endpoint}`
    let everRegistered = false
    const pause = backoff(state)
    while (true) {
      const registering = !state.registered || unsent(state).length > 0
      const outcome = yield* Effect.either(registering ? register(state) : Effect.as(heartbeat(state), 0))
      if (Either.isRight(outcome)) {
        if (registering) {
          const sent = outcome.right > 0 ? ` with ${outcome.right} held result(s)` : ""
          yield* Effect.logInfo(
            `${everRegistered ? "registered again" : "registered"} with ${config.apiUrl} as ${state.workerId} ${where}${sent}`
          )
        }
        yield* setRegistered(state, true)
        everRegistered = true
        pause.reset()
        yield* Effect.raceFirst(Effect.sleep(interval), Queue.take(state.wake))
        continue
      }
      const error = outcome.left
      if (isNotRegistered(error)) {
        yield* Effect.logWarning(`${error.message}: registering again`)
        yield* setRegistered(state, false)
        continue
      }
      const wait = pause.next()
      yield* Effect.logWarning(
        `${registering ? "registration" : "heartbeat"} failed: ${describe(state, error)}; retrying in ${Duration.format(wait)}`
      )
      if (isPassing(error)) yield* setRegistered(state, false)
      yield* Effect.sleep(wait)
    }
  })

/** Registers, heartbeats, and registers again when needed, in the current scope. */
export const start = (state: LinkState): Effect.Effect<void, never, Scope.Scope> =>
  Effect.map(Effect.forkScoped(Effect.interruptible(keepRegistered(state))), (fiber) => void (state.heartbeats = fiber))
