/**
 * `GET /plan`: the curve of one worker type against its count over a recorded
 * window (core's `PlanCurve`), what the dashboard's Plan page draws. Its own
 * module so the contract keeps one concern per file; `Api` adds it to the
 * operators' group.
 */
import { HttpApiEndpoint, OpenApi } from "@effect/platform"
import { PlanCurve } from "@foreman/core"
import { Either, Schema } from "effect"
import { Since } from "./HistoryEndpoint.js"
import { InvalidInput } from "./Wire.js"

/** Worker counts as text: `1..6`, `1,2,4,8` or a mix. */
export const Counts = Schema.String.pipe(
  Schema.maxLength(100),
  Schema.filter((text) => Either.match(PlanCurve.parseCounts(text), { onLeft: (reason) => reason, onRight: () => true }))
).annotations({
  description: `Worker counts: a range (\`1..6\`), a list (\`1,2,4,8\`) or both; at most ${PlanCurve.limits.counts} counts, each at most ${PlanCurve.limits.workers}`
})

/** The question: the window, the worker type whose count varies, the counts and the seeds per count. */
export const PlanQuery = Schema.Struct({
  since: Schema.optionalWith(Since, { default: () => "7d" }),
  until: Schema.optional(Schema.Date.annotations({ description: "ISO 8601 date or date-time; the end of the current minute when absent" })),
  type: Schema.optionalWith(
    Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9_-]{0,63}$/)).annotations({
      description: "The worker type whose count varies (the others keep their recorded counts)"
    }),
    { default: () => "training" }
  ),
  counts: Schema.optionalWith(Counts, { default: () => "1..6" }),
  seeds: Schema.optionalWith(
    Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, PlanCurve.limits.seeds)).annotations({
      description: `Seeds per count (1 to ${PlanCurve.limits.seeds})`
    }),
    { default: () => 5 }
  )
})

/** The endpoint, added to the operators' group by `Api`. */
export const planEndpoint = HttpApiEndpoint.get("plan", "/plan")
  .setUrlParams(PlanQuery)
  .addSuccess(PlanCurve.PlanCurve)
  .addError(InvalidInput, { status: 400 })
  .addError(PlanCurve.NoPlanHistory, { status: 422 })
  .addError(PlanCurve.PlanRefused, { status: 503 })
  .annotateContext(OpenApi.annotations({
    summary: "Waits and throughput against a worker type's count",
    description: "Replays the recorded window (as `GET /history` answers it) with each worker count of `type`, the " +
      "other types as recorded, over `seeds` seeds each, and answers per count the spread across seeds (p5, p50, " +
      "p95, mean) of that type's queue wait p50 and p95 in seconds, the researches finished per day and the type's " +
      "utilisation, with what the window observed. The simulations run on worker threads, one plan at a time; the " +
      `same question within a minute shares the answer. At most ${PlanCurve.limits.runs} simulations (counts × seeds). ` +
      "400 for a bad window, counts or seeds, an unknown worker type or too many simulations; 422 `NoPlanHistory` " +
      "when no research was created in the window; 503 `PlanRefused` when this server cannot compute plans."
  }))
