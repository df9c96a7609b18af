/**
 * What one coordinator tick does, decided without side effects. Given the
 * active researches with their jobs, the workers and the configuration at one
 * moment, the plan says which transitions to write, which worker slots to
 * claim and for whom (first come, first served by the time each research
 * started waiting), which in-process jobs to start and which jobs to send to
 * their worker again. The coordinator carries the plan out: it draws job ids,
 * claims, commits, then forks and dispatches. Pure: the same snapshot always
 * gives the same plan.
 */
import { Data } from "effect"
import {
  type Job,
  type JobId,
  pulls,
  type Research,
  type Worker,
  type WorkerId,
  type WorkerType
} from "./Domain.js"
import type { ForemanConfigShape } from "./ForemanConfig.js"
import { jobDueAt, type PhaseDefinition, type PipelineShape } from "./Pipeline.js"
import * as PlanSteps from "./internal/planSteps.js"
import type { ActiveEntry, JobWrite } from "./Researches.js"
import * as ResearchTransitions from "./ResearchTransitions.js"

/** The world as one tick reads it. */
export interface Snapshot {
  readonly pipeline: PipelineShape
  readonly config: ForemanConfigShape
  readonly now: number
  /** The epoch of the coordinator incarnation planning. */
  readonly epoch: number
  /** Since when workers could be heard: their grace before a silent worker's jobs are lost counts from it. */
  readonly hearingSince: number
  /** Every active research with its active job, oldest first. */
  readonly active: ReadonlyArray<ActiveEntry>
  /** Every registered worker, with the job slots it holds. */
  readonly workers: ReadonlyArray<Worker>
}

/**
 * One research's part of a tick. `before` is the research as read; every
 * transition is written conditionally on its version.
 */
export type TickAction = Data.TaggedEnum<{
  /**
   * Writes `after` and `writes` and does nothing else: a phase advanced, a
   * research finished or failed, a job settled (an orphaned or lost job
   * failed), a research started waiting for a worker.
   */
  Commit: {
    readonly before: Research
    readonly after: Research
    readonly writes: ReadonlyArray<JobWrite>
  }
  /**
   * Writes `after` and `writes` (when they change anything), and sends the
   * pending `job` to `worker` again, whether or not the write goes through:
   * workers accept a repeated job id idempotently.
   */
  Redispatch: {
    readonly before: Research
    readonly after: Research
    readonly writes: ReadonlyArray<JobWrite>
    readonly job: Job
    readonly worker: Worker
  }
  /**
   * Starts the phase's in-process job from `research`: a new job, written with
   * the research and `writes`, then forked.
   */
  RunInProcess: {
    readonly before: Research
    readonly research: Research
    readonly writes: ReadonlyArray<JobWrite>
    readonly definition: PhaseDefinition
  }
  /**
   * Takes slot number `slot` of the claim batch for `workerType`. With a
   * worker granted, starts the phase's job on it from `research` (written with
   * `writes`, then dispatched); without one, writes `waiting` and `writes`.
   */
  ClaimWorker: {
    readonly before: Research
    readonly research: Research
    readonly waiting: Research
    readonly writes: ReadonlyArray<JobWrite>
    readonly definition: PhaseDefinition
    readonly workerType: WorkerType
    /** When the research started waiting for the type: its place in the queue. */
    readonly since: number
    readonly slot: number
  }
}>

/** Constructors and matchers of `TickAction`. */
export const TickAction = Data.taggedEnum<TickAction>()

/** Slots to claim on workers of one type in one atomic batch. */
export interface ClaimBatch {
  readonly workerType: WorkerType
  readonly count: number
}

/** What one tick does. */
export interface TickPlan {
  /** Things worth a warning in the log (orphaned or lost jobs, missing jobs). */
  readonly notes: ReadonlyArray<string>
  /**
   * Slot claims, one batch per worker type, in this order, each for no more
   * slots than the snapshot shows free; `ClaimWorker` actions take them by index.
   */
  readonly claims: ReadonlyArray<ClaimBatch>
  /**
   * In order: every other research's action in the order read, then those
   * needing a worker, longest waiting first. Researches with nothing to do are
   * left out.
   */
  readonly actions: ReadonlyArray<TickAction>
  /**
   * When time alone next changes what a tick would do for the researches
   * (a retry backoff ends, a job is lost, unpicked or dispatched again, see
   * `Pipeline.jobDueAt`, counting the jobs this plan starts and sends again),
   * always after `now`; null when nothing will until something else changes.
   */
  readonly wakeAt: number | null
  /**
   * When the next registered worker is due to be marked offline or removed
   * for its silence (`WorkerRegistry.expire`), as the workers read stand
   * (a heartbeat since only makes it later); null with no worker.
   */
  readonly expireAt: number | null
  /**
   * Jobs assigned to pull workers that no poll of theirs picked up in time
   * (refused by this plan): those workers are not asking any more, whatever
   * their last poll said, until they poll again.
   */
  readonly unpicked: ReadonlyArray<{ readonly workerId: WorkerId; readonly jobId: JobId }>
}

/** The earlier of two times, either of which may be none. */
const earliest = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.min(a, b)

/**
 * When the next worker is due to expire: `WorkerRegistry.expireHeard` marks
 * offline a worker silent for longer than `workerOfflineAfterSeconds`, and
 * removes one silent for longer than `workerRemoveAfterSeconds` (strictly
 * longer: a millisecond after the limit), silence counting from
 * `hearingSince` at the earliest (`WorkerTransitions.expiryCutoffs`).
 */
