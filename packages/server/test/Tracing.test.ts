/**
 * Traces and log lines of the production composition (`Server.layer`,
 * in-memory storage). With `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans go over
 * OTLP/HTTP (JSON here) to a receiver on loopback: a research run by model
 * agents against a fake LLM and an HTTP worker leaves a span per tick, phase,
 * job dispatch, worker report and LLM call. `FOREMAN_LOG_FORMAT=json` writes
 * one JSON object per log line and `logfmt` logfmt, in place of the logger
 * the process runs with, which stays when it is unset.
 */
import { HttpServer } from "@effect/platform"
import { assert, describe, it, vi } from "@effect/vitest"
import { Memory } from "@foreman/adapter-memory"
import { OfflineAgents, Providers } from "@foreman/agents"
import { Coordinator, type Domain, ForemanConfig } from "@foreman/core"
import { Server } from "@foreman/server"
import { eventually } from "@foreman/testing/ApiHarness"
import * as FakeLlm from "@foreman/testing/FakeLlm"
import { designOrAssessment as answer, passingBacktest as backtest, passingTraining as training } from "@foreman/testing/Fixtures"
import { startWorker } from "@foreman/testing/WorkerHarness"
import { ConfigProvider, Context, Effect, Exit, FiberRef, HashSet, Layer, Logger, LogLevel, Scope } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** A span as OTLP/JSON carries it, with its attributes made plain. */
interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly serviceName: string | undefined
  readonly attributes: Readonly<Record<string, unknown>>
}

interface AnyValue {
  readonly stringValue?: string
  readonly intValue?: string | number
  readonly doubleValue?: number
  readonly boolValue?: boolean
}

interface KeyValue {
  readonly key: string
  readonly value: AnyValue
}

interface ExportTraceServiceRequest {
  readonly resourceSpans: ReadonlyArray<{
    readonly resource?: { readonly attributes?: ReadonlyArray<KeyValue> }
    readonly scopeSpans: ReadonlyArray<{
      readonly spans: ReadonlyArray<{
        readonly traceId: string
        readonly spanId: string
        readonly parentSpanId?: string
        readonly name: string
        readonly attributes?: ReadonlyArray<KeyValue>
      }>
    }>
  }>
}

const plain = (value: AnyValue): unknown =>
  value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : value.doubleValue ?? value.boolValue)

const attributesOf = (list: ReadonlyArray<KeyValue> = []): Record<string, unknown> =>
  Object.fromEntries(list.map(({ key, value }) => [key, plain(value)]))

/** Decodes one OTLP/JSON export request into its spans. */
const decode = (request: ExportTraceServiceRequest): Array<ReceivedSpan> =>
  request.resourceSpans.flatMap(({ resource, scopeSpans }) => {
    const serviceName = attributesOf(resource?.attributes)["service.name"]
    return scopeSpans.flatMap(({ spans }) =>
      spans.map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId === "" ? undefined : span.parentSpanId,
        name: span.name,
        serviceName: typeof serviceName === "string" ? serviceName : undefined,
        attributes: attributesOf(span.attributes)
      }))
    )
  })

interface Receiver {
  readonly url: string
  readonly spans: Array<ReceivedSpan>
  readonly contentTypes: Array<string>
  readonly close: (done: () => void) => void
}

/** An OTLP/HTTP trace receiver on 127.0.0.1: keeps the spans of every `POST /v1/traces`, for the scope. */
const otlpReceiver = Effect.acquireRelease(
  Effect.async<Receiver>((resume) => {
    const spans: Array<ReceivedSpan> = []
    const contentTypes: Array<string> = []
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        if (request.method !== "POST" || request.url !== "/v1/traces") {
          response.writeHead(404).end()
          return
        }
        contentTypes.push(request.headers["content-type"] ?? "")
        spans.push(...decode(JSON.parse(Buffer.concat(chunks).toString("utf8")) as ExportTraceServiceRequest))
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({
        url: `http://127.0.0.1:${port}`,
        spans,
        contentTypes,
        close: (done) => {
          server.closeAllConnections()
          server.close(() => done())
        }
      }))
    })
  }),
  (receiver) => Effect.async<void>((resume) => receiver.close(() => resume(Effect.void)))
)


