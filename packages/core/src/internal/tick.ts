/**
 * The tick's interpreter: one pass over every active research. It reads the
 * world (`observe.ts`), has `TickPlan` decide, makes the plan concrete
 * (`tickChanges.ts`) while it claims the plan's worker slots and draws job
 * ids, writes every transition in one batch, then announces what was
 * written, forks in-process jobs (`runner.ts`) and dispatches worker jobs
 * (`dispatch.ts`) beside the loop.
 */
import { Clock, Duration, Effect, FiberMap, FiberSet, Metric } from "effect"
import { CoordinatorEvents } from "../CoordinatorEvents.js"
import type { JobId, Research, WorkerType } from "../Domain.js"
import type { StorageError } from "../Errors.js"
import { ForemanConfig } from "../ForemanConfig.js"
import * as Metrics from "../Metrics.js"
import { Pipeline } from "../Pipeline.js"
import { type ActiveEntry, ResearchStore } from "../ResearchStore.js"
import * as TickPlan from "../TickPlan.js"
import { WorkerRegistry } from "../WorkerRegistry.js"
import * as Dispatch from "./dispatch.js"
import * as Ids from "./ids.js"
import * as Incarnation from "./incarnation.js"
import * as Observe from "./observe.js"
import * as Runner from "./runner.js"
import * as TickChanges from "./tickChanges.js"

/** What one tick did, for the loop and for benchmarks. */
export interface TickSummary {
  readonly researches: number
  readonly committed: number
  readonly started: number
  /** The earliest retry backoff that ends, if any. */
  readonly wakeAt: number | null
}

