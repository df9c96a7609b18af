/**
 * The tick's interpreter. It reads what changed (`observe.ts`), has the
 * term's `PlanState` decide (the plan `TickPlan` would make over every active
 * research, from those that can have changed), writes the plan
 * (`commitPlan.ts`), then announces what was written (`tickChanges.ts`
 * decides what), forks in-process jobs (`runner.ts`) and dispatches worker
 * jobs (`dispatch.ts`) beside the loop.
 */
import { Clock, Duration, Effect, FiberMap, FiberSet, Metric } from "effect"
import { CoordinatorEvents, type CoordinatorEventsShape } from "../CoordinatorEvents.js"
import type { Research, ResearchId } from "../Domain.js"
import type { StorageError } from "../Errors.js"
import { ForemanConfig } from "../ForemanConfig.js"
import * as Metrics from "../Metrics.js"
import { Pipeline } from "../Pipeline.js"
import * as CommitPlan from "./commitPlan.js"
import * as Dispatch from "./dispatch.js"
import * as Incarnation from "./incarnation.js"
import * as Observe from "./observe.js"
import * as Runner from "./runner.js"
import * as Spans from "./spans.js"
import * as TickChanges from "./tickChanges.js"

/** What one tick did, for the loop and for benchmarks. */
export interface TickSummary {
  readonly researches: number
  readonly committed: number
  readonly started: number
  /**
   * When the next tick is due for the researches if nothing else happens (a
   * backoff ends, a job's deadline, a slot suspected of leaking is due to be
   * freed), after now; none if nothing is.
   */
  readonly wakeAt: number | null
  /**
   * When a silent worker may be due to expire (`TickPlan.expiryDue`, no sooner
   * than expiring is due again); a heartbeat since may have made it later.
   */
  readonly expireAt: number | null
}

/** Publishes what a written transition changed (see `TickChanges.transitionEvent`). */
const announce = (events: CoordinatorEventsShape, now: number, before: Research, after: Research) =>
  Effect.gen(function*() {
    const event = TickChanges.transitionEvent(now, before, after)
    if (event === null) return
    yield* events.publish(event)
    if (after.status === "failed") yield* Effect.logWarning(`research ${after.id} failed: ${after.error}`)
    if (TickChanges.finished(before, after)) {
      yield* Metric.increment(Metrics.labelled(Metrics.researchesFinished, { status: after.status }))
    }
  })

/** The tick over the engine's ports; `tick` runs one pass for a term of leadership. */
export const make = Effect.gen(function*() {
  const events = yield* CoordinatorEvents
  const config = yield* ForemanConfig
  const pipeline = yield* Pipeline
  const { observe } = yield* Observe.make
  const { commitPlan } = yield* CommitPlan.make
  const runner = yield* Runner.make
  const dispatcher = yield* Dispatch.make

  /** Announces the changes written and launches their jobs: forked here, or answered to dispatch. */
  const launchAll = (incarnation: Incarnation.Incarnation, now: number, written: ReadonlyArray<TickChanges.Change>) =>
    Effect.gen(function*() {
      const dispatches: Array<Dispatch.Dispatch> = []
      for (const { after, before, launch } of written) {
        yield* announce(events, now, before, after)
        if (launch === null) continue
        yield* events.publish(TickChanges.jobStartedEvent(launch.job, now))
        yield* Metrics.recordJobStarted(launch.job, now)
        if (launch._tag === "Fork") {
          yield* FiberMap.run(
            incarnation.fibers,
            launch.research.id,
            runner.run(launch.definition, launch.research, launch.job)
          )
        } else {
          dispatches.push(launch)
        }
      }
      return dispatches
    })

  /** Interrupts in-process jobs of researches that stopped being active elsewhere. */
  const reap = (incarnation: Incarnation.Incarnation) =>
    Effect.gen(function*() {
      const size = yield* FiberMap.size(incarnation.fibers)
      if (size === 0) return
      const live = { has: (id: ResearchId) => incarnation.active.get(id) !== undefined }
      const stale = Incarnation.stale(Array.from(incarnation.fibers, ([key]) => key), live)
      for (const key of stale) yield* FiberMap.remove(incarnation.fibers, key)
    })

  /** One tick: read what changed, plan the researches that can have changed, carry the plan out. */
  const tick = (incarnation: Incarnation.Incarnation): Effect.Effect<TickSummary, StorageError> =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const { delta, hearing, hearingSince, leakDueAt, workers } = yield* observe(incarnation, now)
      const { active, epoch } = incarnation
      const plan = incarnation.planState.plan({ pipeline, config, now, epoch, hearingSince, active, delta, workers })
      const { redispatches, written } = yield* commitPlan(epoch, plan, now)
      const started = written.filter((c) => c.launch !== null).length
      const dispatches = [...redispatches, ...yield* launchAll(incarnation, now, written)]
      // Dispatches run beside the loop: a slow worker does not hold up the next tick,
      // and a failed one frees its worker, which wakes the loop again.
      for (const d of dispatches) yield* FiberSet.run(incarnation.dispatching, dispatcher.dispatch(now, d))
      yield* reap(incarnation)
      yield* Spans.annotate({
        "foreman.tick.researches": active.size(),
        "foreman.tick.advanced": incarnation.planState.advanced(),
        "foreman.tick.committed": written.length,
        "foreman.tick.started": started
      })
      const expireAt = Incarnation.expiryWake(hearing, plan.expireAt)
      const wakeAt = plan.wakeAt === null || leakDueAt === null ? plan.wakeAt ?? leakDueAt : Math.min(plan.wakeAt, leakDueAt)
      return { researches: active.size(), committed: written.length, started, wakeAt, expireAt }
    }).pipe(
      Metric.trackDurationWith(Metrics.tickDuration, Duration.toSeconds),
      // A tick's span needs no call site: capturing one is a stack trace per tick.
      Spans.withSpan("Coordinator.tick", { attributes: { "foreman.epoch": incarnation.epoch }, captureStackTrace: false })
    )

  return { tick }
})
