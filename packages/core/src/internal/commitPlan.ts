/**
 * Writing a tick's plan: its designs named after the catalogue, its worker
 * slots claimed (a job id drawn for each), each action made concrete
 * (`tickChanges.ts`) and every transition written in one batch; the slots of
 * transitions found stale are handed back. What is decided here is decided
 * by `tickChanges.ts`; this module draws, reads, claims and writes.
 */
import { Cause, Effect } from "effect"
import type { JobId, WorkerType } from "../Domain.js"
import type { StorageError } from "../Errors.js"
import { Researches } from "../Researches.js"
import { Strategies } from "../Strategies.js"
import type * as TickPlan from "../TickPlan.js"
import { WorkerRegistry } from "../WorkerRegistry.js"
import type * as Dispatch from "./dispatch.js"
import * as Ids from "./ids.js"
import * as TickChanges from "./tickChanges.js"

/** What a plan's write answers: the changes written, and the jobs to send again (whatever was written). */
export interface Committed {
  readonly written: ReadonlyArray<TickChanges.Change>
  readonly redispatches: ReadonlyArray<Dispatch.Dispatch>
}

/** Writes tick plans over storage and the registry. */
export const make = Effect.gen(function*() {
  const researches = yield* Researches
  const strategies = yield* Strategies
  const registry = yield* WorkerRegistry

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
      for (const name of names) taken.set(name, yield* strategies.strategyNames(name))
      return TickChanges.nameDesigns(actions, (name) => taken.get(name) ?? [])
    })

  /** Writes the changes in one batch: whether each was written (none, when storage failed). */
  const write = (changed: ReadonlyArray<TickChanges.Change>, epoch: number, now: number) =>
    changed.length === 0 ? Effect.succeed([]) : researches.commitAll(changed.map((c) => TickChanges.transitionOf(c, epoch, now))).pipe(
      Effect.catchTag("StorageError", (e) => Effect.as(Effect.logError(e.message, Cause.fail(e)), changed.map(() => false)))
    )

  /**
   * Claims the plan's slots, then writes every transition of the tick in one
   * batch and hands back the slots of those found stale. Runs without
   * interruption: a coordinator deposed mid-tick must not leak a worker slot.
   * Answers the changes written, and the jobs to send again (whatever was written).
   */
  const commitPlan = (epoch: number, plan: TickPlan.TickPlan, now: number): Effect.Effect<Committed, StorageError> =>
    Effect.uninterruptible(Effect.gen(function*() {
      const actions = yield* nameDesigns(plan.actions)
      const grants = { epoch, now, granted: yield* claimSlots(plan.claims) }
      for (const note of plan.notes) yield* Effect.logWarning(note)
      const redispatches: Array<Dispatch.Dispatch> = []
      const changes: Array<TickChanges.Change> = []
      for (const action of actions) {
        if (action._tag === "Redispatch") redispatches.push({ worker: action.worker, job: action.job })
        changes.push(
          action._tag === "RunInProcess"
            ? TickChanges.inProcess(grants, action, yield* Ids.jobId)
            : TickChanges.toChange(grants, action)
        )
      }
      const changed = changes.filter(TickChanges.changes)
      const results = yield* write(changed, epoch, now)
      for (const [i, change] of changed.entries()) {
        const slot = TickChanges.unwrittenSlot(change, results[i] === true)
        if (slot !== null) yield* registry.release(slot.worker.id, slot.jobId)
      }
      for (const { jobId, workerId } of plan.unpicked) yield* registry.markRefusing(workerId, jobId, "full")
      return { written: changed.filter((_, i) => results[i] === true), redispatches } satisfies Committed
    }))

  return { commitPlan }
})
