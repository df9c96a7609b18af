/**
 * A tick's plan made concrete, without side effects. `TickPlan` decides what
 * each research does; here its designs are named after the catalogue
 * (`nameDesigns`), each action becomes the change to write with the job it
 * starts (`inProcess`, `toChange`: given the slots claimed and the ids
 * drawn), the changes become the store's transitions, and what a written
 * change tells observers is decided (`transitionEvent`, `jobStartedEvent`).
 * `commitPlan.ts` draws, claims and writes; `tick.ts` announces and launches.
 */
import type { CoordinatorEvent } from "../CoordinatorEvents.js"
import { isTerminalStatus, type Job, type JobId, type Research, type Strategy, type Worker, type WorkerType } from "../Domain.js"
import * as JobTransitions from "../JobTransitions.js"
import type { PhaseDefinition } from "../Pipeline.js"
import type { JobWrite, SlottedTransition, Transition } from "../Researches.js"
import * as ResearchTransitions from "../ResearchTransitions.js"
import * as StrategyCatalogue from "../StrategyCatalogue.js"
import type { TickAction } from "../TickPlan.js"

/** How a job a tick starts runs once its transition is written. */
export type Launch =
  | {
    readonly _tag: "Fork"
    readonly job: Job
    readonly definition: PhaseDefinition
    /** The research as the in-process job sees it: as read, with the job active. */
    readonly research: Research
  }
  | { readonly _tag: "Dispatch"; readonly worker: Worker; readonly job: Job }

/** A planned action made concrete: the transition to write, the job it starts, the strategy it designed. */
export interface Change {
  readonly before: Research
  readonly after: Research
  readonly writes: ReadonlyArray<JobWrite>
  readonly launch: Launch | null
  /** The strategy its transition designed, catalogued with it. */
  readonly design: Strategy | null
}

/** A worker slot granted to a job id drawn for it. */
export interface Slot {
  readonly jobId: JobId
  readonly worker: Worker
}

/**
 * Names every design the plan records after the catalogue, a suffix added
 * when the name is taken (`namesLike(name)`: the catalogue's names starting
 * with `name`) or taken by another design of this tick. The catalogue's
 * unique name fences a write that raced the read: its transition is stale
 * and named again on the next tick.
 */
export const nameDesigns = (
  actions: ReadonlyArray<TickAction>,
  namesLike: (name: string) => ReadonlyArray<string>
): ReadonlyArray<TickAction> => {
  const picked = new Set<string>()
  return actions.map((action) => {
    const design = StrategyCatalogue.designOf(action)
    if (design === null) return action
    const name = StrategyCatalogue.uniqueName(design.name, new Set([...picked, ...namesLike(design.name)]))
    picked.add(name)
    return name === design.name ? action : StrategyCatalogue.named(action, name)
  })
}

/** The names whose catalogue entries `nameDesigns` reads, each once. */
export const designNames = (actions: ReadonlyArray<TickAction>): ReadonlyArray<string> => {
  const names = new Set<string>()
  for (const action of actions) {
    const design = StrategyCatalogue.designOf(action)
    if (design !== null) names.add(design.name)
  }
  return Array.from(names)
}

/** A research starting `job`: written with the job, then launched. */
const starting = (
  action: { readonly before: Research; readonly research: Research; readonly writes: ReadonlyArray<JobWrite> },
  job: Job,
  launch: Launch,
  design: Strategy | null
): Change => ({
  before: action.before,
  after: ResearchTransitions.started(action.research, job),
  writes: [...action.writes, { job, expected: null }],
  launch,
  design
})

/** What concrete values a tick gives its actions. */
export interface Grants {
  readonly epoch: number
  readonly now: number
  /** The slots claimed, per worker type in slot order. */
  readonly granted: ReadonlyMap<WorkerType, ReadonlyArray<Slot>>
}

/** A planned action that starts no in-process job. */
export type OtherAction = Exclude<TickAction, { readonly _tag: "RunInProcess" }>

/** Makes a `RunInProcess` concrete: its job, with the id drawn for it, forked once written. */
export const inProcess = (
  { epoch, now }: Grants,
  action: Extract<TickAction, { readonly _tag: "RunInProcess" }>,
  jobId: JobId
): Change => {
  const { definition, research } = action
  const job = JobTransitions.create({ id: jobId, research, definition, worker: null, epoch, now })
  const launch: Launch = { _tag: "Fork", job, definition, research: { ...research, activeJobId: job.id } }
  return starting(action, job, launch, StrategyCatalogue.designOf(action))
}

