/**
 * One term of leadership: the epoch the lease granted, the in-process jobs and
 * dispatches it runs, the active researches as it last read them, and what it
 * knows of hearing workers. `Hearing` changes
 * only through the pure transitions below: silent workers are expired at most
 * once a second, and after a storage outage (a failed tick) workers' grace
 * starts over, since they could not be heard meanwhile.
 */
import { Effect, FiberMap, FiberSet, Option, Ref, type Scope } from "effect"
import * as ActiveSet from "../ActiveSet.js"
import type { JobId, ResearchId } from "../Domain.js"
import * as PlanState from "../PlanState.js"

/** What the leader knows of hearing workers between ticks. */
export interface Hearing {
  /** Since when workers could be heard: the start, or the end of the last storage outage. */
  readonly since: number
  /** The last tick failed (storage unreachable): workers' silence is not theirs. */
  readonly deaf: boolean
  /** When silent workers were last expired. */
  readonly expiredAt: number
}

/** How often silent workers are expired at most (heartbeats are seconds apart). */
export const EXPIRE_EVERY_MILLIS = 1000

/** Hearing at the start of a term. */
export const hearingFrom = (now: number): Hearing => ({ since: now, deaf: false, expiredAt: Number.NEGATIVE_INFINITY })

/** Whether silent workers are due to be expired now. */
export const expireDue = (hearing: Hearing, now: number): boolean => now - hearing.expiredAt >= EXPIRE_EVERY_MILLIS

/**
 * When the loop must wake to expire a worker due at `expireAt`: then, or, if
 * that is too soon after the last expiry, once expiring is due again.
 */
export const expiryWake = (hearing: Hearing, expireAt: number | null): number | null =>
  expireAt === null ? null : Math.max(expireAt, hearing.expiredAt + EXPIRE_EVERY_MILLIS)

/** Silent workers expired now. */
export const expired = (hearing: Hearing, now: number): Hearing => ({ ...hearing, expiredAt: now })

/** Storage answered: after an outage, workers' grace starts over now. */
export const heard = (hearing: Hearing, now: number): Hearing =>
  hearing.deaf ? { ...hearing, deaf: false, since: now } : hearing

/** A tick failed: storage could not be reached. */
export const deafened = (hearing: Hearing): Hearing => ({ ...hearing, deaf: true })

/** One term of leadership. */
export interface Incarnation {
  readonly epoch: number
  readonly hearing: Ref.Ref<Hearing>
  /** The active researches as this term last read them: empty when it starts. */
  readonly active: ActiveSet.ActiveSet
  /** What this term's ticks keep to plan only the researches that can have changed: empty when it starts. */
  readonly planState: PlanState.PlanState
  /** In-process jobs, one per research. */
  readonly fibers: FiberMap.FiberMap<ResearchId>
  /** Dispatches to workers in flight. */
  readonly dispatching: FiberSet.FiberSet
  /** Slots seen held for no live job, by job, with when each was first seen so (`observe.ts`). */
  readonly suspects: Ref.Ref<ReadonlyMap<JobId, number>>
}

/** Starts a term for `epoch` at `now`; its fibers are interrupted when the scope closes. */
export const make = (epoch: number, now: number): Effect.Effect<Incarnation, never, Scope.Scope> =>
  Effect.gen(function*() {
    return {
      epoch,
      hearing: yield* Ref.make(hearingFrom(now)),
      active: ActiveSet.make(),
      planState: PlanState.make(),
      fibers: yield* FiberMap.make<ResearchId>(),
      dispatching: yield* FiberSet.make(),
      suspects: yield* Ref.make<ReadonlyMap<JobId, number>>(new Map())
    }
  })

/** The term this process leads in, if any. */
export type Current = Ref.Ref<Option.Option<Incarnation>>

/** Interrupts the in-process job of a research, if the current term runs one. */
export const stopInProcess = (current: Current, id: ResearchId): Effect.Effect<void> =>
  Effect.flatMap(
    Ref.get(current),
    Option.match({ onNone: () => Effect.void, onSome: (incarnation) => FiberMap.remove(incarnation.fibers, id) })
  )

/** The researches whose in-process jobs run in this term but are no longer active: to interrupt. */
export const stale = (
  running: Iterable<ResearchId>,
  active: { readonly has: (id: ResearchId) => boolean }
): ReadonlyArray<ResearchId> =>
  Array.from(running).filter((id) => !active.has(id))
