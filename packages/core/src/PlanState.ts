/**
 * What the leader keeps between the ticks of one term so that a tick plans
 * only the researches that can have changed, not every active one, and plans
 * exactly what `TickPlan.make` would over all of them:
 * - researches waiting in a queue with nothing else to do (`stillQueued`), in
 *   one queue per worker type, first come first served: with n slots of a type
 *   free, a tick plans only the first n of its queue;
 * - researches whose step was quiet (nothing to write or start, see
 *   `isQuiet`), left alone until they are written, their job's worker changes,
 *   workers' hearing starts over, or the time their step named comes;
 * - every other research (new, written since, due, or whose last step did
 *   something) is advanced.
 * A term starts empty: its first tick advances every active research (as does
 * a tick after the read order changed). Pure but for the state it keeps: the
 * same snapshots in the same order give the same plans.
 */
import type * as ActiveSet from "./ActiveSet.js"
import type { ResearchId, WorkerId, WorkerType } from "./Domain.js"
import * as DueTimes from "./internal/dueTimes.js"
import * as PlanSteps from "./internal/planSteps.js"
import * as WaitQueue from "./internal/waitQueue.js"
import { workerClock } from "./JobDeadlines.js"
import type { ActiveEntry } from "./Researches.js"
import * as TickPlan from "./TickPlan.js"

/** A tick's view of the world: its snapshot, with the kept active set and what its last read changed. */
export interface Input extends Omit<TickPlan.Snapshot, "active"> {
  readonly active: Pick<ActiveSet.ActiveSet, "entries" | "rank">
  readonly delta: ActiveSet.Delta
}

/** The leader's planning state for one term. */
export interface PlanState {
  /** Plans one tick: the same plan as `TickPlan.make` over every active research. */
  readonly plan: (input: Input) => TickPlan.TickPlan
  /** How many researches the last tick advanced (not counting those taken from a queue). */
  readonly advanced: () => number
}

/** What the kept state was built for: a change of any of these starts it over. */
interface Basis {
  readonly pipeline: Input["pipeline"]
  readonly config: Input["config"]
  readonly epoch: number
}

