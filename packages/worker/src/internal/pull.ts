/**
 * The pull protocol's side of a worker (docs/worker-protocol.md): while it is
 * registered, has a free slot and is not draining, the worker asks the
 * coordinator for work with a long poll listing every job it holds, takes the
 * jobs the answer hands over and stops the ones it names. One call at a time
 * asks (`Turn`): when a finished job's report can carry the next poll, the
 * report asks and the loop waits for its answer, so a handover is one round
 * trip. A poll answered "not registered", or that cannot reach the coordinator,
 * has the worker register again (the link backs off while the coordinator is
 * away); every failed poll pauses the loop with the link's backoff.
 */
import { Deferred, Duration, Effect, Either, Option } from "effect"
import type * as WorkerConfig from "../WorkerConfig.js"
import type * as Link from "./link.js"

/** A worker's turn to ask for work, and the end of asking. */
export interface Turn extends Link.Turn {
  /** Stops asking for work (the worker drains); idempotent. */
  readonly stop: Effect.Effect<void>
}

/** The turn of a worker that runs `capacity` jobs at once and polls with `pollWaitSeconds`. */
export const makeTurn = (config: WorkerConfig.WorkerConfigShape): Effect.Effect<Turn> =>
  Effect.map(Deferred.make<void>(), (stopped) => {
    let asking = false
    let stopping = false
    return {
      claim: (running) =>
        Effect.sync(() => {
          if (asking || stopping || running.length >= config.capacity) return Option.none()
          asking = true
          return Option.some({ waitSeconds: config.pollWaitSeconds, running })
        }),
      release: Effect.sync(() => void (asking = false)),
      stopped: Deferred.await(stopped),
      stop: Effect.suspend(() => {
        stopping = true
        return Deferred.succeed(stopped, undefined)
      })
    }
  })

/** Asks for work whenever the turn can be taken, until interrupted (a waiting poll is dropped: the coordinator clears it). */
export const loop = (link: Link.Link, turn: Turn, config: WorkerConfig.WorkerConfigShape): Effect.Effect<never> =>
  Effect.gen(function*() {
    const timeout = Duration.seconds(config.pollWaitSeconds + 10)
    const poll = (body: Link.Poll) =>
      Effect.suspend(() =>
        link.coordinator.workers.poll({ path: { workerId: config.id }, headers: link.credential(), payload: body })
      ).pipe(link.limited(timeout))
    const pause = link.backoff()
    while (true) {
      yield* link.registered
      const next = yield* Effect.flatMap(link.held, turn.claim)
      if (Option.isNone(next)) {
        yield* link.changed
        continue
      }
      const outcome = yield* poll(next.value).pipe(Effect.tap(link.apply), Effect.either, Effect.ensuring(turn.release))
      if (Either.isRight(outcome)) {
        pause.reset()
        continue
      }
      const error = outcome.left
      const wait = pause.next()
      if (link.mustRegister(error)) {
        yield* Effect.logWarning(`poll failed: ${link.describe(error)}; registering again`)
        yield* link.reregister
      } else {
        yield* Effect.logWarning(`poll failed: ${link.describe(error)}; polling again in ${Duration.format(wait)}`)
      }
      yield* Effect.sleep(wait)
    }
  })
