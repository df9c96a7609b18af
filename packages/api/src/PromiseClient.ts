/**
 * A Promise client of a Foreman coordinator for code that does not use
 * Effect. Every method answers a Promise, takes an optional `AbortSignal`,
 * and rejects with the typed error the API defines (`Errors.AtCapacity`,
 * `Errors.ResearchNotFound`, `Api.Unauthorized`, …; a network failure is an
 * `HttpClientError`). One `ManagedRuntime` serves every call; `dispose` ends it.
 *
 * ```js
 * import { createClient } from "@foreman/api"
 * const foreman = createClient({ url: "http://127.0.0.1:8000", token: process.env.FOREMAN_API_TOKEN })
 * const { researchId } = await foreman.trigger({ brief: "Explore RSI variations" })
 * console.log(await foreman.show(researchId))
 * await foreman.dispose()
 * ```
 */
import { FetchHttpClient } from "@effect/platform"
import type { Autopilot, Coordinator, Domain, History } from "@foreman/core"
import { Cause, Effect, Exit, Layer, ManagedRuntime } from "effect"
import type * as Api from "./Api.js"
import * as Client from "./Client.js"

/** Options of one call. */
export interface CallOptions {
  /** Aborts the call: the Promise rejects with the signal's reason. */
  readonly signal?: AbortSignal
}

/** The coordinator's operations, as Promises. */
export interface ForemanClient {
  /** Starts a research (sent again once under the same idempotency key after a 503 or a network error). */
  readonly trigger: (request: Coordinator.TriggerRequest, options?: CallOptions) => Promise<typeof Api.TriggerAccepted.Type>
  /** Every active research, workers per type, the budget and the capacity. */
  readonly status: (options?: CallOptions) => Promise<typeof Api.Status.Type>
  /** Today's budget. */
  readonly budget: (options?: CallOptions) => Promise<typeof Api.BudgetStatus.Type>
  /** Researches, newest first, a page at a time, with how many the filter selects in all and their cost. */
  readonly list: (
    query?: {
      readonly status?: Domain.ResearchStatus
      /** Created at or after. */
      readonly since?: Date
      /** Created before. */
      readonly until?: Date
      readonly strategy?: string
      readonly verdict?: Domain.Assessment["verdict"]
      readonly limit?: number
      readonly offset?: number
    },
    options?: CallOptions
  ) => Promise<typeof Api.ResearchPage.Type>
  /** One research with its jobs. */
  readonly show: (id: string, options?: CallOptions) => Promise<typeof Api.ResearchDetail.Type>
  /** Cancels one research. */
  readonly cancel: (id: string, options?: CallOptions) => Promise<Domain.Research>
  /** Registered workers, optionally of one type or status. */
  readonly workers: (
    query?: { readonly type?: string; readonly status?: Domain.WorkerStatus },
    options?: CallOptions
  ) => Promise<ReadonlyArray<Domain.Worker>>
  /** Every catalogued strategy, newest first, with its best metrics. */
  readonly strategies: (options?: CallOptions) => Promise<ReadonlyArray<typeof Api.StrategySummary.Type>>
  /** One catalogued strategy by name (`Errors.StrategyNotFound` when unknown). */
  readonly strategy: (name: string, options?: CallOptions) => Promise<typeof Api.StrategySummary.Type>
  /**
   * The strategy leaderboard: strategies by a metric of their best research
   * (`sharpeRatio` by default, the best first), filtered, at most `limit` (100).
   */
  readonly leaderboard: (
    query?: {
      readonly sort?: typeof Api.LeaderboardQuery.Type["sort"]
      readonly indicator?: string
      readonly instrument?: string
      readonly verdict?: Domain.Assessment["verdict"]
      readonly limit?: number
    },
    options?: CallOptions
  ) => Promise<typeof Api.Leaderboard.Type>
  /**
   * What was recorded for the researches created in a window (`GET /history`):
   * `since` a span back from `until` (`7d`, the default; `36h`, `90m`, `2w`) or
   * an ISO date; `until` now by default. What `foreman plan` plans from.
   */
  readonly history: (
    query?: { readonly since?: string; readonly until?: Date },
    options?: CallOptions
  ) => Promise<History.History>
  /** Starts the autopilot (`POST /autopilot`; `Errors.InvalidInput` while it runs). */
  readonly autopilotStart: (request: Autopilot.StartRequest, options?: CallOptions) => Promise<Autopilot.State>
  /** The autopilot: its state (null when never started) and its researches running now. */
  readonly autopilotStatus: (options?: CallOptions) => Promise<Autopilot.Status>
  /** Stops the autopilot (idempotent); answers its status. */
  readonly autopilotStop: (options?: CallOptions) => Promise<Autopilot.Status>
  /** Ends the client's runtime; calls after it reject with an `Error` saying so. */
  readonly dispose: () => Promise<void>
}

