/**
 * What a worker tells its coordinator about a finished job: the report of a
 * settled entry, whether the contract accepts it as it stands, and the
 * failure that replaces one the coordinator cannot accept.
 */
import type * as Domain from "@foreman/core/Domain"
import * as Errors from "@foreman/core/Errors"
import { Either, Option, ParseResult, Schema } from "effect"
import { ReportBody } from "@foreman/api/WorkerMessages"
import type * as JobQueue from "../JobQueue.js"
import { reasonOf } from "./callFailures.js"

/** How the coordinator should read one finished job (a cancelled one has no report). */
export const finalReport = (
  workerId: Domain.WorkerId,
  entry: JobQueue.Entry<Domain.JobSpec, unknown>
): Option.Option<Domain.JobReport> => {
  const jobId = entry.input.jobId
  switch (entry.status) {
    case "completed":
      return Option.some({ _tag: "Completed", jobId, workerId, result: entry.result })
    case "failed":
      return Option.some({ _tag: "Failed", jobId, workerId, error: (entry.error ?? "failed").slice(0, 10_000) })
    default:
      return Option.none()
  }
}

/** Why the contract refuses a report as it stands (text storage cannot keep, too long, not JSON), if it does. */
export const invalidity = (report: Domain.JobReport): Option.Option<string> => {
  try {
    return Either.match(Schema.validateEither(ReportBody)(report), {
      onLeft: (error) =>
        Option.some(reasonOf(ParseResult.ArrayFormatter.formatErrorSync(error), Errors.describeParseError(error))),
      onRight: () => Option.none()
    })
  } catch (cause) {
    // The storable check serializes: a BigInt or a cycle in a result throws.
    return Option.some(`result: not JSON (${cause instanceof Error ? cause.message : String(cause)})`)
  }
}

/** Text storage can keep: NUL and lone surrogates become U+FFFD (one code unit each, so lengths hold). */
const storableText = (text: string): string =>
  text.replaceAll("\u0000", "\ufffd").replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd")

/** The failure that replaces a report the coordinator cannot accept: why, and the job's own error if it had one. */
export const refusedAsFailure = (report: Domain.JobReport, reason: string): Domain.JobReport => ({
  _tag: "Failed",
  jobId: report.jobId,
  workerId: report.workerId,
  error: storableText(
    (report._tag === "Failed"
      ? `the coordinator refused the job's report (${reason}); the job failed: ${report.error}`
      : `the coordinator refused the job's result: ${reason}`).slice(0, 10_000)
  )
})
