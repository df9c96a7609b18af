/**
 * `GET /metrics` on the production composition (`Server.layer`, in-memory
 * storage): model agents against a fake LLM on the wire, a training and a
 * backtest worker over HTTP. One research trains on a held job while another
 * waits for the training worker; the scrape then shows the queue, the slots
 * and the active researches. Once both finish, it shows the counters and
 * histograms of the loop, the LLM calls, the budget and the HTTP requests
 * (a refused trigger among them). Counters and histograms belong to the
 * process (several engines in one process add to the same ones), so the
 * tests read what they grew by during the test.
 */
import { HttpServer } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Memory } from "@foreman/adapter-memory"
import { OfflineAgents, Providers } from "@foreman/agents"
import { Coordinator, ForemanConfig } from "@foreman/core"
import { Server } from "@foreman/server"
import * as Observability from "@foreman/server/Observability"
import { eventually } from "@foreman/testing/ApiHarness"
import * as FakeLlm from "@foreman/testing/FakeLlm"
import { designOrAssessment as answer, passingBacktest as backtest, passingTraining as training } from "@foreman/testing/Fixtures"
import { startWorker } from "@foreman/testing/WorkerHarness"
import { ConfigProvider, Context, Deferred, Effect, Layer, Logger, LogLevel } from "effect"

const usage = { inputTokens: 1000, outputTokens: 200, cachedInputTokens: 100 }


interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** The samples of a Prometheus text exposition. */
const parse = (text: string): ReadonlyArray<Sample> =>
  text.split("\n").flatMap((line) => {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) return []
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!
    }
    const raw = match[3]!
    return [{ name: match[1]!, labels, value: raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw) }]
  })

/** The sum of the samples named `name` whose labels include `labels`. */
const valueOf = (samples: ReadonlyArray<Sample>, name: string, labels: Record<string, string> = {}): number => {
  const found = samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value)
  )
  if (found.length === 0) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`)
  return found.reduce((sum, s) => sum + s.value, 0)
}

/** The sum of the samples named `name` whose labels include `labels`, 0 when there is none. */
const valueOr0 = (samples: ReadonlyArray<Sample>, name: string, labels: Record<string, string> = {}): number =>
  samples.some((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value))
    ? valueOf(samples, name, labels)
    : 0

/** What a counter (or a histogram's count, sum or bucket) grew by from one scrape to a later one. */
const growth = (before: ReadonlyArray<Sample>, after: ReadonlyArray<Sample>) =>
(name: string, labels: Record<string, string> = {}): number => valueOf(after, name, labels) - valueOr0(before, name, labels)

/** The samples of `after` with `labels` whose value differs from `before`'s. */
const changedWith = (before: ReadonlyArray<Sample>, after: ReadonlyArray<Sample>, labels: Record<string, string>) =>
  after.filter((s) =>
    Object.entries(labels).every(([key, value]) => s.labels[key] === value) &&
    s.value !== valueOr0(before, s.name, s.labels)
  )

/** The text's `# TYPE` lines, by metric family. */
const types = (text: string): ReadonlyMap<string, string> =>
  new Map(text.split("\n").flatMap((line) => {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line)
    return match === null ? [] : [[match[1]!, match[2]!] as const]
  }))