/** A client of the coordinator at `options.url`. */
export const createClient = (options: Client.ClientOptions): ForemanClient => {
  const runtime = ManagedRuntime.make(Client.layer(options).pipe(Layer.provide(FetchHttpClient.layer)))
  let disposed = false
  const run = async <A, E>(
    f: (client: Client.ClientShape) => Effect.Effect<A, E>,
    callOptions: CallOptions = {}
  ): Promise<A> => {
    if (disposed) throw new Error("this Foreman client was disposed")
    const exit = await runtime.runPromiseExit(
      Effect.flatMap(Client.Client, f),
      callOptions.signal === undefined ? undefined : { signal: callOptions.signal }
    )
    if (Exit.isSuccess(exit)) return exit.value
    if (Cause.isInterruptedOnly(exit.cause) && callOptions.signal?.aborted === true) {
      throw callOptions.signal.reason
    }
    throw Cause.squash(exit.cause)
  }
  const researchId = (id: string) => ({ path: { id: id as Domain.ResearchId } })
  return {
    trigger: (request, o) => run((c) => c.trigger(request), o),
    status: (o) => run((c) => c.api.agent.status(), o),
    budget: (o) => run((c) => c.api.agent.budget(), o),
    list: (query = {}, o) =>
      run((c) =>
        c.api.agent.list({
          urlParams: {
            ...(query.status === undefined ? {} : { status: query.status }),
            ...(query.since === undefined ? {} : { since: query.since }),
            ...(query.until === undefined ? {} : { until: query.until }),
            ...(query.strategy === undefined ? {} : { strategy: query.strategy }),
            ...(query.verdict === undefined ? {} : { verdict: query.verdict }),
            limit: query.limit ?? 50,
            offset: query.offset ?? 0
          }
        }), o),
    show: (id, o) => run((c) => c.api.agent.show(researchId(id)), o),
    cancel: (id, o) => run((c) => c.api.agent.cancel(researchId(id)), o),
    workers: (query = {}, o) =>
      run((c) =>
        c.api.workers.list({
          urlParams: {
            ...(query.type === undefined ? {} : { type: query.type as Domain.WorkerType }),
            ...(query.status === undefined ? {} : { status: query.status })
          }
        }), o),
    strategies: (o) => run((c) => c.api.agent.strategies(), o),
    strategy: (name, o) => run((c) => c.api.agent.strategy({ path: { name } }), o),
    leaderboard: (query = {}, o) =>
      run((c) =>
        c.api.agent.leaderboard({
          urlParams: {
            ...(query.indicator === undefined ? {} : { indicator: query.indicator }),
            ...(query.instrument === undefined ? {} : { instrument: query.instrument }),
            ...(query.verdict === undefined ? {} : { verdict: query.verdict }),
            sort: query.sort ?? "sharpeRatio",
            limit: query.limit ?? 100
          }
        }), o),
    history: (query = {}, o) =>
      run((c) =>
        c.api.agent.history({
          urlParams: { since: query.since ?? "7d", ...(query.until === undefined ? {} : { until: query.until }) }
        }), o),
    autopilotStart: (request, o) => run((c) => c.api.agent.autopilotStart({ payload: request }), o),
    autopilotStatus: (o) => run((c) => c.api.agent.autopilotStatus(), o),
    autopilotStop: (o) => run((c) => c.api.agent.autopilotStop(), o),
    dispose: () => {
      disposed = true
      return runtime.dispose()
    }
  }
}
