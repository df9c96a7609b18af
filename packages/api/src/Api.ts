/**
 * The HTTP contract of the coordinator, defined once and platform-neutral.
 * The server implements it, the CLI and workers derive typed clients from it,
 * and OpenAPI is generated from it. Everything lives under `/api/v1`.
 *
 * Every endpoint except `GET /health` goes through `Authorization`, which
 * turns the bearer token into a `Caller` (operator or worker); operator
 * endpoints refuse workers and worker endpoints refuse operators.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Autopilot, Budget, Coordinator, Domain, type Researches, Storable, StrategyCatalogue } from "@foreman/core"
import { JSONSchema, Schema } from "effect"
import { version } from "./internal/version.js"
import {
  apiPrefix,
  Authorization,
  Forbidden,
  PayloadTooLarge,
  TooManyConnections,
  Unavailable,
  AtCapacity,
  BudgetExhausted,
  IdempotencyKeyReused,
  InvalidInput,
  ResearchNotFound,
  NotCancellable,
  CancelConflict,
  StorageError,
  storageUnavailable,
  StrategyNotFound
} from "./Wire.js"
import { historyEndpoint } from "./HistoryEndpoint.js"
import { planEndpoint } from "./PlanEndpoint.js"
import { workerProtocolDoc } from "./WorkerMessages.js"
import { WorkersGroup } from "./WorkersGroup.js"

export {
  Authorization,
  type Caller,
  CurrentCaller,
  Forbidden,
  PayloadTooLarge,
  TooManyConnections,
  Unauthorized,
  Unavailable
} from "./Wire.js"

const researchId = HttpApiSchema.param("id", Domain.ResearchId)
const strategyName = HttpApiSchema.param("name", Storable.filter(Domain.Strategy.fields.name))

/** Today's budget as reported: core's view, on the wire as it is. */
export const BudgetStatus = Budget.BudgetStatus

/** One active research as the status view shows it (core's view). */
export const ActiveResearch = Coordinator.ActiveResearch

/** The status view: active researches, workers, budget, capacity (core's view). */
export const Status = Coordinator.CoordinatorStatus

/** One research with all its jobs (core's view). */
export const ResearchDetail = Coordinator.ResearchDetail

/** A catalogued strategy with its best metrics (core's view). */
export const StrategySummary = StrategyCatalogue.StrategySummary

/** The leaderboard's query: the metric to sort by, the filters, how many to show. */
export const LeaderboardQuery = Schema.Struct({
  sort: Schema.optionalWith(StrategyCatalogue.LeaderboardSort, { default: () => "sharpeRatio" as const }),
  indicator: Schema.optional(Storable.filter(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)))),
  instrument: Schema.optional(Storable.filter(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)))),
  verdict: Schema.optional(Domain.Assessment.fields.verdict),
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000)), {
    default: () => 100
  })
})

/** The strategies a leaderboard query selects, best first; `total` counts all it selects. */
export const Leaderboard = Schema.Struct({
  sort: StrategyCatalogue.LeaderboardSort,
  total: Schema.Number,
  strategies: Schema.Array(StrategySummary)
})

export const TriggerAccepted = Schema.Struct({ researchId: Domain.ResearchId, status: Domain.ResearchStatus })

export const ResearchPage = Schema.Struct({
  researches: Schema.Array(Domain.Research),
  limit: Schema.Number,
  offset: Schema.Number,
  /** How many researches the filter selects in all, and their cost. */
  total: Schema.Number,
  costUsd: Schema.Number
})

/** A moment in a query: an ISO 8601 date or date and time (`2026-12-01`, `2026-12-01T09:30:00Z`). */
const Moment = Schema.Date.annotations({ description: "ISO 8601 date or date-time, UTC unless it says otherwise" })

