/**
 * Answers a plan question (`GET /plan`, the dashboard's Plan page): reads the
 * window's history from the coordinator, checks the worker type and the size
 * of the question, and asks the `Planner` (when the server has one) for the
 * curve. Without `until`, the window ends at the end of the current minute,
 * so the same question asked again within it is the same question (the
 * planner keeps its answer while nothing new was recorded).
 */
import type { PlanQuery } from "@foreman/api/Api"
import { type Coordinator, Errors, History, PlanCurve } from "@foreman/core"
import { Clock, Effect, Either, Option } from "effect"

/** What a plan question can fail with. */
export type PlanError = Errors.InvalidInput | Errors.StorageError | PlanCurve.NoPlanHistory | PlanCurve.PlanRefused

/** The planner when the server was given one (`PlanCurve.Planner`). */
export const plannerOption = Effect.serviceOption(PlanCurve.Planner)

const invalid = (reason: string) => new Errors.InvalidInput({ reason })

/** The curve `query` asks for, over what `coordinator` recorded, computed by `planner`. */
export const answer = (
  coordinator: Coordinator.CoordinatorShape,
  planner: Option.Option<PlanCurve.PlannerShape>,
  query: typeof PlanQuery.Type
): Effect.Effect<PlanCurve.PlanCurve, PlanError> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const until = query.until?.getTime() ?? Math.ceil(now / 60_000) * 60_000
    const since = yield* Either.match(History.parseSince(query.since, until), {
      onLeft: (reason) => Effect.fail(invalid(reason)),
      onRight: Effect.succeed
    })
    const counts = yield* Either.match(PlanCurve.parseCounts(query.counts), {
      onLeft: (reason) => Effect.fail(invalid(reason)),
      onRight: Effect.succeed
    })
    const request: PlanCurve.PlanRequest = { type: query.type, counts, seeds: query.seeds }
    const large = PlanCurve.tooLarge(request)
    if (large !== undefined) return yield* invalid(large)
    if (Option.isNone(planner)) {
      return yield* new PlanCurve.PlanRefused({ message: "This server cannot compute plans: it was started without a planner." })
    }
    const history = yield* coordinator.history(since, until)
    if (history.workers[query.type] === undefined) {
      return yield* invalid(`type: unknown worker type ${JSON.stringify(query.type)} (this pipeline has ${Object.keys(history.workers).join(", ") || "none"})`)
    }
    return yield* planner.value.curve(history, request)
  })
