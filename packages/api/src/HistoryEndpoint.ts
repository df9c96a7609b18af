/**
 * `GET /history`: what the coordinator recorded over a window (core's
 * `History`), the input of `foreman plan`. Its own module so the contract
 * keeps one concern per file; `Api` adds it to the operators' group.
 */
import { HttpApiEndpoint, OpenApi } from "@effect/platform"
import { History } from "@foreman/core"
import { Either, Schema } from "effect"
import { InvalidInput } from "./Wire.js"

/** A window's start: a span back from now (`7d`, `36h`, `90m`, `2w`) or an ISO 8601 date or date-time. */
export const Since = Schema.String.pipe(
  Schema.maxLength(100),
  Schema.filter((since) => Either.match(History.parseSince(since, Number.MAX_SAFE_INTEGER), {
    onLeft: (reason) => reason,
    onRight: () => true
  }))
).annotations({
  description: "A span back from now (`7d`, `36h`, `90m`, `2w`) or an ISO 8601 date or date-time (UTC unless it says otherwise)"
})

/** The window: from `since` (7 days back by default) to `until` (now by default). */
export const HistoryQuery = Schema.Struct({
  since: Schema.optionalWith(Since, { default: () => "7d" }),
  until: Schema.optional(Schema.Date.annotations({ description: "ISO 8601 date or date-time; now when absent" }))
})

/** The endpoint, added to the operators' group by `Api`. */
export const historyEndpoint = HttpApiEndpoint.get("history", "/history")
  .setUrlParams(HistoryQuery)
  .addSuccess(History.History)
  .addError(InvalidInput, { status: 400 })
  .annotateContext(OpenApi.annotations({
    summary: "Recorded history of a window",
    description: "What a plan fits its models to, for the researches created in `[since, until)`: each research's " +
      "arrival, end and status (`[createdAt, finishedAt, status]`), each of their jobs (`[kind, workerType, queuedAt, " +
      "startedAt, finishedAt, status]`), each LLM call charged in the window (`[at, costUsd, simulated]`), the job slots " +
      "seen per worker type and the daily budget. Moments are milliseconds since the epoch. `since` is a span back " +
      "from `until` (`7d`, the default; `36h`, `90m`, `2w`) or an ISO date; `until` is now by default. 400 when either does not parse or `since` is not before `until`."
  }))