export const ListQuery = Schema.Struct({
  status: Schema.optional(Domain.ResearchStatus),
  /** Created at or after. */
  since: Schema.optional(Moment),
  /** Created before. */
  until: Schema.optional(Moment),
  strategy: Schema.optional(Storable.filter(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)))),
  verdict: Schema.optional(Domain.Assessment.fields.verdict),
  /** The research they follow (its children). */
  parentId: Schema.optional(Domain.ResearchId),
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500)), {
    default: () => 50
  }),
  offset: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, 1_000_000)), {
    default: () => 0
  })
})

/** The researches a list query selects, as the coordinator reads a filter. */
export const researchFilter = (query: typeof ListQuery.Type): Researches.ResearchFilter => ({
  statuses: query.status === undefined ? undefined : [query.status],
  since: query.since?.getTime(),
  until: query.until?.getTime(),
  strategy: query.strategy,
  verdict: query.verdict,
  parentId: query.parentId
})

export * from "./WorkerMessages.js"
export { HistoryQuery, Since } from "./HistoryEndpoint.js"
export { Counts, PlanQuery } from "./PlanEndpoint.js"
export { WorkersGroup } from "./WorkersGroup.js"

export const Health = Schema.Struct({ status: Schema.Literal("ok"), leading: Schema.Boolean })


/**
 * The header that carries a trigger's request id, as `requestId` in the body
 * does. The handler reads it, so the typed client's signature stays as it is.
 */
export const idempotencyKeyHeader = "idempotency-key"

const idempotencyKeyParameter = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description: "The trigger's request id (like `requestId` in the body; 400 when both are given and differ). " +
    "A trigger sent again with the same id and body answers 202 with the research the first one started; with " +
    "another body, 409 `IdempotencyKeyReused`. Ids expire after 24 hours by default.",
  schema: JSONSchema.fromAST(Coordinator.RequestId.ast, { definitions: {}, topLevelReferenceStrategy: "skip" })
}

/** Where a reconnecting event stream resumes. */
export const EventsHeaders = Schema.Struct({
  "last-event-id": Schema.optional(Schema.String.pipe(Schema.maxLength(200)))
})

/**
 * The event stream's body: `id:`, `event:` (the event's `_tag`: `Triggered`,
 * `Refused`, `Transition`, `JobStarted`, `JobReported`, `WorkerChanged`,
 * `Charged`; `connected` first on a new connection, `reset` when a resumed one
 * cannot be) and `data:` (the event as JSON) for each event.
 */
export const EventStream = Schema.String.pipe(
  HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/event-stream" })
)

