/**
 * The one writer of job rows. Every change of a stored job outside a tick's
 * commit goes through here: a worker's report, a job its worker re-registered
 * without, a lost job revived by its late result, an in-process job's outcome,
 * the record of a dispatch, and a job cancelled with its research. Each
 * operation writes a value built by `JobTransitions` and guards it with the
 * status (and the worker) the job must still have. The transitions a tick
 * commits carry their job writes with the research, in the coordinator's one
 * atomic commit.
 */
import { Effect, Option } from "effect"
import type { AgentOutput } from "../Agents.js"
import type { Job, JobReport, Research, Usage, WorkerId } from "../Domain.js"
import { JobNotAssigned, JobNotFound, type StorageError } from "../Errors.js"
import * as JobTransitions from "../JobTransitions.js"
import { Jobs } from "../Jobs.js"
import { type JobWrite, Researches } from "../Researches.js"
import * as ResearchTransitions from "../ResearchTransitions.js"

/** A report `report` did not write, made sense of: the job as it stands, and whether its result was used. */
export interface ReconciledReport {
  readonly job: Job
  readonly revived: boolean
}

/** The write that cancels `job` with its research: none without a job, or for one already settled. */
export const cancelled = (job: Job | undefined, now: number): ReadonlyArray<JobWrite> => {
  const next = job === undefined ? undefined : JobTransitions.cancelledWithResearch(job, now)
  return job === undefined || next === undefined ? [] : [{ job: next, expected: job.status }]
}

/** The job-row writes of the coordinator and the worker registry. */
export interface JobWrites {
  /**
   * Applies a worker's report to its job in one write, only while the job is
   * assigned to that worker and pending or running; answers the job as
   * written, or none when nothing matched.
   */
  readonly report: (report: JobReport, now: number) => Effect.Effect<Option.Option<Job>, StorageError>
  /**
   * A report `report` wrote nothing for: `JobNotFound` for an unknown job,
   * `JobNotAssigned` for a job of another worker, else the settled job as
   * stored, except a result for a job declared lost before its research
   * started another attempt, which is used (the research resumes from it).
   */
  readonly reconcileReport: (
    report: JobReport,
    now: number
  ) => Effect.Effect<ReconciledReport, JobNotFound | JobNotAssigned | StorageError>
  /**
   * A job its worker re-registered without: refused while still pending (the
   * dispatch crossed the registration; nothing ran there), else lost.
   */
  readonly disown: (job: Job, workerId: WorkerId, now: number) => Effect.Effect<boolean, StorageError>
  /** A running job its pull worker's registration did not list, offered to that worker again (see `JobTransitions.offeredAgain`). */
  readonly offerAgain: (job: Job, now: number) => Effect.Effect<boolean, StorageError>
  /**
   * A job whose worker deregistered: refused while still pending (it never
   * started there; uncounted), else lost (retried at once, not after the grace).
   */
  readonly abandon: (job: Job, workerId: WorkerId, now: number) => Effect.Effect<boolean, StorageError>
  /** An in-process job finished with its output, if it still runs; tells whether it was written. */
  readonly complete: (job: Job, output: AgentOutput<unknown>, now: number) => Effect.Effect<boolean, StorageError>
  /** An in-process job failed with `error`, if it still runs; `usage` sums the LLM calls it made all the same. */
  readonly fail: (job: Job, error: string, now: number, usage?: Usage | null) => Effect.Effect<boolean, StorageError>
  /** The worker took the dispatched job, if it is still pending; tells whether it was written. */
  readonly dispatched: (job: Job, now: number) => Effect.Effect<boolean, StorageError>
  /**
   * The dispatch of a pending job failed: `lost` (the attempt counts) or
   * `refused` (the worker would not take it; it never started), with the reason.
   */
  readonly undelivered: (
    job: Job,
    outcome: "lost" | "refused",
    reason: string,
    now: number
  ) => Effect.Effect<boolean, StorageError>
  /**
   * Cancels a research and its job (see `cancelled`) in one write, conditional
   * on the research's version; answers the research as written, or none when
   * it changed meanwhile.
   */
  readonly cancel: (research: Research, job: Job | undefined, now: number) => Effect.Effect<Option.Option<Research>, StorageError>
}

