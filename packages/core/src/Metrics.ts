/**
 * The engine's metrics, as Effect `Metric`s in the process's metric registry:
 * what the coordinator loop, the agents and the server count and time as they
 * go, and the gauges of the world's state that a scrape sets from the status
 * view (`recordStatus`). Any exporter reads them from the registry (the
 * server serves them in Prometheus text at `/metrics`); docs/operations.md
 * lists every one. Durations are in seconds, money in US dollars.
 */
import { Cause, Clock, Effect, Exit, Metric, MetricBoundaries, MetricLabel, Option, Ref } from "effect"
import type { CoordinatorStatus } from "./CoordinatorStatus.js"
import type { Job, Worker } from "./Domain.js"

const boundaries = (values: ReadonlyArray<number>) => MetricBoundaries.fromIterable(values)

// --- researches ---------------------------------------------------------------

/** Researches started (`forced`: `true` when `force` overrode the checks). */
export const researchesTriggered = Metric.counter("foreman_researches_triggered_total", {
  description: "Researches started, by whether force overrode the capacity and budget checks",
  incremental: true
})

/** Triggers refused, by `reason`: `capacity` or `budget`. */
export const triggersRefused = Metric.counter("foreman_triggers_refused_total", {
  description: "Triggers refused, by reason (capacity or budget)",
  incremental: true
})

/** Researches that ended, by `status`: `completed`, `failed` or `cancelled`. */
export const researchesFinished = Metric.counter("foreman_researches_finished_total", {
  description: "Researches that ended, by final status",
  incremental: true
})

/** Active researches now, by `phase` and `status` (`pending` or `running`); set at scrape time. */
export const researchesActive = Metric.gauge("foreman_researches_active", {
  description: "Active researches, by phase and status"
})

// --- queues and workers -----------------------------------------------------------

/** Researches waiting for a free worker, by `worker_type`; set at scrape time. */
export const queueDepth = Metric.gauge("foreman_queue_depth", {
  description: "Researches waiting for a free worker, by worker type"
})

/** How long the research first in line has waited, by `worker_type` (0 with none waiting); set at scrape time. */
export const queueOldestWait = Metric.gauge("foreman_queue_oldest_wait_seconds", {
  description: "How long the longest-waiting research has waited for a worker, by worker type"
})

/** Job slots in use on live workers, by `worker_type`; set at scrape time. */
export const workerSlotsBusy = Metric.gauge("foreman_worker_slots_busy", {
  description: "Job slots in use on workers that are not offline, by worker type"
})

/**
 * Job slots on live workers, by `worker_type`; set at scrape time. A gauge, so
 * no `_total` suffix (Prometheus keeps that for counters); it was called
 * `foreman_worker_slots_total` up to 0.1.0.
 */
export const workerSlots = Metric.gauge("foreman_worker_slots", {
  description: "Job slots on workers that are not offline, by worker type"
})

/** @deprecated Renamed `workerSlots` (the metric `foreman_worker_slots`, a gauge without `_total`). */
export const workerSlotsTotal = workerSlots

/** Registered workers, by `worker_type` and `status`; set at scrape time. */
export const workers = Metric.gauge("foreman_workers", {
  description: "Registered workers, by worker type and status"
})

// --- capacity and budget ---------------------------------------------------------

/** Active researches counted against the limit; set at scrape time. */
export const capacityActive = Metric.gauge("foreman_capacity_active", {
  description: "Active researches counted against the concurrency limit"
})

/** The concurrency limit on active researches now; set at scrape time. */
export const capacityLimit = Metric.gauge("foreman_capacity_limit", {
  description: "The limit on active researches"
})

/** Today's budget limit in USD, 0 when unlimited; set at scrape time. */
export const budgetLimit = Metric.gauge("foreman_budget_limit_usd", {
  description: "Today's LLM budget in USD (0 means unlimited)"
})

/** Charged to today's budget so far, in USD, simulated calls included; set at scrape time. */
export const budgetSpent = Metric.gauge("foreman_budget_spent_usd", {
  description:
    "LLM spending charged to today's budget, in USD; includes the offline agents' simulated calls (foreman_budget_simulated_usd)"
})

/** Of what today's budget was charged, the offline agents' simulated calls (no model called), in USD; set at scrape time. */
export const budgetSimulated = Metric.gauge("foreman_budget_simulated_usd", {
  description: "Of today's LLM spending, what the offline agents' simulated calls were charged (no model was called), in USD"
})

/** What remains of today's budget, in USD (`+Inf` when unlimited); set at scrape time. */
export const budgetRemaining = Metric.gauge("foreman_budget_remaining_usd", {
  description: "What remains of today's LLM budget, in USD (+Inf when unlimited)"
})

// --- the loop -----------------------------------------------------------------