/** The tick over the engine's ports; `tick` runs one pass for a term of leadership. */
export const make = Effect.gen(function*() {
  const store = yield* ResearchStore
  const registry = yield* WorkerRegistry
  const events = yield* CoordinatorEvents
  const config = yield* ForemanConfig
  const pipeline = yield* Pipeline
  const { observe } = yield* Observe.make
  const runner = yield* Runner.make
  const dispatcher = yield* Dispatch.make

  /** Claims the plan's batches in order, a job id drawn for each slot: the slots granted, per type in slot order. */
  const claimSlots = (claims: ReadonlyArray<TickPlan.ClaimBatch>) =>
    Effect.gen(function*() {
      const granted = new Map<WorkerType, ReadonlyArray<TickChanges.Slot>>()
      for (const { count, workerType } of claims) {
        const jobIds: Array<JobId> = []
        for (let i = 0; i < count; i++) jobIds.push(yield* Ids.jobId)
        const workers = yield* registry.claim(workerType, jobIds)
        granted.set(workerType, workers.map((worker, i) => ({ jobId: jobIds[i]!, worker })))
      }
      return granted
    })

  /** Names the plan's designs after the catalogue (see `TickChanges.nameDesigns`). */
  const nameDesigns = (actions: ReadonlyArray<TickPlan.TickAction>) =>
    Effect.gen(function*() {
      const names = TickChanges.designNames(actions)
      if (names.length === 0) return actions
      const taken = new Map<string, ReadonlyArray<string>>()
      for (const name of names) taken.set(name, yield* store.strategyNames(name))
      return TickChanges.nameDesigns(actions, (name) => taken.get(name) ?? [])
    })

  /** Writes the changes in one batch: whether each was written (none, when storage failed). */
  const write = (changed: ReadonlyArray<TickChanges.Change>, epoch: number, now: number) =>
    changed.length === 0 ? Effect.succeed([]) : store.commitAll(changed.map((c) => TickChanges.transitionOf(c, epoch, now))).pipe(
      Effect.catchTag("StorageError", (e) => Effect.as(Effect.logError(e.message), changed.map(() => false)))
    )

  /**
   * Claims the plan's slots, then writes every transition of the tick in one
   * batch and hands back the slots of those found stale. Runs without
   * interruption: a coordinator deposed mid-tick must not leak a worker slot.
   * Answers the changes written, and the jobs to send again (whatever was written).
   */
  const commitPlan = (epoch: number, plan: TickPlan.TickPlan, now: number) =>
    Effect.uninterruptible(Effect.gen(function*() {
      const actions = yield* nameDesigns(plan.actions)
      const grants = { epoch, now, granted: yield* claimSlots(plan.claims) }
      for (const note of plan.notes) yield* Effect.logWarning(note)
      const redispatches: Array<Dispatch.Dispatch> = []
      const changes: Array<TickChanges.Change> = []
      for (const action of actions) {
        if (action._tag === "Redispatch") redispatches.push({ worker: action.worker, job: action.job })
        const jobId = action._tag === "RunInProcess" ? yield* Ids.jobId : null
        changes.push(TickChanges.toChange(grants, action, jobId))
      }
      const changed = changes.filter(TickChanges.changes)
      const results = yield* write(changed, epoch, now)
      for (const [i, change] of changed.entries()) {
        const slot = TickChanges.unwrittenSlot(change, results[i] === true)
        if (slot !== null) yield* registry.release(slot.worker.id, slot.jobId)
      }
      for (const { jobId, workerId } of plan.unpicked) yield* registry.markRefusing(workerId, jobId, "full")
      return { written: changed.filter((_, i) => results[i] === true), redispatches }
    }))

  /** Publishes what a written transition changed. */
  const announce = (now: number, before: Research, after: Research) =>
    Effect.gen(function*() {
      const event = TickChanges.transitionEvent(now, before, after)
      if (event === null) return
      yield* events.publish(event)
      if (after.status === "failed") yield* Effect.logWarning(`research ${after.id} failed: ${after.error}`)
      if (TickChanges.finished(before, after)) {
        yield* Metric.increment(Metric.tagged(Metrics.researchesFinished, "status", after.status))
      }
    })

  /** Announces the changes written and launches their jobs: forked here, or answered to dispatch. */
  const launch = (incarnation: Incarnation.Incarnation, now: number, written: ReadonlyArray<TickChanges.Change>) =>
    Effect.gen(function*() {
      const dispatches: Array<Dispatch.Dispatch> = []
      for (const { after, before, launch } of written) {
        yield* announce(now, before, after)
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
  const reap = (incarnation: Incarnation.Incarnation, active: ReadonlyArray<ActiveEntry>) =>
    Effect.gen(function*() {
      const size = yield* FiberMap.size(incarnation.fibers)
      if (size === 0) return
      const live = new Set(active.map(({ research }) => research.id))
      const stale = Incarnation.stale(Array.from(incarnation.fibers, ([key]) => key), live)
      for (const key of stale) yield* FiberMap.remove(incarnation.fibers, key)
    })

  /** One pass over every active research: read the world, plan, carry the plan out. */
  const tick = (incarnation: Incarnation.Incarnation): Effect.Effect<TickSummary, StorageError> =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const { active, hearingSince, workers } = yield* observe(incarnation, now)
      const { epoch } = incarnation
      const plan = TickPlan.make({ pipeline, config, now, epoch, hearingSince, active, workers })
      const { redispatches, written } = yield* commitPlan(epoch, plan, now)
      const started = written.filter((c) => c.launch !== null).length
      const dispatches = [...redispatches, ...yield* launch(incarnation, now, written)]
      // Dispatches run beside the loop: a slow worker does not hold up the next tick,
      // and a failed one frees its worker, which wakes the loop again.
      for (const d of dispatches) yield* FiberSet.run(incarnation.dispatching, dispatcher.dispatch(now, d))
      yield* reap(incarnation, active)
      yield* Effect.annotateCurrentSpan({
        "foreman.tick.researches": active.length,
        "foreman.tick.committed": written.length,
        "foreman.tick.started": started
      })
      return { researches: active.length, committed: written.length, started, wakeAt: plan.wakeAt }
    }).pipe(
      Metric.trackDurationWith(Metrics.tickDuration, Duration.toSeconds),
      Effect.withSpan("Coordinator.tick", { attributes: { "foreman.epoch": incarnation.epoch } })
    )

  return { tick }
})