export class AgentGroup extends HttpApiGroup.make("agent")
  .add(
    HttpApiEndpoint.post("trigger", "/agent/trigger")
      .setPayload(Coordinator.TriggerRequest)
      .addSuccess(TriggerAccepted, { status: 202 })
      .addError(AtCapacity, { status: 409 })
      .addError(BudgetExhausted, { status: 409 })
      .addError(IdempotencyKeyReused, { status: 409 })
      .addError(InvalidInput, { status: 400 })
      // A strategy named in the request that the catalogue does not hold: 404, like `GET /strategies/{name}`.
      .addError(StrategyNotFound, { status: 404 })
      .addError(Unavailable)
      .annotateContext(OpenApi.annotations({
        summary: "Trigger a research",
        description: "Starts a research from a brief, or from a strategy: a catalogued name (the design phase is " +
          "skipped) or a full `{ name, spec }`, trained as given. Send a request id (`Idempotency-Key` or " +
          "`requestId`) to make a retry safe: a repeat with the same body answers the research the first one " +
          "started; the same key with another body is 409 `IdempotencyKeyReused`. A key is kept 24 hours by " +
          "default (`FOREMAN_IDEMPOTENCY_KEY_TTL_SECONDS`), then may start a new research."
      }))
      .annotate(OpenApi.Transform, (operation) => ({
        ...operation,
        parameters: [...(operation["parameters"] as ReadonlyArray<unknown> | undefined ?? []), idempotencyKeyParameter]
      }))
  )
  .add(
    HttpApiEndpoint.get("status", "/agent/status")
      .addSuccess(Status)
      .annotateContext(OpenApi.annotations({
        summary: "Coordinator status",
        description: "Active researches, workers busy and total per type, today's budget and capacity."
      }))
  )
  .add(
    HttpApiEndpoint.get("budget", "/agent/budget")
      .addSuccess(BudgetStatus)
      .annotateContext(OpenApi.annotations({
        summary: "Today's budget",
        description: "Today's spend, what remains and how many cycles it affords (null when unlimited)."
      }))
  )
  .add(
    HttpApiEndpoint.get("budgetToday", "/agent/budget/today")
      .addSuccess(Budget.BudgetDay)
      .annotateContext(OpenApi.annotations({
        summary: "Today's spend over time",
        description: "Today's spending (UTC day) minute by minute, against the daily limit."
      }))
  )
  .add(
    HttpApiEndpoint.get("workers", "/agent/workers")
      .addSuccess(Schema.Array(Coordinator.WorkerActivity))
      .annotateContext(OpenApi.annotations({
        summary: "List workers with their job counts",
        description: "Every registered worker with the jobs it completed and failed."
      }))
  )
  .add(
    HttpApiEndpoint.get("list", "/agent/researches")
      .setUrlParams(ListQuery)
      .addSuccess(ResearchPage)
      .annotateContext(OpenApi.annotations({
        summary: "List researches",
        description: "Newest first, filtered by status, creation time, strategy, verdict and parent (`parentId`), a page at a time; " +
          "`total` and `costUsd` cover everything the filter selects."
      }))
  )
  .add(
    HttpApiEndpoint.get("show")`/agent/researches/${researchId}`
      .addSuccess(ResearchDetail)
      .addError(ResearchNotFound, { status: 404 })
      .annotateContext(OpenApi.annotations({
        summary: "Get a research",
        description: "One research with its jobs, its LLM calls and its progress."
      }))
  )
  .add(
    HttpApiEndpoint.del("cancel")`/agent/researches/${researchId}`
      .addSuccess(Domain.Research)
      .addError(ResearchNotFound, { status: 404 })
      .addError(NotCancellable, { status: 409 })
      .addError(CancelConflict, { status: 409 })
      .annotateContext(OpenApi.annotations({
        summary: "Cancel a research",
        description: "Stops a research and its jobs. 409 `NotCancellable` when it has already finished; 409 " +
          "`CancelConflict` when it kept changing while being cancelled (nothing was cancelled: send it again)."
      }))
  )
  .add(
    HttpApiEndpoint.del("cancelAlias")`/agent/cancel/${researchId}`
      .addSuccess(Domain.Research)
      .addError(ResearchNotFound, { status: 404 })
      .addError(NotCancellable, { status: 409 })
      .addError(CancelConflict, { status: 409 })
      .annotateContext(OpenApi.annotations({
        summary: "Cancel a research (alias)",
        description: "The same as `DELETE /agent/researches/{id}`."
      }))
  )
  .add(
    HttpApiEndpoint.get("events", "/events")
      .setHeaders(EventsHeaders)
      .addSuccess(EventStream)
      .annotate(OpenApi.Summary, "Follow events (Server-Sent Events)")
      .annotate(
        OpenApi.Description,
        "Server-Sent Events: every research, job, worker and budget event of this server, as it happens. " +
          "Each has an id; reconnect with `Last-Event-ID` to receive what was missed (a `reset` event says " +
          "when that is not possible: read the state again)."
      )
  )
  .add(
    HttpApiEndpoint.get("strategies", "/strategies")
      .addSuccess(Schema.Array(StrategySummary))
      .annotateContext(OpenApi.annotations({
        summary: "List strategies",
        description: "The strategy catalogue, newest first: every design under a unique name, with its best metrics."
      }))
  )
  .add(
    HttpApiEndpoint.get("leaderboard", "/leaderboard")
      .setUrlParams(LeaderboardQuery)
      .addSuccess(Leaderboard)
      .annotateContext(OpenApi.annotations({
        summary: "Strategy leaderboard",
        description: "Every catalogued strategy with its best research's metrics (`top`: the backtested research " +
          "with the highest Sharpe ratio), sorted by `sort` (the best first: highest, but the shallowest " +
          "`maxDrawdown`, the cheapest `costUsd`, names A to Z; strategies without the metric last), filtered by " +
          "`indicator`, `instrument` and the best research's `verdict`, at most `limit` (default 100)."
      }))
  )
  .add(
    HttpApiEndpoint.get("strategy")`/strategies/${strategyName}`
      .addSuccess(StrategySummary)
      .addError(StrategyNotFound, { status: 404 })
      .annotateContext(OpenApi.annotations({
        summary: "Get a strategy",
        description: "One catalogued strategy; 404 names the closest ones."
      }))
  )
  .add(historyEndpoint)
  .add(planEndpoint)
  .add(
    HttpApiEndpoint.post("autopilotStart", "/autopilot")
      .setPayload(Autopilot.StartRequest)
      .addSuccess(Autopilot.State, { status: 201 })
      .addError(InvalidInput, { status: 400 })
      .annotateContext(OpenApi.annotations({
        summary: "Start the autopilot",
        description: "Keeps `keep` researches running: each new one follows the latest promising assessment not " +
          "yet followed (its next brief, with `parentId` set), else `brief`. It never forces past capacity or budget, " +
          "and stops after starting `max` researches (if given) or when the budget cannot afford another cycle. Its " +
          "state is durable and the leader runs it. 400 when it is already running."
      }))
  )
  .add(
    HttpApiEndpoint.get("autopilotStatus", "/autopilot")
      .addSuccess(Autopilot.Status)
      .addError(InvalidInput, { status: 400 })
      .annotateContext(OpenApi.annotations({
        summary: "The autopilot",
        description: "Its state (null when never started: running or stopped, with `stopReason` and `stopMessage`, " +
          "the researches it started) and those of its researches running now."
      }))
  )
  .add(
    HttpApiEndpoint.del("autopilotStop", "/autopilot")
      .addSuccess(Autopilot.Status)
      .addError(InvalidInput, { status: 400 })
      .annotateContext(OpenApi.annotations({
        summary: "Stop the autopilot",
        description: "It starts nothing more (its running researches finish); idempotent. Answers its status."
      }))
  )
  .addError(StorageError, storageUnavailable)
  .addError(Forbidden)
  .middleware(Authorization)
  .annotate(
    OpenApi.Description,
    "For operators (the operator token): trigger and cancel researches, read the status, the budget, " +
      "researches, workers and strategies, and follow events."
  )
{}

