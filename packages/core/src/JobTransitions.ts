/**
 * The job state machine: a job's first state and every change of its status,
 * as pure functions from one job value to the next, and the statuses each
 * change applies to (`from`). The coordinator, the pipeline and the worker
 * registry all build new job values here and only decide when to write them:
 * in a tick's commit, or through the one job writer, `internal/jobWrites`.
 * Stores write a job only while its status is still one it was built from.
 *
 * ```
 *   pending → running      accepted (dispatch, delivery to a poll), a progress report
 *   running → pending      offered again to its pull worker
 *   pending|running → completed | failed   a report, an in-process outcome
 *   pending → refused      never started (refused, dispatch crossed a registration, worker left)
 *   running → lost         its worker lost it; lost → completed when its late result is used
 *   pending|running → cancelled   with its research
 * ```
 */
import { type AgentOutput, usageOf } from "./Agents.js"
import {
  isJobSettled,
  type Job,
  type JobId,
  type JobReport,
  type JobStatus,
  type Research,
  type WorkerId,
  type WorkerType
} from "./Domain.js"
import type { JobPatch } from "./Jobs.js"

/** What a new job is made from. */
export interface NewJob {
  readonly id: JobId
  /** The research in the phase the job runs, before the job starts. */
  readonly research: Research
  /** The phase it runs: its job kind, and the input it gives the job (a `Pipeline` phase definition). */
  readonly definition: { readonly kind: string; readonly input: (research: Research) => unknown }
  /**
   * The worker whose slot was claimed for it (its id null: a slot being
   * claimed with the job's write, whose worker the store fills in); null for
   * an in-process job.
   */
  readonly worker: { readonly id: WorkerId | null; readonly type: WorkerType } | null
  /** The coordinator incarnation creating it. */
  readonly epoch: number
  readonly now: number
  /** When the research started waiting for the worker type (its place in the queue). */
  readonly queuedSince?: number
}

/**
 * A new attempt at the research's phase: running at once in process, or
 * pending until the claimed worker accepts it.
 */
export const create = ({ definition, epoch, id, now, queuedSince, research, worker }: NewJob): Job => ({
  id,
  researchId: research.id,
  kind: definition.kind,
  phase: research.phase,
  workerType: worker?.type ?? null,
  workerId: worker?.id ?? null,
  status: worker === null ? "running" : "pending",
  attempt: research.attempt + 1,
  progress: 0,
  message: null,
  input: definition.input(research),
  result: null,
  usage: null,
  error: null,
  epoch,
  ...(queuedSince === undefined ? {} : { queuedSince }),
  createdAt: now,
  updatedAt: now,
  finishedAt: null
})

/** The worker took the dispatched job: it runs. */
export const accepted = (job: Job, now: number): Job => ({ ...job, status: "running", updatedAt: now })

/**
 * A job a pull worker's registration did not list: offered to it again, taken
 * by its next poll (re-run, if its process restarted), kept by a poll that
 * lists it (the registration crossed the poll that delivered it), or back to
 * the queue after the acknowledgement time.
 */
export const offeredAgain = (job: Job, now: number): Job => ({ ...job, status: "pending", updatedAt: now })

/** A pending job sent to its worker again: its wait for a word starts over. */
export const redispatched = (job: Job, now: number): Job => ({ ...job, updatedAt: now })

/** An in-process job finished with a result and the usage of its model calls. */
export const complete = (job: Job, output: AgentOutput<unknown>, now: number): Job => ({
  ...job,
  status: "completed",
  progress: 1,
  result: output.result,
  usage: usageOf(output.calls),
  updatedAt: now,
  finishedAt: now
})

/**
 * The job ended without a result: `failed` (it ran and failed), `lost` (its
 * worker lost it; the attempt counts), `refused` (it never started) or
 * `cancelled`, with the reason.
 */
export const settle = (
  job: Job,
  status: "failed" | "lost" | "refused" | "cancelled",
  error: string,
  now: number
): Job => ({ ...job, status, error, updatedAt: now, finishedAt: now })

/** The change a worker's report makes to its job, written in one step with `Jobs.patchJob`. */
export const reportPatch = (report: JobReport, now: number): JobPatch => {
  switch (report._tag) {
    case "Progress":
      return {
        status: "running",
        progress: report.progress,
        updatedAt: now,
        ...(report.message === undefined ? {} : { message: report.message })
      }
    case "Completed":
      return { status: "completed", progress: 1, result: report.result, updatedAt: now, finishedAt: now }
    case "Failed":
      return { status: "failed", error: report.error, updatedAt: now, finishedAt: now }
  }
}

/** The job with a report's change applied. */
export const patched = (job: Job, patch: JobPatch): Job => ({ ...job, ...patch })

/**
 * A job its worker re-registered without: refused while still pending (the
 * dispatch crossed the registration; nothing ran there), else lost.
 */
export const disowned = (job: Job, workerId: string, now: number): Job =>
  job.status === "pending"
    ? settle(job, "refused", `dispatch crossed a registration of worker ${workerId}; not started there`, now)
    : settle(job, "lost", `worker ${workerId} re-registered without this job`, now)

/**
 * A job whose worker deregistered: refused while still pending (it never
 * started there; uncounted), else lost (retried at once, not after the grace).
 */
export const abandoned = (job: Job, workerId: string, now: number): Job =>
  job.status === "pending"
    ? settle(job, "refused", `worker ${workerId} deregistered before taking it`, now)
    : settle(job, "lost", `worker ${workerId} deregistered while running it`, now)

/** The job cancelled with its research; none for one already settled. */
export const cancelledWithResearch = (job: Job, now: number): Job | undefined =>
  isJobSettled(job.status) ? undefined : settle(job, "cancelled", "cancelled by operator", now)

/**
 * A report the job's write did not take (the job is settled): the job made
 * whole by it when it is a result for a job declared lost (`lost` →
 * `completed`, used if its research has not moved on), else none.
 */
export const revivedBy = (job: Job, report: JobReport, now: number): Job | undefined =>
  job.status === "lost" && report._tag === "Completed" ? patched(job, reportPatch(report, now)) : undefined

/** The statuses each change applies to: the condition under which its write is stored. */
export const from = {
  /** A worker's report (`reportPatch`). */
  report: ["pending", "running"],
  accepted: ["pending"],
  offeredAgain: ["running"],
  /** An in-process outcome (`complete`, or `settle` as failed). */
  outcome: ["running"],
  /** A dispatch that failed (`settle` as lost or refused). */
  undelivered: ["pending"],
  revivedBy: ["lost"]
} as const satisfies Record<string, ReadonlyArray<JobStatus>>
