/**
 * A finished job's report, delivered to the coordinator: retried a few times
 * while the trouble is passing, then held for the next registration; a report
 * the coordinator cannot accept as such replaced, once, by a failure saying
 * why. A pull worker's report carries its next poll when it is its turn to ask
 * for work, so a handover is one round trip.
 */
import type * as Domain from "@foreman/core/Domain"
import * as Errors from "@foreman/core/Errors"
import { Duration, Effect, FiberSet, Option, Schedule } from "effect"
import type * as JobQueue from "../JobQueue.js"
import { isPassing, refusalOf } from "./callFailures.js"
import { apply } from "./jobIntake.js"
import { describe, held, type LinkState, release, reregister, ring } from "./linkState.js"
import { settledProgress } from "./progressReports.js"
import { finalReport, invalidity, refusedAsFailure } from "./reportContent.js"
import { sendReport } from "./sendReport.js"

/** For `JobQueue`: reports a settled job's result (a cancelled one has none). */
export const settled = (state: LinkState, entry: JobQueue.Entry<Domain.JobSpec, unknown>): Effect.Effect<void> =>
  Effect.gen(function*() {
    const report = finalReport(state.workerId, entry)
    if (Option.isNone(report)) {
      state.progress.delete(entry.id)
      yield* Effect.logInfo(`job ${entry.id} ${entry.status}: ${entry.error ?? ""}`)
      return yield* ring(state)
    }
    yield* Effect.logInfo(
      `job ${entry.id} ${entry.status} after ${entry.attempts} attempt(s)${entry.error === null ? "" : `: ${entry.error}`}`
    )
    state.unreported.set(entry.id, { report: report.value, sending: true })
    yield* FiberSet.run(state.deliveries, Effect.zipRight(settledProgress(state, entry.id), deliver(state, report.value)))
  })

/**
 * Sends a final report, carrying the next poll when it is this worker's turn
 * to ask for work; the answer's jobs are taken at once. A drain cuts the wait
 * for a next job short: the report is then sent again without it.
 */
const sendFinal = (state: LinkState, report: Domain.JobReport) =>
  Option.match(state.options.turn, {
    onNone: () => Effect.asVoid(sendReport(state, report)),
    onSome: (turn) =>
      Effect.gen(function*() {
        const running = (yield* held(state)).filter((jobId) => jobId !== report.jobId)
        const next = yield* turn.claim(running)
        if (Option.isNone(next)) return yield* Effect.asVoid(sendReport(state, report))
        const answered = yield* Effect.gen(function*() {
          const job = yield* sendReport(state, report, next.value).pipe(
            Effect.map(Option.some),
            Effect.raceFirst(Effect.as(turn.stopped, Option.none()))
          )
          if (Option.isSome(job) && job.value.next !== undefined) yield* apply(state, job.value.next)
          return Option.isSome(job)
        }).pipe(Effect.ensuring(Effect.zipRight(turn.release, ring(state))))
        if (!answered) yield* sendReport(state, report)
      })
  })

/**
 * Delivers a final report; kept for the next registration when the coordinator cannot be told.
 * A report the coordinator cannot accept as such (invalid, too large) is never held, since
 * sending it again cannot help: the job is reported failed instead, saying why, once.
 */
const deliver = (state: LinkState, report: Domain.JobReport, replaceable = true): Effect.Effect<void> =>
  Effect.suspend(() => {
    const invalid = invalidity(report)
    return Option.isSome(invalid)
      ? refused(state, report, invalid.value, replaceable)
      : sendFinal(state, report).pipe(
        Effect.retry({ schedule: Schedule.exponential(Duration.millis(100)), times: 2, while: isPassing }),
        Effect.matchEffect({
          onSuccess: () => release(state, report),
          onFailure: (error) => undelivered(state, report, error, replaceable)
        })
      )
  })

/** A final report the coordinator was not given: held, dropped, or replaced, as `error` says. */
const undelivered = (
  state: LinkState,
  report: Domain.JobReport,
  error: unknown,
  replaceable: boolean
): Effect.Effect<void> =>
  Effect.suspend(() => {
    const result = state.unreported.get(report.jobId)
    // Dropped meanwhile: the coordinator said the job is no longer this worker's.
    if (result?.report !== report) return Effect.void
    if (isPassing(error) || error instanceof Errors.WorkerNotFound) {
      result.sending = false
      return Effect.zipRight(
        Effect.logWarning(
          `could not report job ${report.jobId} (${describe(state, error)}); will send it with the next registration`
        ),
        error instanceof Errors.WorkerNotFound ? reregister(state) : Effect.void
      )
    }
    const refusal = refusalOf(error, (e) => describe(state, e))
    if (Option.isSome(refusal)) return refused(state, report, refusal.value, replaceable)
    // The coordinator answered and does not want this report (unknown job, not ours).
    return Effect.zipRight(
      release(state, report),
      Effect.logWarning(`coordinator refused the report on job ${report.jobId}: ${describe(state, error)}`)
    )
  })

/** A report the coordinator cannot accept: replaced by a failure saying why, or dropped if it was that failure. */
const refused = (state: LinkState, report: Domain.JobReport, reason: string, replaceable: boolean): Effect.Effect<void> =>
  Effect.suspend(() => {
    const result = state.unreported.get(report.jobId)
    if (result?.report !== report) return Effect.void
    if (!replaceable) {
      return Effect.zipRight(
        release(state, report),
        Effect.logError(`coordinator refused the failure report on job ${report.jobId} (${reason}): dropping it`)
      )
    }
    const failure = refusedAsFailure(report, reason)
    state.unreported.set(report.jobId, { report: failure, sending: true })
    return Effect.zipRight(
      Effect.logWarning(`coordinator cannot accept the report on job ${report.jobId} (${reason}): reporting it failed`),
      deliver(state, failure, false)
    )
  })
