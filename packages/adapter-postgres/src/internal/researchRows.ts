/**
 * The rows of `foreman_researches` and `foreman_jobs`: a column per field,
 * checked with the domain's own field schemas, and the mappings between rows
 * and the domain's researches and jobs.
 */
import { Domain } from "@foreman/core"
import { Schema } from "effect"
import { Timestamp, TimestampText, toDate } from "./rows.js"

/** The statuses of a research, or a job, still under way. */
export const ACTIVE = ["pending", "running"] as const

const researchFields = Domain.Research.fields
const jobFields = Domain.Job.fields

/** A row of `foreman_researches`, checked with the research's own field schemas (the request id is the store's). */
export const ResearchColumns = Schema.Struct({
  id: researchFields.id,
  parent_id: Schema.NullOr(Domain.ResearchId),
  brief: researchFields.brief,
  model: researchFields.model,
  bypass_gates: researchFields.bypassGates,
  forced: researchFields.forced,
  phase: researchFields.phase,
  status: researchFields.status,
  strategy: researchFields.strategy,
  results: researchFields.results,
  gates: researchFields.gates,
  cost_usd: researchFields.costUsd,
  created_at: Timestamp,
  updated_at: Timestamp,
  finished_at: Schema.NullOr(Timestamp),
  /** With `waiting_since`, the research's `waitingFor`: both null or neither (a CHECK holds it). */
  waiting_for: Schema.NullOr(Domain.WorkerType),
  waiting_since: Schema.NullOr(Timestamp),
  active_job_id: researchFields.activeJobId,
  attempt: researchFields.attempt,
  failures: researchFields.failures,
  retry_at: Schema.NullOr(Timestamp),
  error: researchFields.error,
  version: researchFields.version
})
export type ResearchColumns = typeof ResearchColumns.Type

export const toResearch = (row: ResearchColumns): Domain.Research => ({
  id: row.id,
  parentId: row.parent_id,
  brief: row.brief,
  model: row.model,
  bypassGates: row.bypass_gates,
  forced: row.forced,
  phase: row.phase,
  status: row.status,
  strategy: row.strategy,
  results: row.results,
  gates: row.gates,
  costUsd: row.cost_usd,
  createdAt: row.created_at.getTime(),
  updatedAt: row.updated_at.getTime(),
  finishedAt: row.finished_at?.getTime() ?? null,
  waitingFor: row.waiting_for === null || row.waiting_since === null
    ? null
    : { workerType: row.waiting_for, since: row.waiting_since.getTime() },
  activeJobId: row.active_job_id,
  attempt: row.attempt,
  failures: row.failures,
  retryAt: row.retry_at?.getTime() ?? null,
  error: row.error,
  version: row.version
})

export const researchRow = (r: Domain.Research): ResearchColumns => ({
  id: r.id,
  parent_id: r.parentId,
  brief: r.brief,
  model: r.model,
  bypass_gates: r.bypassGates,
  forced: r.forced,
  phase: r.phase,
  status: r.status,
  strategy: r.strategy,
  results: r.results,
  gates: r.gates,
  cost_usd: r.costUsd,
  created_at: toDate(r.createdAt),
  updated_at: toDate(r.updatedAt),
  finished_at: r.finishedAt === null ? null : toDate(r.finishedAt),
  waiting_for: r.waitingFor?.workerType ?? null,
  waiting_since: r.waitingFor === null ? null : toDate(r.waitingFor.since),
  active_job_id: r.activeJobId,
  attempt: r.attempt,
  failures: r.failures,
  retry_at: r.retryAt === null ? null : toDate(r.retryAt),
  error: r.error,
  version: r.version
})

/** A row of `foreman_jobs`, its moments read by `timestamp`, checked with the job's own field schemas. */
export const jobColumns = (timestamp: typeof Timestamp | typeof TimestampText) =>
  Schema.Struct({
    id: jobFields.id,
    research_id: jobFields.researchId,
    kind: jobFields.kind,
    phase: jobFields.phase,
    worker_type: jobFields.workerType,
    worker_id: jobFields.workerId,
    status: jobFields.status,
    attempt: jobFields.attempt,
    progress: jobFields.progress,
    message: jobFields.message,
    /** `jsonb`: a JSON null is stored as SQL null, and both read as null. */
    input: jobFields.input,
    result: jobFields.result,
    usage: jobFields.usage,
    error: jobFields.error,
    epoch: jobFields.epoch,
    queued_since: Schema.NullOr(timestamp),
    created_at: timestamp,
    updated_at: timestamp,
    finished_at: Schema.NullOr(timestamp)
  })
export const JobColumns = jobColumns(Timestamp)
export type JobColumns = typeof JobColumns.Type

export const toJob = (row: JobColumns): Domain.Job => ({
  id: row.id,
  researchId: row.research_id,
  kind: row.kind,
  phase: row.phase,
  workerType: row.worker_type,
  workerId: row.worker_id,
  status: row.status,
  attempt: row.attempt,
  progress: row.progress,
  message: row.message,
  input: row.input,
  result: row.result,
  usage: row.usage,
  error: row.error,
  epoch: row.epoch,
  ...(row.queued_since === null ? {} : { queuedSince: row.queued_since.getTime() }),
  createdAt: row.created_at.getTime(),
  updatedAt: row.updated_at.getTime(),
  finishedAt: row.finished_at?.getTime() ?? null
})

export const jobRow = (j: Domain.Job): JobColumns => ({
  id: j.id,
  research_id: j.researchId,
  kind: j.kind,
  phase: j.phase,
  worker_type: j.workerType,
  worker_id: j.workerId,
  status: j.status,
  attempt: j.attempt,
  progress: j.progress,
  message: j.message,
  input: j.input,
  result: j.result,
  usage: j.usage,
  error: j.error,
  epoch: j.epoch,
  queued_since: j.queuedSince === undefined ? null : toDate(j.queuedSince),
  created_at: toDate(j.createdAt),
  updated_at: toDate(j.updatedAt),
  finished_at: j.finishedAt === null ? null : toDate(j.finishedAt)
})