export const expiryDue = (
  workers: ReadonlyArray<Worker>,
  config: ForemanConfigShape,
  hearingSince: number
): number | null => {
  let due: number | null = null
  for (const w of workers) {
    const limit = w.status === "offline"
      ? config.workerRemoveAfterSeconds
      : Math.min(config.workerOfflineAfterSeconds, config.workerRemoveAfterSeconds)
    due = earliest(due, Math.max(hearingSince, w.lastHeartbeatAt + 1) + limit * 1000)
  }
  return due
}

/** One research's step, with its rank in the read order. */
export type Planned = PlanSteps.Planned

/**
 * The researches a tick advances: `make` chooses them from every active
 * research, the leader's `PlanState` from those that can have changed.
 */
export interface Chosen {
  /** Every research advanced, but for those still waiting in a queue, in read order. */
  readonly steps: ReadonlyArray<Planned>
  /** Researches still waiting in a queue: with n slots of their type free, the first n (or more). */
  readonly queued: ReadonlyArray<Planned>
  /** When time alone next changes what a tick does for a research not advanced, if ever (after `now`). */
  readonly wakeAt: number | null
}

/** Plans one tick: advances every active research, but for those waiting in a queue with no slot free for them. */
export const make = (snapshot: Snapshot): TickPlan => {
  const { active, pipeline } = snapshot
  const reading = PlanSteps.readingOf(snapshot)
  const { free, world } = reading
  // Researches still waiting in a queue are not advanced: only as many as there are
  // free slots of their type can change (they take one), so only those are planned.
  const steps: Array<Planned> = []
  const stillWaiting = new Map<WorkerType, Array<Planned>>()
  for (const [rank, entry] of active.entries()) {
    const definition = PlanSteps.stillQueued(pipeline, entry)
    if (definition === null) {
      steps.push(PlanSteps.advanced(pipeline, entry, world, rank))
      continue
    }
    const { workerType } = entry.research.waitingFor!
    if ((free.get(workerType) ?? 0) === 0) continue
    PlanSteps.addTo(stillWaiting, workerType, PlanSteps.queuedStep(entry.research, definition, rank))
  }
  const queued = Array.from(stillWaiting, ([type, line]) => PlanSteps.firstInQueue(line, free.get(type) ?? 0)).flat()
  return assemble(snapshot, { steps, queued, wakeAt: null }, reading)
}

/**
 * The plan from the researches chosen: every step's action, the free slots
 * handed first come, first served to the researches needing a worker, and
 * when the next tick is due. `snapshot.active` is not read; `reading` is the
 * one the researches were chosen with (built from `snapshot` when not given).
 */
export const assemble = (
  snapshot: Omit<Snapshot, "active">,
  chosen: Chosen,
  reading: PlanSteps.Reading = PlanSteps.readingOf(snapshot)
): TickPlan => {
  const { config, hearingSince, now } = snapshot
  const { free, world } = reading
  const { workers } = world
  const pulled = new Set<WorkerType>()
  for (const w of snapshot.workers) if (pulls(w)) pulled.add(w.type)
  /** How long after its dispatch a new pending job on a worker of the type first comes due (`Pipeline.jobDueAt`). */
  const firstDue = (type: WorkerType) =>
    pulled.has(type)
      ? Math.min(config.orphanGraceSeconds, config.assignmentAckSeconds) * 1000
      : config.orphanGraceSeconds * 1000
  const { steps } = chosen
  const queued = [...steps.filter((s) => s.step.action._tag === "NeedWorker"), ...chosen.queued]
    .sort(PlanSteps.inQueueOrder)
  const ordered = [...steps.filter((s) => s.step.action._tag !== "NeedWorker"), ...queued]

  const claimed = new Map<WorkerType, number>()
  const actions: Array<TickAction> = []
  let wakeAt: number | null = chosen.wakeAt
  const due = (at: number | null) => {
    if (at !== null && at > now) wakeAt = earliest(wakeAt, at)
  }
  const commit = (before: Research, after: Research, writes: ReadonlyArray<JobWrite>) => {
    if (after !== before || writes.length > 0) actions.push(TickAction.Commit({ before, after, writes }))
  }
  for (const { before, step } of ordered) {
    const { action, jobWrites: writes, research } = step
    switch (action._tag) {
      case "None": {
        due(action.wakeAt)
        commit(before, research, writes)
        break
      }
      case "Redispatch": {
        const worker = action.job.workerId === null ? undefined : workers.get(action.job.workerId)
        if (worker === undefined) commit(before, research, writes)
        else actions.push(TickAction.Redispatch({ before, after: research, writes, job: action.job, worker }))
        due(jobDueAt(action.job, world))
        break
      }
      case "RunInProcess": {
        actions.push(TickAction.RunInProcess({ before, research, writes, definition: action.definition }))
        break
      }
      case "NeedWorker": {
        const { definition, since, workerType } = action
        const waiting = ResearchTransitions.waitFor(research, workerType, since)
        const slot = claimed.get(workerType) ?? 0
        if (slot < (free.get(workerType) ?? 0)) {
          claimed.set(workerType, slot + 1)
          // The job it starts is pending until its worker takes it.
          due(now + firstDue(workerType))
          actions.push(
            TickAction.ClaimWorker({ before, research, waiting, writes, definition, workerType, since, slot })
          )
        } else {
          commit(before, waiting, writes)
        }
        break
      }
    }
  }
  const unpicked = ordered.flatMap(({ step }) =>
    step.jobWrites.flatMap(({ job }) =>
      job.status === "refused" && job.workerId !== null ? [{ workerId: job.workerId, jobId: job.id }] : []
    )
  )
  return {
    unpicked,
    notes: ordered.flatMap(({ step }) => step.notes),
    claims: Array.from(claimed, ([workerType, count]) => ({ workerType, count })),
    actions,
    wakeAt,
    expireAt: expiryDue(snapshot.workers, config, hearingSince)
  }
}