export class HealthGroup extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("health", "/health")
      .addSuccess(Health)
      .annotateContext(OpenApi.annotations({
        summary: "Health check",
        description: "`ok` while the server answers; `leading` says whether this server runs the coordinator's loop."
      }))
  )
  .annotate(OpenApi.Description, "Liveness, for load balancers and orchestrators: no token needed.")
{}

/** The coordinator's API. */
export class ForemanApi extends HttpApi.make("foreman")
  .add(AgentGroup)
  .add(WorkersGroup)
  .add(HealthGroup)
  .addError(PayloadTooLarge)
  .addError(TooManyConnections)
  .prefix(apiPrefix)
  .annotateContext(OpenApi.annotations({
    title: "Foreman coordinator API",
    version,
    description: "Coordinates concurrent research cycles over scarce workers with a shared LLM budget. " +
      "Operators trigger and follow researches; workers register, poll for jobs and report, as " +
      `[the worker protocol](${workerProtocolDoc}) describes. Bodies are JSON (at most 1 MiB by default); every ` +
      "error body has `_tag` and `message`.",
    license: { name: "MIT", url: "https://spdx.org/licenses/MIT.html" },
    // Relative to where this document is served, so the paths (all under /api/v1) stay right when another
    // server mounts the API under a prefix.
    servers: [{ url: ".", description: "The server answering this document" }]
  }))
{}
