/**
 * Writing a tick's plan: its designs named after the catalogue, a job id
 * drawn for each worker slot it claims, each action made concrete
 * (`tickChanges.ts`), then the slots claimed and every transition written in
 * one step (`Researches.commitClaiming`: one statement on PostgreSQL, where a
 * claim and a commit were two round trips); the slots of transitions found
 * stale are handed back. What is decided here is decided by
 * `tickChanges.ts`; this module draws, reads, claims and writes.
 */
import { Cause, Effect } from "effect"
import type { JobId, WorkerType } from "../Domain.js"
import type { StorageError } from "../Errors.js"
import { type ClaimingResult, Researches, type SlotClaim, type SlottedTransition, type Transition } from "../Researches.js"
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

  /** A job id drawn for each slot of the plan's claims, in order. */
  const drawSlots = (claims: ReadonlyArray<TickPlan.ClaimBatch>) =>
    Effect.forEach(claims, ({ count, workerType }) =>
      Effect.map(Effect.replicateEffect(Ids.jobId, count), (jobIds): SlotClaim => ({ workerType, jobIds })))

  /** Names the plan's designs after the catalogue (see `TickChanges.nameDesigns`). */
  const nameDesigns = (actions: ReadonlyArray<TickPlan.TickAction>) =>
    Effect.gen(function*() {
      const names = TickChanges.designNames(actions)
      if (names.length === 0) return actions
      const taken = new Map<string, ReadonlyArray<string>>()
      for (const name of names) taken.set(name, yield* strategies.strategyNames(name))
      return TickChanges.nameDesigns(actions, (name) => taken.get(name) ?? [])
    })

  /** The slots granted, per worker type in slot order. */
  const slotsOf = (claims: ReadonlyArray<SlotClaim>, granted: ClaimingResult["granted"]) =>
    new Map<WorkerType, ReadonlyArray<TickChanges.Slot>>(
      claims.map(({ jobIds, workerType }, i) => [
        workerType,
        (granted[i] ?? []).map((worker, k) => ({ jobId: jobIds[k]!, worker }))
      ])
    )

  /**
   * Claims the plan's slots and writes every transition of the tick in one
   * step (`Researches.commitClaiming`; one statement on PostgreSQL), then
   * hands back the slots of those found stale. Runs without interruption: a
   * coordinator deposed mid-tick must not leak a worker slot. Answers the
   * changes written, and the jobs to send again (whatever was written).
   */
  const commitPlan = (epoch: number, plan: TickPlan.TickPlan, now: number): Effect.Effect<Committed, StorageError> =>
    Effect.uninterruptible(Effect.gen(function*() {
      const actions = yield* nameDesigns(plan.actions)
      const claims = yield* drawSlots(plan.claims)
      for (const note of plan.notes) yield* Effect.logWarning(note)
      const redispatches: Array<Dispatch.Dispatch> = []
      const drawn: Array<JobId | null> = []
      for (const action of actions) {
        if (action._tag === "Redispatch") redispatches.push({ worker: action.worker, job: action.job })
        drawn.push(action._tag === "RunInProcess" ? yield* Ids.jobId : null)
      }
      // What to write before the slots are known: a claim's transition for either outcome.
      const unclaimed: TickChanges.Grants = { epoch, now, granted: new Map() }
      const batch: Array<{ readonly action: TickPlan.TickAction; readonly jobId: JobId | null }> = []
      const transitions: Array<Transition | SlottedTransition> = []
      for (const [i, action] of actions.entries()) {
        const jobId = drawn[i]!
        const slot = action._tag === "ClaimWorker"
          ? claims.find((c) => c.workerType === action.workerType)?.jobIds[action.slot]
          : undefined
        if (action._tag === "ClaimWorker" && slot !== undefined) {
          transitions.push(TickChanges.slotted(unclaimed, action, slot))
          batch.push({ action, jobId })
          continue
        }
        const change = action._tag === "RunInProcess"
          ? TickChanges.inProcess(unclaimed, action, jobId!)
          : TickChanges.toChange(unclaimed, action)
        if (!TickChanges.changes(change)) continue
        transitions.push(TickChanges.transitionOf(change, epoch, now))
        batch.push({ action, jobId })
      }
      const result = transitions.length === 0 && claims.every((c) => c.jobIds.length === 0)
        ? { granted: [], written: [] }
        : yield* researches.commitClaiming({ claims, at: now, transitions }).pipe(
          Effect.catchTag("StorageError", (e) =>
            Effect.as(Effect.logError(e.message, Cause.fail(e)), { granted: [], written: transitions.map(() => false) }))
        )
      // The same changes, now that the slots granted are known.
      const grants: TickChanges.Grants = { epoch, now, granted: slotsOf(claims, result.granted) }
      const written: Array<TickChanges.Change> = []
      for (const [i, { action, jobId }] of batch.entries()) {
        const change = action._tag === "RunInProcess"
          ? TickChanges.inProcess(grants, action, jobId!)
          : TickChanges.toChange(grants, action)
        const slot = TickChanges.unwrittenSlot(change, result.written[i] === true)
        if (slot !== null) yield* registry.release(slot.worker.id, slot.jobId)
        if (result.written[i] === true) written.push(change)
      }
      for (const { jobId, workerId } of plan.unpicked) yield* registry.markRefusing(workerId, jobId, "full")
      return { written, redispatches } satisfies Committed
    }))

  return { commitPlan }
})
