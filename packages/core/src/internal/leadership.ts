/**
 * Leadership: the coordinator loop runs only while this process holds the
 * lease. A term (`incarnation.ts`) starts with the lease's epoch and ends
 * when the lease is lost; meanwhile the loop ticks on every wakeup, at least
 * every poll interval, and when the earliest retry backoff ends. A failed
 * tick (storage unreachable) deafens the term, so workers' grace starts over
 * once storage answers.
 */
import { Cause, Clock, Duration, Effect, FiberHandle, Option, Ref, type Scope } from "effect"
import { CoordinatorLease } from "../CoordinatorLease.js"
import type { StorageError } from "../Errors.js"
import { ForemanConfig } from "../ForemanConfig.js"
import { Wakeup } from "../Wakeup.js"
import { WorkerRegistry } from "../WorkerRegistry.js"
import * as Incarnation from "./incarnation.js"
import * as Signal from "./signal.js"
import type { TickSummary } from "./tick.js"

/** How long a lease that could not be acquired is left before trying again. */
const RETRY_LEASE = Duration.seconds(1)

/** How long the loop sleeps before the retry backoff ending at `wakeAt` (none: no wait is needed). */
export const retryDelay = (wakeAt: number | null, now: number): Duration.Duration | null =>
  wakeAt === null ? null : Duration.millis(wakeAt - now)

/** A coordinator leading by hand: its epoch, and one tick to run when the caller wants. */
export interface ManualLeadership {
  readonly epoch: number
  readonly tick: Effect.Effect<TickSummary, StorageError>
}

/**
 * The loop over the lease: `tick` runs one pass for a term; `current` holds
 * the term this process leads in, if any.
 */
export const make = (
  current: Incarnation.Current,
  tick: (incarnation: Incarnation.Incarnation) => Effect.Effect<TickSummary, StorageError>
) =>
  Effect.gen(function*() {
    const lease = yield* CoordinatorLease
    const wakeup = yield* Wakeup
    const config = yield* ForemanConfig
    const registry = yield* WorkerRegistry

    /**
     * Starts a term for `epoch` in the current scope. The polls waiting
     * before it are forgotten: those the previous leader's process served died
     * with it, and no job must go to one (the others ask again with their next poll).
     */
    const incarnate = (epoch: number) =>
      Effect.gen(function*() {
        yield* registry.forgetPolls
        const incarnation = yield* Incarnation.make(epoch, yield* Clock.currentTimeMillis)
        yield* Ref.set(current, Option.some(incarnation))
        yield* Effect.addFinalizer(() => Ref.set(current, Option.none()))
        return incarnation
      })

    /** One turn of the loop: a tick (a failed one deafens the term), the retry timer set, then a wait for a kick. */
    const turn = (incarnation: Incarnation.Incarnation, kick: Signal.Signal, retryTimer: FiberHandle.FiberHandle) =>
      Effect.gen(function*() {
        const summary = yield* tick(incarnation).pipe(
          Effect.catchAllCause((cause) =>
            Effect.zipRight(
              Ref.update(incarnation.hearing, Incarnation.deafened),
              Effect.as(Effect.logError("tick failed", cause), { wakeAt: null } as const)
            )
          )
        )
        const delay = retryDelay(summary.wakeAt, yield* Clock.currentTimeMillis)
        if (delay !== null) yield* FiberHandle.run(retryTimer, Effect.zipRight(Effect.sleep(delay), kick.raise))
        yield* kick.await
      })

    /** Leads while the lease is held: ticks on every wakeup, and at least every poll interval. */
    const lead: Effect.Effect<void, StorageError> = Effect.scoped(Effect.gen(function*() {
      const leadership = yield* lease.acquire
      const incarnation = yield* incarnate(leadership.epoch)
      yield* Effect.logInfo(`coordinator leading (epoch ${incarnation.epoch})`)
      // The loop waits on one local signal, raised by wakeups, by the poll fallback and
      // by a timer for the earliest retry backoff, so a wait forks nothing.
      const kick = yield* Signal.make
      const retryTimer = yield* FiberHandle.make()
      yield* Effect.forkScoped(Effect.forever(Effect.zipRight(wakeup.await, kick.raise)))
      yield* Effect.forkScoped(
        Effect.forever(Effect.zipRight(Effect.sleep(Duration.seconds(config.pollIntervalSeconds)), kick.raise))
      )
      yield* Effect.race(Effect.forever(turn(incarnation, kick, retryTimer)), leadership.lost)
      yield* Effect.logWarning(`coordinator lost the lease (epoch ${incarnation.epoch})`)
    }))

    /** Runs the loop forever, re-acquiring the lease whenever it is lost. */
    const run: Effect.Effect<never> = Effect.forever(
      lead.pipe(
        Effect.catchAll((error) => Effect.zipRight(Effect.logError(`lease: ${error.message}`, Cause.fail(error)), Effect.sleep(RETRY_LEASE)))
      )
    )

    /** Leads by hand in the caller's scope. */
    const manual: Effect.Effect<ManualLeadership, StorageError, Scope.Scope> = Effect.gen(function*() {
      const leadership = yield* lease.acquire
      const incarnation = yield* incarnate(leadership.epoch)
      return { epoch: incarnation.epoch, tick: tick(incarnation) }
    })

    return { run, manual, leading: Effect.map(Ref.get(current), Option.isSome) }
  })