/** The job a `ClaimWorker` starts on the worker its slot went to. */
const claimedJob = (
  { epoch, now }: Grants,
  action: Extract<TickAction, { readonly _tag: "ClaimWorker" }>,
  jobId: JobId,
  worker: { readonly id: Worker["id"] | null; readonly type: WorkerType }
): Job =>
  JobTransitions.create({
    id: jobId,
    research: action.research,
    definition: action.definition,
    worker,
    epoch,
    now,
    queuedSince: action.since
  })

/** Makes any other planned action concrete; a `ClaimWorker` without a granted slot keeps its research waiting. */
export const toChange = (grants: Grants, action: OtherAction): Change => {
  const design = StrategyCatalogue.designOf(action)
  switch (action._tag) {
    case "Commit":
    case "Redispatch":
      return { before: action.before, after: action.after, writes: action.writes, launch: null, design }
    case "ClaimWorker": {
      const slot = grants.granted.get(action.workerType)?.[action.slot]
      if (slot === undefined) {
        return { before: action.before, after: action.waiting, writes: action.writes, launch: null, design }
      }
      const job = claimedJob(grants, action, slot.jobId, slot.worker)
      return starting(action, job, { _tag: "Dispatch", worker: slot.worker, job }, design)
    }
  }
}

/** Whether a change writes anything. */
export const changes = (change: Change): boolean => change.after !== change.before || change.writes.length > 0

/** The store's transition for a change, conditional on the version read and on the epoch. */
export const transitionOf = (change: Change, epoch: number, now: number): Transition => ({
  research: ResearchTransitions.nextVersion(change.before, change.after, now),
  expectedVersion: change.before.version,
  epoch,
  jobs: change.writes,
  design: change.design ?? undefined
})

/**
 * What a `ClaimWorker` writes for slot `jobId` before the store says which
 * worker grants it: the research started with the job, whose worker id the
 * store fills in (`Researches.withWorker`), or, with no slot, kept waiting
 * (null when that changes nothing). `toChange` makes the same change once
 * the slots granted are known.
 */
export const slotted = (
  grants: Grants,
  action: Extract<TickAction, { readonly _tag: "ClaimWorker" }>,
  jobId: JobId
): SlottedTransition => {
  const design = StrategyCatalogue.designOf(action)
  const job = claimedJob(grants, action, jobId, { id: null, type: action.workerType })
  const claimed: Change = {
    before: action.before,
    after: ResearchTransitions.started(action.research, job),
    writes: [...action.writes, { job, expected: null }],
    launch: null,
    design
  }
  const otherwise = toChange({ ...grants, granted: new Map() }, action)
  return {
    workerType: action.workerType,
    slot: action.slot,
    claimed: transitionOf(claimed, grants.epoch, grants.now),
    otherwise: changes(otherwise) ? transitionOf(otherwise, grants.epoch, grants.now) : null
  }
}

/** The slot of a dispatch whose change was not written, to hand back. */
export const unwrittenSlot = (change: Change, written: boolean): Slot | null =>
  !written && change.launch?._tag === "Dispatch" ? { worker: change.launch.worker, jobId: change.launch.job.id } : null

/** What a written transition tells observers: none unless its phase, status or awaited worker type changed. */
export const transitionEvent = (
  now: number,
  before: Research,
  after: Research
): Extract<CoordinatorEvent, { _tag: "Transition" }> | null =>
  before.phase === after.phase && before.status === after.status &&
    before.waitingFor?.workerType === after.waitingFor?.workerType
    ? null
    : {
      _tag: "Transition",
      at: now,
      researchId: after.id,
      phase: after.phase,
      status: after.status,
      waitingFor: after.waitingFor,
      error: after.error
    }

/** Whether a written transition finished its research (counted once, when the status changes). */
export const finished = (before: Research, after: Research): boolean =>
  before.status !== after.status && isTerminalStatus(after.status)

/** What a job started tells observers; its queue time is its own, or now. */
export const jobStartedEvent = (job: Job, now: number): Extract<CoordinatorEvent, { _tag: "JobStarted" }> => ({
  _tag: "JobStarted",
  at: now,
  researchId: job.researchId,
  jobId: job.id,
  kind: job.kind,
  workerType: job.workerType,
  workerId: job.workerId,
  attempt: job.attempt,
  queuedSince: job.queuedSince ?? now
})