/** How long each coordinator tick takes. */
export const tickDuration = Metric.histogram(
  "foreman_tick_duration_seconds",
  boundaries([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  "How long one coordinator tick takes, in seconds"
)

/** Jobs started, by `kind` and `worker_type` (`in_process` for design and assessment). */
export const jobsStarted = Metric.counter("foreman_jobs_started_total", {
  description: "Jobs started, by kind and worker type (in_process for jobs the coordinator runs)",
  incremental: true
})

/**
 * How long a research that needed a worker waited until one was handed to
 * it, by `worker_type`: from the moment it could go on (its previous phase
 * done, or a retry due) to the tick that claimed a slot for it.
 */
export const handoverLatency = Metric.histogram(
  "foreman_handover_seconds",
  boundaries([0.1, 0.5, 1, 2.5, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400]),
  "How long a research waited for a free worker before one was handed to it, in seconds"
)

/** How long a worker took to accept a job sent to it, by `worker_type` and `outcome` (`accepted`, `refused`, `failed`). */
export const dispatchLatency = Metric.histogram(
  "foreman_dispatch_duration_seconds",
  boundaries([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]),
  "How long sending a job to a worker took, in seconds, by worker type and outcome"
)

// --- LLM calls --------------------------------------------------------------------

/** Model calls (each attempt), by `model` and `outcome`: `answered`, `unusable` or `failed`. */
export const llmCalls = Metric.counter("foreman_llm_calls_total", {
  description:
    "LLM call attempts, by model, outcome (answered, unusable, failed) and simulated (true for the offline agents: no model called)",
  incremental: true
})

/** Tokens of model calls, by `model` and `kind`: `input` (cached ones included), `cached_input` or `output`. */
export const llmTokens = Metric.counter("foreman_llm_tokens_total", {
  description: "LLM tokens, by model, simulated and kind (input includes cached_input)",
  incremental: true
})

/** What model calls cost, in USD, by `model`. */
export const llmCost = Metric.counter("foreman_llm_cost_usd_total", {
  description: "What LLM calls cost, in USD, by model and simulated (charged to the budget either way)",
  incremental: true
})

/** How long each model call attempt took, by `model`. */
export const llmCallDuration = Metric.histogram(
  "foreman_llm_call_duration_seconds",
  boundaries([0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300]),
  "How long one LLM call attempt took, in seconds"
)

// --- HTTP -------------------------------------------------------------------------

/** HTTP requests the server answered, by `method`, `route` (the matched pattern, or `unmatched`) and `status`. */
export const httpRequests = Metric.counter("foreman_http_requests_total", {
  description: "HTTP requests answered, by method, route pattern and status code",
  incremental: true
})

/** How long the server took to answer, by `method` and `route`. */
export const httpRequestDuration = Metric.histogram(
  "foreman_http_request_duration_seconds",
  boundaries([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  "How long the server took to answer an HTTP request, in seconds"
)

// --- recording ------------------------------------------------------------------

const labelledOnce = new WeakMap<object, Map<string, unknown>>()

/**
 * `metric` tagged with `labels` (in their order), made once per metric and
 * labels and then reused. An update of a metric tagged once finds its entry in
 * the registry through the metric's own cache; a metric tagged anew at each
 * update (`Metric.tagged`, nested for several labels) is looked up by hashing a
 * new key every time. The key, and so what an exporter reads, is the same.
 */
export const labelled = <Type, In, Out>(
  metric: Metric.Metric<Type, In, Out>,
  labels: Readonly<Record<string, string>>
): Metric.Metric<Type, In, Out> => {
  let made = labelledOnce.get(metric)
  if (made === undefined) labelledOnce.set(metric, made = new Map())
  const id = JSON.stringify(labels)
  const known = made.get(id) as Metric.Metric<Type, In, Out> | undefined
  if (known !== undefined) return known
  const tagged = Metric.taggedWithLabels(metric, Object.entries(labels).map(([key, value]) => MetricLabel.make(key, value)))
  made.set(id, tagged)
  return tagged
}

/** Records a job the coordinator started `now`: its kind, and for a worker job how long the research waited for the worker. */
export const recordJobStarted = (job: Job, now: number): Effect.Effect<void> =>
  Effect.zipRight(
    Metric.increment(labelled(jobsStarted, { kind: job.kind, worker_type: job.workerType ?? "in_process" })),
    job.workerType === null || job.queuedSince === undefined
      ? Effect.void
      : Metric.update(
        labelled(handoverLatency, { worker_type: job.workerType }),
        Math.max(0, now - job.queuedSince) / 1000
      )
  )

/** What a dispatch's failure says of it, as far as the metric tells them apart. */
interface DispatchFailure {
  readonly refused?: unknown
  readonly unreachable?: unknown
}

const dispatchOutcome = (exit: Exit.Exit<unknown, DispatchFailure>): string => {
  if (Exit.isSuccess(exit)) return "accepted"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return "failed"
  if (failure.value.refused !== undefined) return "refused"
  return failure.value.unreachable !== undefined ? "unreachable" : "failed"
}

/**
 * Times sending a job to a worker of `workerType` into `dispatchLatency`,
 * with its outcome: accepted, refused (the worker is full or draining),
 * unreachable (no answer came: see `DispatchError.unreachable`) or failed.
 */
export const trackDispatch = (workerType: string) =>
<A, E extends DispatchFailure, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Clock.currentTimeMillis, (sent) =>
    Effect.onExit(self, (exit) =>
      Effect.flatMap(Clock.currentTimeMillis, (done) =>
        Metric.update(
          labelled(dispatchLatency, { worker_type: workerType, outcome: dispatchOutcome(exit) }),
          Math.max(0, done - sent) / 1000
        ))))

/** Records one model call attempt. */
export const recordLlmCall = (call: {
  readonly model: string
  readonly inputTokens: number
  readonly cachedInputTokens: number
  readonly outputTokens: number
  readonly costUsd: number
  readonly latencyMs: number
  readonly outcome: "answered" | "unusable" | "failed"
  /** No model answered (the offline agents): labelled `simulated="true"`. */
  readonly simulated?: boolean | undefined
}): Effect.Effect<void> => {
  const simulated = call.simulated === true ? "true" : "false"
  const tokens = (kind: string, count: number) =>
    Metric.incrementBy(labelled(llmTokens, { model: call.model, simulated, kind }), count)
  return Effect.all([
    Metric.increment(labelled(llmCalls, { model: call.model, simulated, outcome: call.outcome })),
    tokens("input", call.inputTokens),
    tokens("cached_input", call.cachedInputTokens),
    tokens("output", call.outputTokens),
    Metric.incrementBy(labelled(llmCost, { model: call.model, simulated }), call.costUsd),
    Metric.update(labelled(llmCallDuration, { model: call.model, simulated }), call.latencyMs / 1000)
  ], { discard: true })
}

type Labels = Readonly<Record<string, string>>

/** The gauges a scrape sets, by name. */
const scrapeGauges = {
  researchesActive,
  queueDepth,
  queueOldestWait,
  workerSlotsBusy,
  workerSlots,
  workers,
  capacityActive,
  capacityLimit,
  budgetLimit,
  budgetSpent,
  budgetSimulated,
  budgetRemaining
}
type ScrapeGauge = keyof typeof scrapeGauges

interface Reading {
  readonly gauge: ScrapeGauge
  readonly labels: Labels
  value: number
}

const setGauge = ({ gauge, labels }: Reading, value: number) =>
  Metric.set(
    Object.entries(labels).reduce((metric, [key, label]) => Metric.tagged(metric, key, label), scrapeGauges[gauge]),
    value
  )

/**
 * Makes a recorder that sets the scrape-time gauges from the status view and
 * the registered workers. A label set it set before and no longer sees (a
 * phase nobody is in any more, a worker type gone) is set to 0 rather than
 * left at its last value.
 */
export const makeStatusRecorder: Effect.Effect<
  (status: CoordinatorStatus, registered: ReadonlyArray<Worker>) => Effect.Effect<void>
> = Effect.map(
  Ref.make(new Map<string, Reading>()),
  (seen) => (status, registered) =>
    Effect.gen(function*() {
      const readings = new Map<string, Reading>()
      const add = (gauge: ScrapeGauge, labels: Labels, value: number) => {
        const key = `${gauge}${JSON.stringify(labels)}`
        const reading = readings.get(key)
        if (reading === undefined) readings.set(key, { gauge, labels, value })
        else reading.value += value
      }
      for (const research of status.active) {
        add("researchesActive", { phase: research.phase, status: research.status }, 1)
      }
      const oldest = new Map<string, number>()
      for (const type of Object.keys(status.workers)) {
        add("queueDepth", { worker_type: type }, 0)
        oldest.set(type, 0)
      }
      for (const { waitingFor } of status.active) {
        if (waitingFor === null) continue
        add("queueDepth", { worker_type: waitingFor.workerType }, 1)
        oldest.set(waitingFor.workerType, Math.max(oldest.get(waitingFor.workerType) ?? 0, waitingFor.seconds))
      }
      for (const [type, seconds] of oldest) add("queueOldestWait", { worker_type: type }, seconds)
      for (const [type, slots] of Object.entries(status.workers)) {
        add("workerSlotsBusy", { worker_type: type }, slots.busy)
        add("workerSlots", { worker_type: type }, slots.total)
      }
      for (const worker of registered) add("workers", { worker_type: worker.type, status: worker.status }, 1)
      add("capacityActive", {}, status.capacity.active)
      add("capacityLimit", {}, status.capacity.limit)
      add("budgetLimit", {}, status.budget.unlimited ? 0 : status.budget.limitUsd)
      add("budgetSpent", {}, status.budget.spentUsd)
      add("budgetSimulated", {}, status.budget.simulatedUsd)
      add("budgetRemaining", {}, status.budget.remainingUsd ?? Number.POSITIVE_INFINITY)

      const before = yield* Ref.get(seen)
      for (const [key, reading] of before) {
        if (!readings.has(key)) yield* setGauge(reading, 0)
      }
      for (const reading of readings.values()) yield* setGauge(reading, reading.value)
      yield* Ref.set(seen, new Map([...before, ...readings]))
    })
)
