/**
 * The job state machine: a job's first state and every change of its status,
 * as pure functions from one job value to the next. The coordinator, the
 * pipeline and the worker registry all build new job values here and only
 * decide when to write them: in a tick's commit, or through the one job
 * writer, `internal/jobWrites`.
 */
import { type AgentOutput, usageOf } from "./Agents.js"
import type { Job, JobId, JobReport, Research, Worker } from "./Domain.js"
import type { JobPatch } from "./ResearchStore.js"

/** What a new job is made from. */
export interface NewJob {
  readonly id: JobId
  /** The research in the phase the job runs, before the job starts. */
  readonly research: Research
  /** The phase it runs: its job kind, and the input it gives the job (a `Pipeline` phase definition). */
  readonly definition: { readonly kind: string; readonly input: (research: Research) => unknown }
  /** The worker whose slot was claimed for it; null for an in-process job. */
  readonly worker: Worker | null
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

/** The change a worker's report makes to its job, written in one step with `ResearchStore.patchJob`. */
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