describe("GET /metrics", () => {
  it.scopedLive("serves every metric family in Prometheus text with the state of the coordinator", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLlm.scoped()
      fake.setDefault(FakeLlm.object(answer, usage))
      const agents = yield* Providers.fromConfig({ retryDelay: "10 millis" }).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(
          new Map([["ANTHROPIC_API_KEY", "sk-ant"], ["FOREMAN_LLM_BASE_URL", fake.anthropicUrl]])
        ))
      )
      const context = yield* Layer.build(Server.layer({
        host: "127.0.0.1",
        port: 0,
        storage: Memory.storage,
        agents: agents.layer,
        config: ForemanConfig.layerWith({ dailyBudgetUsd: 5, maxConcurrentResearches: 2 })
      })).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
      const address = Context.get(context, HttpServer.HttpServer).address
      const baseUrl = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
      const coordinator = Context.get(context, Coordinator.Coordinator)

      const release = yield* Deferred.make<void>()
      yield* startWorker(() => Effect.as(Deferred.await(release), training), {
        apiUrl: baseUrl,
        type: "training",
        id: "trainer-1"
      })
      yield* startWorker(() => Effect.succeed(backtest), { apiUrl: baseUrl, type: "backtest", id: "tester-1" })
      yield* eventually(coordinator.status(), (s) => s.workers["training"]?.total === 1 && s.workers["backtest"]?.total === 1)

      const scrape = Effect.promise(async () => {
        const response = await fetch(`${baseUrl}/metrics`)
        return { status: response.status, type: response.headers.get("content-type"), text: await response.text() }
      })
      const post = (body: unknown) =>
        Effect.promise(() =>
          fetch(`${baseUrl}/api/v1/agent/trigger`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body)
          }).then((r) => r.status)
        )
      const start = parse((yield* scrape).text)
      assert.strictEqual(yield* post({ brief: "RSI on EURUSD" }), 202)
      assert.strictEqual(yield* post({ brief: "RSI on GBPUSD" }), 202)
      assert.strictEqual(yield* post({}), 400)
      assert.strictEqual(yield* post({ brief: "One too many" }), 409)

      // One research trains on the held job, the other waits for the training worker.
      yield* eventually(
        coordinator.status(),
        (s) => s.active.some((r) => r.waitingFor?.workerType === "training") && s.workers["training"]?.busy === 1,
        30
      )
      const during = yield* scrape
      assert.strictEqual(during.status, 200)
      assert.strictEqual(during.type, Observability.prometheusContentType)
      const now = parse(during.text)
      assert.strictEqual(valueOf(now, "foreman_queue_depth", { worker_type: "training" }), 1)
      assert.strictEqual(valueOf(now, "foreman_queue_depth", { worker_type: "backtest" }), 0)
      assert.isAtLeast(valueOf(now, "foreman_queue_oldest_wait_seconds", { worker_type: "training" }), 0)
      assert.strictEqual(valueOf(now, "foreman_worker_slots_busy", { worker_type: "training" }), 1)
      assert.strictEqual(valueOf(now, "foreman_worker_slots", { worker_type: "training" }), 1)
      assert.strictEqual(valueOf(now, "foreman_worker_slots_busy", { worker_type: "backtest" }), 0)
      assert.strictEqual(valueOf(now, "foreman_workers", { worker_type: "training", status: "busy" }), 1)
      assert.strictEqual(valueOf(now, "foreman_researches_active"), 2)
      assert.strictEqual(valueOf(now, "foreman_researches_active", { phase: "training" }), 2)
      assert.strictEqual(valueOf(now, "foreman_capacity_active"), 2)
      assert.strictEqual(valueOf(now, "foreman_capacity_limit"), 2)
      assert.strictEqual(valueOf(now, "foreman_budget_limit_usd"), 5)
      const spent = valueOf(now, "foreman_budget_spent_usd")
      assert.isAbove(spent, 0)
      assert.closeTo(valueOf(now, "foreman_budget_remaining_usd"), 5 - spent, 1e-9)

      yield* Deferred.succeed(release, undefined)
      yield* eventually(
        coordinator.list({ statuses: ["completed"], limit: 10, offset: 0 }),
        (done) => done.length === 2,
        30
      )
      const after = yield* scrape
      const end = parse(after.text)
      const families = types(after.text)
      const grew = growth(start, end)
      const expected: ReadonlyArray<readonly [string, string]> = [
        ["foreman_researches_triggered_total", "counter"],
        ["foreman_triggers_refused_total", "counter"],
        ["foreman_researches_finished_total", "counter"],
        ["foreman_researches_active", "gauge"],
        ["foreman_queue_depth", "gauge"],
        ["foreman_queue_oldest_wait_seconds", "gauge"],
        ["foreman_worker_slots_busy", "gauge"],
        ["foreman_worker_slots", "gauge"],
        ["foreman_workers", "gauge"],
        ["foreman_capacity_active", "gauge"],
        ["foreman_capacity_limit", "gauge"],
        ["foreman_budget_limit_usd", "gauge"],
        ["foreman_budget_spent_usd", "gauge"],
        ["foreman_budget_simulated_usd", "gauge"],
        ["foreman_budget_remaining_usd", "gauge"],
        ["foreman_tick_duration_seconds", "histogram"],
        ["foreman_jobs_started_total", "counter"],
        ["foreman_handover_seconds", "histogram"],
        ["foreman_dispatch_duration_seconds", "histogram"],
        ["foreman_llm_calls_total", "counter"],
        ["foreman_llm_tokens_total", "counter"],
        ["foreman_llm_cost_usd_total", "counter"],
        ["foreman_llm_call_duration_seconds", "histogram"],
        ["foreman_http_requests_total", "counter"],
        ["foreman_http_request_duration_seconds", "histogram"]
      ]
      for (const [name, type] of expected) assert.strictEqual(families.get(name), type, name)

      assert.strictEqual(grew("foreman_researches_triggered_total", { forced: "false" }), 2)
      assert.strictEqual(grew("foreman_triggers_refused_total", { reason: "capacity" }), 1)
      assert.strictEqual(grew("foreman_researches_finished_total", { status: "completed" }), 2)
      assert.strictEqual(valueOf(end, "foreman_researches_active"), 0)
      assert.strictEqual(valueOf(end, "foreman_queue_depth", { worker_type: "training" }), 0)
      assert.strictEqual(valueOf(end, "foreman_worker_slots_busy", { worker_type: "training" }), 0)
      assert.strictEqual(valueOf(end, "foreman_workers", { worker_type: "training", status: "busy" }), 0)
      assert.strictEqual(valueOf(end, "foreman_workers", { worker_type: "training", status: "available" }), 1)

      assert.isAbove(grew("foreman_tick_duration_seconds_count"), 0)
      assert.strictEqual(grew("foreman_jobs_started_total", { kind: "design", worker_type: "in_process" }), 2)
      assert.strictEqual(grew("foreman_jobs_started_total", { kind: "training", worker_type: "training" }), 2)
      assert.strictEqual(grew("foreman_handover_seconds_count", { worker_type: "training" }), 2)
      assert.strictEqual(grew("foreman_handover_seconds_count", { worker_type: "backtest" }), 2)
      // The second research waited for the first one's training job.
      assert.isAbove(grew("foreman_handover_seconds_sum", { worker_type: "training" }), 0)
      assert.strictEqual(
        grew("foreman_dispatch_duration_seconds_count", { worker_type: "training", outcome: "accepted" }),
        2
      )
      assert.strictEqual(
        grew("foreman_handover_seconds_bucket", { worker_type: "backtest", le: "+Inf" }),
        2
      )

      const model = agents.model!
      const calls = grew("foreman_llm_calls_total", { model, outcome: "answered", simulated: "false" })
      assert.strictEqual(calls, 4) // a design and an assessment for each research
      assert.strictEqual(grew("foreman_llm_tokens_total", { model, kind: "output" }), 4 * 200)
      assert.strictEqual(grew("foreman_llm_tokens_total", { model, kind: "cached_input" }), 4 * 100)
      assert.isAtLeast(grew("foreman_llm_tokens_total", { model, kind: "input" }), 4 * 1000)
      const cost = grew("foreman_llm_cost_usd_total", { model })
      assert.isAbove(cost, 0)
      assert.closeTo(valueOf(end, "foreman_budget_spent_usd"), cost, 1e-6)
      assert.strictEqual(grew("foreman_llm_call_duration_seconds_count", { model }), 4)

      const triggerRoute = "/api/v1/agent/trigger"
      assert.strictEqual(
        grew("foreman_http_requests_total", { method: "POST", route: triggerRoute, status: "202" }),
        2
      )
      assert.strictEqual(
        grew("foreman_http_requests_total", { method: "POST", route: triggerRoute, status: "400" }),
        1
      )
      assert.strictEqual(
        grew("foreman_http_requests_total", { method: "POST", route: triggerRoute, status: "409" }),
        1
      )
      // The first scrape and the one during the test (this one counts once it is answered).
      assert.strictEqual(grew("foreman_http_requests_total", { method: "GET", route: "/metrics", status: "200" }), 2)
      assert.strictEqual(
        grew("foreman_http_request_duration_seconds_count", { method: "POST", route: triggerRoute }),
        4
      )
      // Worker traffic is counted by its route pattern, not by its ids.
      assert.isTrue(end.some((s) => s.name === "foreman_http_requests_total" && s.labels["route"]?.includes(":workerId")))
      assert.isFalse(end.some((s) => s.labels["route"]?.includes("trainer-1")))
    }).pipe(Logger.withMinimumLogLevel(LogLevel.Error)), 90_000)

  it.scopedLive("counts the offline agents' calls under their own name, not the model a trigger asks for", () =>
    Effect.gen(function*() {
      const agents = yield* Providers.fromConfig().pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["FOREMAN_LLM_PROVIDER", "offline"]])))
      )
      const context = yield* Layer.build(Server.layer({
        host: "127.0.0.1",
        port: 0,
        storage: Memory.storage,
        agents: agents.layer,
        config: ForemanConfig.layerWith({ dailyBudgetUsd: 5 })
      })).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
      const address = Context.get(context, HttpServer.HttpServer).address
      const baseUrl = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
      const coordinator = Context.get(context, Coordinator.Coordinator)
      const scrape = Effect.promise(() => fetch(`${baseUrl}/metrics`).then((r) => r.text()))
      const start = parse(yield* scrape)
      const triggered = yield* Effect.promise(() =>
        fetch(`${baseUrl}/api/v1/agent/trigger`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ brief: "RSI on EURUSD", model: "claude-haiku-4-5" })
        }).then((r) => r.status)
      )
      assert.strictEqual(triggered, 202)
      // Designed, the research waits for a training worker (there is none).
      yield* eventually(coordinator.status(), (s) => s.active[0]?.waitingFor?.workerType === "training", 30)
      const samples = parse(yield* scrape)
      const grew = growth(start, samples)
      const model = OfflineAgents.name
      assert.strictEqual(grew("foreman_llm_calls_total", { model, outcome: "answered", simulated: "true" }), 1)
      assert.isFalse(samples.some((s) => s.labels["model"] === model && s.labels["simulated"] !== "true"))
      assert.isAbove(grew("foreman_llm_tokens_total", { model, kind: "output" }), 0)
      assert.strictEqual(grew("foreman_llm_call_duration_seconds_count", { model }), 1)
      const cost = grew("foreman_llm_cost_usd_total", { model })
      assert.isAbove(cost, 0)
      assert.closeTo(valueOf(samples, "foreman_budget_spent_usd"), cost, 1e-6)
      assert.closeTo(valueOf(samples, "foreman_budget_simulated_usd"), cost, 1e-6)
      assert.deepStrictEqual(changedWith(start, samples, { model: "claude-haiku-4-5" }), [])

      // The ledger, as the API gives it, says the same: the offline agents' name, simulated, charged.
      const id = (yield* coordinator.list({ limit: 1, offset: 0 }))[0]!.id
      const detail = yield* Effect.promise(() =>
        fetch(`${baseUrl}/api/v1/agent/researches/${id}`).then((r) => r.json() as Promise<{ llmCalls: Array<unknown> }>)
      )
      assert.deepStrictEqual(
        detail.llmCalls.map((c) => [(c as { model: string }).model, (c as { simulated?: boolean }).simulated]),
        [["offline", true]]
      )
      const budget = yield* Effect.promise(() =>
        fetch(`${baseUrl}/api/v1/agent/budget`).then((r) => r.json() as Promise<{ spentUsd: number; simulatedUsd: number }>)
      )
      assert.closeTo(budget.simulatedUsd, cost, 1e-6)
      assert.strictEqual(budget.simulatedUsd, budget.spentUsd)
    }).pipe(Logger.withMinimumLogLevel(LogLevel.Error)), 60_000)
})