/** An empty state: its first plan advances every active research. */
export const make = (): PlanState => {
  let basis: Basis | null = null
  let hearingSince: number | null = null
  /** Researches to advance at the next tick. */
  const dirty = new Map<ResearchId, ActiveEntry>()
  const queues = new Map<WorkerType, WaitQueue.WaitQueue<PlanSteps.Planned>>()
  const queued = new Map<ResearchId, PlanSteps.Planned>()
  /** Researches whose last step was quiet, with the entry it was taken from. */
  const dormant = new Map<ResearchId, ActiveEntry>()
  const onWorker = new Map<WorkerId, Set<ResearchId>>()
  let dues = DueTimes.make<ResearchId>()
  /** Each worker as the rules on its jobs read it at the last tick (`workerClock`). */
  let heard = new Map<WorkerId, string>()
  let advancedLast = 0

  const workerOf = (entry: ActiveEntry): WorkerId | null => entry.job?.workerId ?? null

  /** Forgets researches wherever they are kept; those leaving a queue leave it together. */
  const forgetAll = (ids: Iterable<ResearchId>) => {
    const leaving = new Map<WorkerType, Array<PlanSteps.Planned>>()
    for (const id of ids) {
      const item = queued.get(id)
      if (item === undefined) {
        forget(id)
        continue
      }
      queued.delete(id)
      dirty.delete(id)
      PlanSteps.addTo(leaving, item.before.waitingFor!.workerType, item)
    }
    for (const [type, items] of leaving) queues.get(type)?.removeAll(items)
  }
  /** Forgets a research that is not in a queue. */
  const forget = (id: ResearchId) => {
    dirty.delete(id)
    const entry = dormant.get(id)
    if (entry !== undefined) {
      dormant.delete(id)
      dues.set(id, null)
      const worker = workerOf(entry)
      if (worker !== null) onWorker.get(worker)?.delete(id)
    }
  }
  const wake = (id: ResearchId) => {
    const entry = dormant.get(id)
    if (entry === undefined) return
    forget(id)
    dirty.set(id, entry)
  }
  const wakeWorker = (worker: WorkerId) => {
    const ids = onWorker.get(worker)
    if (ids === undefined) return
    onWorker.delete(worker)
    for (const id of ids) wake(id)
  }
  const sleep = (entry: ActiveEntry, wakeAt: number | null) => {
    const id = entry.research.id
    dirty.delete(id)
    dormant.set(id, entry)
    dues.set(id, wakeAt)
    const worker = workerOf(entry)
    if (worker === null) return
    const ids = onWorker.get(worker)
    if (ids === undefined) onWorker.set(worker, new Set([id]))
    else ids.add(id)
  }
  /** Puts researches that wait with nothing else to do in their queues. */
  const enqueue = (items: ReadonlyMap<WorkerType, ReadonlyArray<PlanSteps.Planned>>) => {
    for (const [workerType, added] of items) {
      for (const item of added) queued.set(item.before.id, item)
      let queue = queues.get(workerType)
      if (queue === undefined) queues.set(workerType, queue = WaitQueue.make(PlanSteps.inQueueOrder))
      queue.addAll(added)
    }
  }

  /** Starts over: every active research is to be advanced. */
  const reset = (input: Input) => {
    for (const map of [dirty, queues, queued, dormant, onWorker]) map.clear()
    dues = DueTimes.make()
    heard = new Map()
    for (const entry of input.active.entries()) dirty.set(entry.research.id, entry)
  }

  /** Takes in what the read changed, and wakes researches whose worker, hearing or time changed. */
  const takeIn = (input: Input) => {
    const { delta, workers } = input
    if (basis?.pipeline !== input.pipeline || basis.config !== input.config || basis.epoch !== input.epoch || delta.all) {
      basis = { pipeline: input.pipeline, config: input.config, epoch: input.epoch }
      reset(input)
    } else {
      forgetAll([...delta.removed, ...delta.changed.map((entry) => entry.research.id)])
      for (const entry of delta.changed) dirty.set(entry.research.id, entry)
    }
    if (hearingSince !== input.hearingSince) {
      hearingSince = input.hearingSince
      for (const id of [...dormant.keys()]) wake(id)
    }
    const clocks = new Map<WorkerId, string>()
    for (const w of workers) {
      const clock = workerClock(w)
      clocks.set(w.id, clock)
      if (heard.get(w.id) !== clock) wakeWorker(w.id)
    }
    for (const id of heard.keys()) if (!clocks.has(id)) wakeWorker(id)
    heard = clocks
    for (const id of dues.takeDue(input.now)) wake(id)
  }

  const plan = (input: Input): TickPlan.TickPlan => {
    takeIn(input)
    const { pipeline } = input
    const reading = PlanSteps.readingOf(input)
    const { world } = reading
    const steps: Array<PlanSteps.Planned> = []
    const waiting = new Map<WorkerType, Array<PlanSteps.Planned>>()
    for (const [id, entry] of dirty) {
      const definition = PlanSteps.stillQueued(pipeline, entry)
      if (definition === null) {
        steps.push(PlanSteps.advanced(pipeline, entry, world, input.active.rank(id)))
        continue
      }
      dirty.delete(id)
      PlanSteps.addTo(waiting, entry.research.waitingFor!.workerType, PlanSteps.queuedStep(entry.research, definition, input.active.rank(id)))
    }
    enqueue(waiting)
    steps.sort((a, b) => a.rank - b.rank)
    const candidates: Array<PlanSteps.Planned> = []
    for (const [type, n] of reading.free) {
      const queue = queues.get(type)
      if (queue !== undefined && n > 0) for (const item of queue.first(n)) candidates.push(item)
    }
    const result = TickPlan.assemble(input, { steps, queued: candidates, wakeAt: dues.next() }, reading)
    for (const planned of steps) {
      if (PlanSteps.isQuiet(planned) && planned.step.action._tag === "None") {
        sleep(dirty.get(planned.before.id)!, planned.step.action.wakeAt)
      }
    }
    advancedLast = steps.length
    return result
  }

  return { plan, advanced: () => advancedLast }
}