const env = (entries: Record<string, string>) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries))))

describe("tracing", () => {
  it.scopedLive("exports a span per tick, phase, dispatch, worker report and LLM call over OTLP", () =>
    Effect.gen(function*() {
      const receiver = yield* otlpReceiver
      const fake = yield* FakeLlm.scoped()
      fake.setDefault(FakeLlm.object(answer))
      const agents = yield* Providers.fromConfig({ retryDelay: "10 millis" }).pipe(
        env({ ANTHROPIC_API_KEY: "sk-ant", FOREMAN_LLM_BASE_URL: fake.anthropicUrl })
      )
      // The server lives in a scope of its own: closing it flushes the spans still buffered.
      const serverScope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        Server.layer({
          host: "127.0.0.1",
          port: 0,
          storage: Memory.storage,
          agents: agents.layer,
          config: ForemanConfig.layerWith({})
        }),
        serverScope
      ).pipe(env({
        OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/`,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "foreman-test",
        OTEL_BSP_SCHEDULE_DELAY: "100"
      }), Logger.withMinimumLogLevel(LogLevel.Error))
      const address = Context.get(context, HttpServer.HttpServer).address
      const baseUrl = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
      const coordinator = Context.get(context, Coordinator.Coordinator)
      yield* startWorker(() => Effect.succeed(training), { apiUrl: baseUrl, type: "training", id: "trainer-1" })
      yield* startWorker(() => Effect.succeed(backtest), { apiUrl: baseUrl, type: "backtest", id: "tester-1" })
      yield* eventually(coordinator.status(), (s) => s.workers["training"]?.total === 1 && s.workers["backtest"]?.total === 1)

      const { researchId } = yield* Effect.promise(() =>
        fetch(`${baseUrl}/api/v1/agent/trigger`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ brief: "RSI on EURUSD" })
        }).then((r) => r.json() as Promise<{ readonly researchId: Domain.ResearchId }>)
      )
      yield* eventually(coordinator.show(researchId), (d) => d.research.status === "completed", 30)
      yield* Effect.promise(() => fetch(`${baseUrl}/api/v1/agent/status`).then((r) => r.text()))
      // Spans arrive every 100 ms while the server runs.
      yield* eventually(
        Effect.sync(() => receiver.spans.some((s) => s.name === "Coordinator.phase" && s.attributes["foreman.phase"] === "assessing")),
        (arrived) => arrived,
        10
      )
      yield* Scope.close(serverScope, Exit.void)

      const spans = receiver.spans
      assert.isTrue(receiver.contentTypes.every((type) => type.startsWith("application/json")))
      assert.isTrue(spans.every((s) => s.serviceName === "foreman-test"))
      const named = (name: string) => spans.filter((s) => s.name === name)

      assert.isNotEmpty(named("Coordinator.tick"))
      assert.isNumber(named("Coordinator.tick")[0]!.attributes["foreman.tick.researches"])
      // The trigger is traced inside its HTTP request's span.
      const [trigger] = named("Coordinator.trigger")
      const request = spans.find((s) => s.spanId === trigger?.parentSpanId)
      assert.strictEqual(request?.attributes["http.route"], "/api/v1/agent/trigger")
      // So is the status, though one view is read for all the calls made meanwhile (in a span of its own).
      const statusRoutes = named("Coordinator.status").map((s) =>
        spans.find((p) => p.spanId === s.parentSpanId)?.attributes["http.route"]
      )
      assert.include(statusRoutes, "/api/v1/agent/status")
      assert.isNotEmpty(named("Coordinator.statusView"))

      const phases = named("Coordinator.phase").filter((s) => s.attributes["foreman.research.id"] === researchId)
      assert.deepStrictEqual(phases.map((s) => s.attributes["foreman.phase"]).sort(), ["assessing", "designing"])

      const dispatches = named("Coordinator.dispatch").filter((s) => s.attributes["foreman.research.id"] === researchId)
      assert.deepStrictEqual(dispatches.map((s) => s.attributes["foreman.worker.type"]).sort(), ["backtest", "training"])
      // A dispatch happens inside the tick that started its job.
      const ticks = new Set(named("Coordinator.tick").map((s) => s.spanId))
      assert.isTrue(dispatches.every((d) => d.parentSpanId !== undefined && ticks.has(d.parentSpanId)))

      // Each LLM call is traced within the phase that made it.
      const llmCalls = named("Agents.llmCall")
      assert.strictEqual(llmCalls.length, 2)
      assert.isTrue(llmCalls.every((s) => s.attributes["gen_ai.request.model"] === agents.model))
      assert.isTrue(llmCalls.every((s) => typeof s.attributes["gen_ai.usage.output_tokens"] === "number"))
      const phaseTraces = new Set(phases.map((s) => s.traceId))
      assert.isTrue(llmCalls.every((s) => phaseTraces.has(s.traceId)))

      // Workers' reports are HTTP requests, each a server span named by its route.
      const reports = spans.filter((s) =>
        s.attributes["http.route"] === "/api/v1/workers/:workerId/jobs/:jobId/report"
      )
      assert.isAtLeast(reports.length, 2)
    }).pipe(Logger.withMinimumLogLevel(LogLevel.Error)), 90_000)

  it.scopedLive("exports nothing and needs no receiver when OTEL_EXPORTER_OTLP_ENDPOINT is not set", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(Server.layer({
        host: "127.0.0.1",
        port: 0,
        storage: Memory.storage,
        agents: OfflineAgents.layer(),
        config: ForemanConfig.layerWith({})
      })).pipe(env({}), Logger.withMinimumLogLevel(LogLevel.Error))
      const coordinator = Context.get(context, Coordinator.Coordinator)
      const research = yield* coordinator.trigger({ brief: "RSI on EURUSD" })
      assert.strictEqual(research.status, "pending")
    }))
})

/**
 * The lines the server logs while it starts, with `entries` as its
 * environment; under `NodeRuntime.runMain`'s pretty logger (as the `foreman`
 * command runs) with `pretty`.
 */
const startupLogs = (entries: Record<string, string>, options: { readonly pretty?: boolean } = {}) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const spy = vi.spyOn(console, "log").mockImplementation((...args: Array<unknown>) => {
      lines.push(args.map(String).join(" "))
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => spy.mockRestore()))
    const build = Layer.build(Server.layer({
      host: "127.0.0.1",
      port: 0,
      storage: Memory.storage,
      agents: OfflineAgents.layer(),
      config: ForemanConfig.layerWith({})
    })).pipe(env(entries))
    yield* options.pretty === true
      ? Effect.locally(build, FiberRef.currentLoggers, HashSet.make(Logger.prettyLoggerDefault))
      : build
    return lines
  })

const tokenWarning = "no API tokens configured"

describe("FOREMAN_LOG_FORMAT", () => {
  it.scopedLive("json writes one JSON object per log line, instead of the pretty lines", () =>
    Effect.gen(function*() {
      const lines = yield* startupLogs({ FOREMAN_LOG_FORMAT: "json" }, { pretty: true })
      assert.isNotEmpty(lines)
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
      const warning = entries.find((e) => String(e["message"]).includes(tokenWarning))
      assert.isDefined(warning)
      assert.strictEqual(warning!["logLevel"], "WARN")
      assert.isString(warning!["timestamp"])
    }))

  it.scopedLive("logfmt writes logfmt lines, instead of the pretty lines", () =>
    Effect.gen(function*() {
      const lines = yield* startupLogs({ FOREMAN_LOG_FORMAT: "logfmt" }, { pretty: true })
      assert.isNotEmpty(lines)
      for (const line of lines) assert.match(line, /^timestamp=\S+ level=[A-Z]+ fiber=#\d+ message=/)
      assert.isTrue(lines.some((line) => line.includes(tokenWarning)))
    }))

  it.scopedLive("unset, keeps the logger the process runs with", () =>
    Effect.gen(function*() {
      const lines = yield* startupLogs({})
      const warning = lines.find((line) => line.includes(tokenWarning))
      assert.isDefined(warning)
      assert.match(warning!, /^timestamp=\S+ level=WARN fiber=#\d+ message=/)
    }))

  it.scopedLive("refuses a format it does not know", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(startupLogs({ FOREMAN_LOG_FORMAT: "xml" }))
      assert.strictEqual(error._tag, "ConfigError")
    }))
})
