/**
 * The parts of a tick's plan that look at one research at a time: which
 * researches wait in a queue with nothing else to do, their order in it (first
 * come, first served), each research's step, and the free slots by worker type.
 * `TickPlan.make` uses them over every active research; the leader's
 * `PlanState` over those that can have changed.
 */
import { hasFreeSlot, type Research, type Worker, type WorkerType } from "../Domain.js"
import { type Action, advance, type PhaseDefinition, type PipelineShape, type Step, type World } from "../Pipeline.js"
import type { ActiveEntry } from "../Researches.js"

/** One research's step, with its rank in the read order (ties in the queue keep it). */
export interface Planned {
  readonly before: Research
  readonly step: Step
  readonly rank: number
}

/** Free job slots per worker type, on workers taking jobs. */
export const freeSlots = (workers: ReadonlyArray<Worker>, now: number): ReadonlyMap<WorkerType, number> => {
  const free = new Map<WorkerType, number>()
  for (const w of workers) {
    if (hasFreeSlot(w, now)) free.set(w.type, (free.get(w.type) ?? 0) + w.capacity - w.currentJobs.length)
  }
  return free
}

/** What every research's step reads of one tick: the world, and the free slots per worker type. */
export interface Reading {
  readonly world: World
  readonly free: ReadonlyMap<WorkerType, number>
}

/** The tick's reading, built once for the researches chosen and the plan assembled from them. */
export const readingOf = (
  snapshot: Pick<World, "now" | "epoch" | "hearingSince" | "config"> & { readonly workers: ReadonlyArray<Worker> }
): Reading => {
  const { config, epoch, hearingSince, now } = snapshot
  return {
    world: { now, epoch, hearingSince, workers: new Map(snapshot.workers.map((w) => [w.id, w])), config },
    free: freeSlots(snapshot.workers, now)
  }
}

/** Adds `item` to the list kept under `key`. */
export const addTo = <K, A>(lists: Map<K, Array<A>>, key: K, item: A): void => {
  const list = lists.get(key)
  if (list === undefined) lists.set(key, [item])
  else list.push(item)
}

const queuePosition = (action: Action): number => (action._tag === "NeedWorker" ? action.since : 0)

/** Queue order: longest waiting first, then oldest, then as read. */
export const inQueueOrder = (a: Planned, b: Planned): number =>
  queuePosition(a.step.action) - queuePosition(b.step.action) || a.before.createdAt - b.before.createdAt ||
  a.rank - b.rank

/**
 * The phase of a research that already waits in the queue of its phase's
 * worker type with nothing else to do (no job, no backoff): it needs a worker
 * again, from the same place in the queue, and changes nothing until it gets
 * one, so it need not be advanced. Null for any other research.
 */
export const stillQueued = (pipeline: PipelineShape, entry: ActiveEntry): PhaseDefinition | null => {
  const { job, research } = entry
  const waiting = research.waitingFor
  if (job !== null || waiting === null || research.activeJobId !== null || research.retryAt !== null) return null
  const definition = pipeline.phases[research.phase]
  return definition?.runner._tag === "Worker" && definition.runner.workerType === waiting.workerType ? definition : null
}

/** The step of a research still waiting in its queue (`stillQueued`): it needs a worker, from its place. */
export const queuedStep = (research: Research, definition: PhaseDefinition, rank: number): Planned => {
  const { since, workerType } = research.waitingFor!
  return {
    before: research,
    step: { research, jobWrites: [], notes: [], action: { _tag: "NeedWorker", definition, workerType, since } },
    rank
  }
}

/** The step of any other research: advanced as far as it goes. */
export const advanced = (pipeline: PipelineShape, entry: ActiveEntry, world: World, rank: number): Planned => ({
  before: entry.research,
  step: advance(pipeline, entry.research, entry.job ?? undefined, world),
  rank
})

/**
 * A step that changes nothing and asks for nothing but, maybe, a later look
 * (`None`): advancing the research again gives the same step until it is
 * written, its job's worker changes, workers' hearing starts over, or its
 * `wakeAt` comes.
 */
export const isQuiet = ({ before, step }: Planned): boolean =>
  step.action._tag === "None" && step.research === before && step.jobWrites.length === 0 && step.notes.length === 0

/**
 * The first `n` of `xs` in queue order (a partial selection: the queue may
 * hold many more researches than there are free slots).
 */
export const firstInQueue = (xs: ReadonlyArray<Planned>, n: number): ReadonlyArray<Planned> => {
  if (n <= 0) return []
  if (n >= 64 || n >= xs.length) return [...xs].sort(inQueueOrder).slice(0, n)
  const best: Array<Planned> = []
  for (const x of xs) {
    if (best.length === n && inQueueOrder(x, best[n - 1]!) >= 0) continue
    let i = best.length === n ? n - 1 : best.length
    while (i > 0 && inQueueOrder(x, best[i - 1]!) < 0) {
      best[i] = best[i - 1]!
      i--
    }
    best[i] = x
  }
  return best
}
