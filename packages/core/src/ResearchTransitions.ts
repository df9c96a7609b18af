/**
 * The research state machine: a research's first state and every change of
 * its status, phase, active job or place in the queue, as pure functions from
 * one research value to the next. The coordinator, the pipeline and the worker
 * registry build new research values here and only decide when to write them.
 */
import { isTerminalStatus, type Job, type JobId, type Phase, type Research, type ResearchId, type Strategy, type WorkerType } from "./Domain.js"

/** What a new research is made from. */
export interface NewResearch {
  readonly id: ResearchId
  /** The research whose assessment it follows, if any. */
  readonly parentId?: ResearchId | null | undefined
  readonly brief: string
  readonly model: string | null
  readonly bypassGates: boolean
  readonly forced: boolean
  readonly phase: Phase
  readonly strategy: Strategy | null
  readonly now: number
}

/** A research just triggered: pending in its first phase, with no job yet. */
export const create = (
  { brief, bypassGates, forced, id, model, now, parentId, phase, strategy }: NewResearch
): Research => ({
  id,
  parentId: parentId ?? null,
  brief,
  model,
  bypassGates,
  forced,
  phase,
  status: "pending",
  strategy,
  results: {},
  gates: {},
  costUsd: 0,
  createdAt: now,
  updatedAt: now,
  finishedAt: null,
  waitingFor: null,
  activeJobId: null,
  attempt: 0,
  failures: 0,
  retryAt: null,
  error: null,
  version: 0
})

/** `after` as written over `before`: the next version, updated now. */
export const nextVersion = (before: Research, after: Research, now: number): Research => ({
  ...after,
  version: before.version + 1,
  updatedAt: now
})

/** A job of the current phase started: the research runs it and waits for nothing. */
export const started = (research: Research, job: Job): Research => ({
  ...research,
  status: "running",
  activeJobId: job.id,
  attempt: job.attempt,
  waitingFor: null,
  retryAt: null
})

/**
 * Waits for a free worker of `workerType` since `since`; a research already
 * waiting for that type keeps its place (and is answered unchanged).
 */
export const waitFor = (research: Research, workerType: WorkerType, since: number): Research =>
  research.waitingFor?.workerType === workerType ? research : { ...research, waitingFor: { workerType, since } }

/** The active job finished with a result: its cost is added and the research is free to move on. */
export const jobDone = (research: Research, costUsd: number): Research => ({
  ...research,
  costUsd: research.costUsd + costUsd,
  activeJobId: null,
  retryAt: null
})

/** Enters `phase` afresh: no attempt, no failure, waiting for nothing. */
export const enterPhase = (research: Research, phase: Phase): Research => ({
  ...research,
  phase,
  attempt: 0,
  failures: 0,
  waitingFor: null
})

/** The active job is abandoned without counting a failure: the phase starts over. */
export const restartPhase = (research: Research): Research => ({ ...research, activeJobId: null })

/** An infrastructure failure (the `failures`-th) in this phase: the phase is retried, not before `retryAt`. */
export const retryLater = (research: Research, failures: number, retryAt: number): Research => ({
  ...research,
  activeJobId: null,
  failures,
  retryAt
})

/**
 * Its job never started (the worker refused it): back to its place at the head
 * of the queue for the job's worker type, no attempt counted.
 */
export const requeue = (research: Research, job: Job): Research => ({
  ...research,
  activeJobId: null,
  waitingFor: job.workerType === null ? null : {
    workerType: job.workerType,
    since: job.queuedSince ?? job.createdAt
  }
})

/**
 * Whether the research can resume from a result of `job`, declared lost:
 * it is still active, in the job's phase, and has not started another attempt.
 */
export const canRevive = (research: Research, job: Job): boolean =>
  !isTerminalStatus(research.status) && research.phase === job.phase && research.activeJobId === null

/**
 * A job already declared lost finished after all, before another attempt
 * started (`canRevive`): the research runs it again, and the failure is taken back.
 */
export const revive = (research: Research, jobId: JobId): Research => ({
  ...research,
  status: "running",
  activeJobId: jobId,
  failures: Math.max(0, research.failures - 1),
  retryAt: null,
  waitingFor: null
})

const finish = (research: Research, now: number, status: "completed" | "failed", error: string | null): Research => ({
  ...research,
  status,
  error,
  finishedAt: now,
  activeJobId: null,
  waitingFor: null,
  retryAt: null
})

/** The last phase succeeded. */
export const complete = (research: Research, now: number): Research => finish(research, now, "completed", null)

/** The research gives up, for `reason`. */
export const fail = (research: Research, now: number, reason: string): Research =>
  finish(research, now, "failed", reason)

/** Cancelled by an operator (or its job was): nothing more runs. */
export const cancel = (research: Research, now: number): Research => ({
  ...research,
  status: "cancelled",
  finishedAt: now,
  activeJobId: null,
  waitingFor: null,
  retryAt: null
})
