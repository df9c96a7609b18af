/**
 * The recorded history of a window of time, as a plan reads it: when each
 * research arrived and how it ended, each job's kind, worker type, queue,
 * start, end and outcome, each LLM call's cost, the job slots seen per worker
 * type and the daily budget. Compact on purpose (tuples, not objects): a week
 * of a lab is thousands of jobs. Built by a pure function from what storage
 * answers (`historyOf`), so it is checked from plain data.
 */
import { Either, Schema } from "effect"
import {
  type BudgetEntry,
  type Job,
  JobStatus,
  Millis,
  type Research,
  ResearchStatus,
  type Worker,
  WorkerType
} from "./Domain.js"

/** One research created in the window: `[createdAt, finishedAt (null while active), status]`. */
export const HistoryResearch = Schema.Tuple(Millis, Schema.NullOr(Millis), ResearchStatus)
export type HistoryResearch = typeof HistoryResearch.Type

/**
 * One job of those researches: `[kind, workerType (null: in process),
 * queuedAt (when its research began to wait for a worker; the start for an
 * in-process job), startedAt (claimed or started), finishedAt (null while it
 * runs), status]`.
 */
export const HistoryJob = Schema.Tuple(
  Schema.String,
  Schema.NullOr(WorkerType),
  Millis,
  Millis,
  Schema.NullOr(Millis),
  JobStatus
)
export type HistoryJob = typeof HistoryJob.Type

/** One charged LLM call in the window: `[at, costUsd, simulated]` (simulated: the offline agents', no model answered). */
export const HistoryCall = Schema.Tuple(Millis, Schema.Number.pipe(Schema.nonNegative()), Schema.Boolean)
export type HistoryCall = typeof HistoryCall.Type

/** What the coordinator recorded in `[since, until)`. */
export const History = Schema.Struct({
  since: Millis,
  until: Millis,
  /** The daily LLM budget now, in USD (0: unlimited). */
  dailyBudgetUsd: Schema.Number.pipe(Schema.nonNegative()),
  /** The configured limit of researches at once (0: derived from the workers). */
  maxConcurrentResearches: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  /**
   * Job slots seen per worker type: the capacity of each worker registered in
   * the window, and 1 for each other worker that ran one of its jobs. Every
   * type the pipeline dispatches to is listed (0 when none was seen).
   */
  workers: Schema.Record({ key: WorkerType, value: Schema.Number.pipe(Schema.int(), Schema.nonNegative()) }),
  /** Every research created in the window, oldest first. */
  researches: Schema.Array(HistoryResearch),
  /** Every job of those researches, by start. */
  jobs: Schema.Array(HistoryJob),
  /** Every LLM call charged in the window, by time. */
  llmCalls: Schema.Array(HistoryCall)
})
export interface History extends Schema.Schema.Type<typeof History> {}

/** What a history is built from. */
export interface HistoryInput {
  readonly since: number
  readonly until: number
  readonly dailyBudgetUsd: number
  readonly maxConcurrentResearches: number
  /** The worker types the pipeline dispatches to. */
  readonly workerTypes: ReadonlyArray<WorkerType>
  readonly researches: ReadonlyArray<Research>
  readonly jobs: ReadonlyArray<Job>
  readonly charges: ReadonlyArray<BudgetEntry>
  /** Every worker registered now. */
  readonly workers: ReadonlyArray<Worker>
}

/** The history of a window from what storage answers for it. */
export const historyOf = (input: HistoryInput): History => {
  const slots = new Map<string, { readonly type: WorkerType; readonly slots: number }>()
  for (const w of input.workers) {
    if (w.registeredAt < input.until && w.lastHeartbeatAt >= input.since) slots.set(w.id, { type: w.type, slots: w.capacity })
  }
  for (const j of input.jobs) {
    if (j.workerId !== null && j.workerType !== null && !slots.has(j.workerId)) {
      slots.set(j.workerId, { type: j.workerType, slots: 1 })
    }
  }
  const workers: Record<string, number> = Object.fromEntries(input.workerTypes.map((t) => [t, 0]))
  for (const { slots: n, type } of slots.values()) workers[type] = (workers[type] ?? 0) + n
  return {
    since: input.since,
    until: input.until,
    dailyBudgetUsd: input.dailyBudgetUsd,
    maxConcurrentResearches: input.maxConcurrentResearches,
    workers,
    researches: [...input.researches]
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((r): HistoryResearch => [r.createdAt, r.finishedAt, r.status]),
    jobs: input.jobs.map((j): HistoryJob => [
      j.kind,
      j.workerType,
      Math.min(j.queuedSince ?? j.createdAt, j.createdAt),
      j.createdAt,
      j.finishedAt,
      j.status
    ]),
    llmCalls: input.charges.map((c): HistoryCall => [c.at, c.costUsd, c.simulated === true])
  }
}

const decodeMoment = Schema.decodeUnknownEither(Schema.Date)

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/**
 * The start of a window from `since`: a span back from `now` (`7d`, `36h`,
 * `90m`, `2w`) or an ISO 8601 date or date-time (UTC unless it says
 * otherwise), which must be before `now`. Answers the moment or why not.
 */
export const parseSince = (since: string, now: number): Either.Either<number, string> => {
  const span = /^(\d{1,6})([mhdw])$/.exec(since.trim())
  if (span !== null) {
    const amount = Number(span[1])
    if (amount === 0) return Either.left(`since: ${since} is an empty window`)
    return Either.right(Math.max(0, now - amount * UNITS[span[2]!]!))
  }
  const moment = /^\d{4}-\d{2}-\d{2}/.test(since.trim())
    ? Either.getOrUndefined(decodeMoment(since.trim()))
    : undefined
  const at = moment?.getTime() ?? Number.NaN
  if (Number.isNaN(at)) {
    return Either.left(`since: expected a span such as 7d, 36h, 90m or 2w, or an ISO 8601 date or date-time; got ${JSON.stringify(since)}`)
  }
  if (at >= now) return Either.left(`since: ${since} is not before the end of the window`)
  return Either.right(at)
}