/** The job writes over the researches and jobs ports. */
export const make: Effect.Effect<JobWrites, never, Researches | Jobs> = Effect.map(Effect.all([Researches, Jobs]), ([researches, jobStore]) => {
  /**
   * Uses the result of a job already declared lost, before its research
   * started another attempt: the research resumes from it instead of running
   * the phase again.
   */
  const revive = (job: Job, revived: Job) =>
    Effect.gen(function*() {
      const research = yield* researches.get(job.researchId)
      if (Option.isNone(research)) return false
      const r = research.value
      if (!ResearchTransitions.canRevive(r, job)) return false
      return yield* researches.commit({
        research: ResearchTransitions.nextVersion(r, ResearchTransitions.revive(r, job.id), revived.updatedAt),
        expectedVersion: r.version,
        epoch: null,
        jobs: [{ job: revived, expected: job.status }]
      }).pipe(
        Effect.as(true),
        Effect.catchTag("StaleWrite", () => Effect.succeed(false)),
        Effect.tap((written) =>
          written
            ? Effect.logInfo(`job ${job.id} finished on ${job.workerId} after it was declared lost: its result is used`)
            : Effect.void
        )
      )
    })

  const reconcileReport = Effect.fnUntraced(function*(report: JobReport, now: number) {
    const job = yield* jobStore.getJob(report.jobId).pipe(
      Effect.flatMap(Option.match({
        onNone: () => Effect.fail(new JobNotFound({ jobId: report.jobId })),
        onSome: Effect.succeed
      }))
    )
    if (job.workerId !== report.workerId) {
      return yield* new JobNotAssigned({ jobId: report.jobId, workerId: report.workerId })
    }
    const revived = JobTransitions.revivedBy(job, report, now)
    if (revived !== undefined && (yield* revive(job, revived))) {
      return { job: revived, revived: true } satisfies ReconciledReport
    }
    return { job, revived: false } satisfies ReconciledReport
  })

  return {
    report: (report, now) =>
      jobStore.patchJob(report.jobId, report.workerId, JobTransitions.reportPatch(report, now), JobTransitions.from.report),
    reconcileReport,
    // Written only while the job is as it was read: the change was built from its status.
    disown: (job, workerId, now) => jobStore.updateJob(JobTransitions.disowned(job, workerId, now), [job.status]),
    offerAgain: (job, now) => jobStore.updateJob(JobTransitions.offeredAgain(job, now), JobTransitions.from.offeredAgain),
    abandon: (job, workerId, now) => jobStore.updateJob(JobTransitions.abandoned(job, workerId, now), [job.status]),
    complete: (job, output, now) =>
      jobStore.updateJob(JobTransitions.complete(job, output, now), JobTransitions.from.outcome),
    fail: (job, error, now, usage = null) =>
      jobStore.updateJob({ ...JobTransitions.settle(job, "failed", error, now), usage }, JobTransitions.from.outcome),
    dispatched: (job, now) => jobStore.updateJob(JobTransitions.accepted(job, now), JobTransitions.from.accepted),
    undelivered: (job, outcome, reason, now) =>
      jobStore.updateJob(JobTransitions.settle(job, outcome, reason, now), JobTransitions.from.undelivered),
    cancel: (research, job, now) => {
      const next = ResearchTransitions.nextVersion(research, ResearchTransitions.cancel(research, now), now)
      return researches.commit({ research: next, expectedVersion: research.version, epoch: null, jobs: cancelled(job, now) })
        .pipe(Effect.as(Option.some(next)), Effect.catchTag("StaleWrite", () => Effect.succeed(Option.none())))
    }
  }
})
