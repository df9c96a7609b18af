/**
 * Leadership: the coordinator loop runs only while this process holds the
 * lease. A term (`incarnation.ts`) starts with the lease's epoch and ends
 * when the lease is lost; meanwhile the loop ticks on every wakeup and when
 * the last tick said the next is due (something time-based: a backoff ends,
 * a job's deadline, a silent worker to expire: that one checked again first,
 * since heartbeats keep moving it). Unless every change wakes it
 * (`Wakeup.complete`: one process, in memory), it also ticks at least every
 * poll interval, the fallback for wakeups lost between processes. A failed
 * tick (storage unreachable) deafens the term, so workers' grace starts over
 * once storage answers, and is tried again after the poll interval.
 */
import { Cause, Clock, Duration, Effect, FiberHandle, Option, Ref, type Scope } from "effect"
import { CoordinatorLease } from "../CoordinatorLease.js"
import type { StorageError } from "../Errors.js"
import { ForemanConfig } from "../ForemanConfig.js"
import { Wakeup } from "../Wakeup.js"
import { WorkerRegistry } from "../WorkerRegistry.js"
import * as TickPlan from "../TickPlan.js"
import * as Incarnation from "./incarnation.js"
import * as Signal from "./signal.js"
import type { TickSummary } from "./tick.js"

/** How long a lease that could not be acquired is left before trying again. */
const RETRY_LEASE = Duration.seconds(1)

/** How long the loop sleeps before the tick due at `wakeAt` (none: no tick is due). */
export const delayUntil = (wakeAt: number | null, now: number): Duration.Duration | null =>
  wakeAt === null ? null : Duration.millis(Math.max(0, wakeAt - now))

/** One of the loop's timers. */
interface Timer {
  /** Sets the timer for `at` (none: clears it); one already set for that time is kept. */
  readonly set: (at: number | null) => Effect.Effect<void>
}

/** A timer that runs `fire(at)` at the time set, one sleeping fiber at a time, in the current scope. */
const makeTimer = (fire: (at: number) => Effect.Effect<void>): Effect.Effect<Timer, never, Scope.Scope> =>
  Effect.map(FiberHandle.make(), (handle) => {
    let armed: number | null = null
    return {
      set: (at) =>
        at === armed ? Effect.void : Effect.gen(function*() {
          armed = at
          if (at === null) return yield* FiberHandle.clear(handle)
          const delay = delayUntil(at, yield* Clock.currentTimeMillis)!
          yield* FiberHandle.run(handle, Effect.zipRight(Effect.sleep(delay), Effect.suspend(() => {
            armed = null
            return fire(at)
          })))
        })
    }
  })

/** The loop's timers: the next tick due for the researches, and the next silent worker to expire. */
interface Timers {
  readonly due: Timer
  readonly expiry: Timer
  /** Until when the expiry watch sleeps, while it lives: it reads the workers again then. */
  readonly watch: { until: number | null }
}

/**
 * Whether the expiry timer must be set for `expireAt`: not while the watch sleeps
 * until no later, since it reads the workers again then and follows the time
 * (heartbeats move it later at almost every tick: no watch stopped and started each time).
 */
export const rearmExpiry = (watchUntil: number | null, expireAt: number | null): boolean =>
  expireAt === null || watchUntil === null || watchUntil > expireAt

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
    const pollMillis = Duration.toMillis(Duration.seconds(config.pollIntervalSeconds))

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

    /**
     * Wakes the loop once a silent worker is due to expire. Heartbeats keep
     * moving that moment later, so when the time set comes the workers are read
     * again, and the loop is kicked only if one is due now (or the read fails:
     * the tick will say); otherwise the watch sleeps until the new time.
     */
    const expiryWatch = (incarnation: Incarnation.Incarnation, kick: Signal.Signal, watch: Timers["watch"], first: number) =>
      Effect.gen(function*() {
        let at = first
        for (;;) {
          const now = yield* Clock.currentTimeMillis
          watch.until = at
          if (at > now) yield* Effect.sleep(Duration.millis(at - now))
          const workers = yield* registry.list()
          const hearing = yield* Ref.get(incarnation.hearing)
          const next = Incarnation.expiryWake(hearing, TickPlan.expiryDue(workers, config, hearing.since))
          if (next === null || next <= (yield* Clock.currentTimeMillis)) {
            watch.until = null
            if (next !== null) yield* kick.raise
            return
          }
          at = next
        }
      }).pipe(Effect.catchAll(() => Effect.zipRight(Effect.sync(() => (watch.until = null)), kick.raise)))

    /**
     * One turn of the loop: a tick (a failed one deafens the term and is tried
     * again after the poll interval), the timers set for when the next one is
     * due, then a wait for a kick.
     */
    const turn = (incarnation: Incarnation.Incarnation, kick: Signal.Signal, timers: Timers) =>
      Effect.gen(function*() {
        const summary = yield* tick(incarnation).pipe(
          Effect.catchAllCause((cause) =>
            Effect.gen(function*() {
              yield* Ref.update(incarnation.hearing, Incarnation.deafened)
              yield* Effect.logError("tick failed", cause)
              return { wakeAt: (yield* Clock.currentTimeMillis) + pollMillis, expireAt: null }
            })
          )
        )
        yield* timers.due.set(summary.wakeAt)
        if (rearmExpiry(timers.watch.until, summary.expireAt)) {
          yield* timers.expiry.set(summary.expireAt)
          timers.watch.until = summary.expireAt
        }
        yield* kick.await
      })

    /** Leads while the lease is held: ticks on every wakeup, when a tick is due, and at least every poll interval. */
    const lead: Effect.Effect<void, StorageError> = Effect.scoped(Effect.gen(function*() {
      const leadership = yield* lease.acquire
      const incarnation = yield* incarnate(leadership.epoch)
      yield* Effect.logInfo(`coordinator leading (epoch ${incarnation.epoch})`)
      // The loop waits on one local signal, raised by wakeups, by the timer for the next
      // tick due and, unless every change signals (`Wakeup.complete`), by the poll, so a
      // wait forks nothing.
      const kick = yield* Signal.make
      const watch: Timers["watch"] = { until: null }
      const timers: Timers = {
        due: yield* makeTimer(() => kick.raise),
        expiry: yield* makeTimer((at) => expiryWatch(incarnation, kick, watch, at)),
        watch
      }
      yield* Effect.forkScoped(Effect.forever(Effect.zipRight(wakeup.await, kick.raise)))
      if (wakeup.complete !== true) {
        yield* Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(Duration.millis(pollMillis)), kick.raise)))
      }
      yield* Effect.race(Effect.forever(turn(incarnation, kick, timers)), leadership.lost)
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
