/**
 * What the server tells operators besides its API: metrics in Prometheus text
 * at `GET /metrics`, a count and timing of HTTP requests by route and status,
 * traces exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and the
 * log format (`FOREMAN_LOG_FORMAT`).
 *
 * The metrics are Effect `Metric`s (`@foreman/core`'s `Metrics` lists them):
 * `@effect/opentelemetry` bridges the metric registry to an OpenTelemetry
 * metric producer, and the OpenTelemetry Prometheus exporter collects and
 * serializes it. The gauges of the world's state (researches, queues, worker
 * slots, capacity, budget) are set from the coordinator's status view at each
 * scrape, so they are exact whichever replica is scraped.
 */
import { HttpApiBuilder, HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { FetchHttpClient } from "@effect/platform"
import {
  Metrics as OtelMetrics,
  OtlpSerialization,
  OtlpTracer,
  Resource
} from "@effect/opentelemetry"
import { Coordinator, Metrics, WorkerRegistry } from "@foreman/core"
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import {
  Clock,
  Config,
  type ConfigError,
  Context,
  Data,
  Duration,
  Effect,
  FiberRef,
  HashSet,
  Layer,
  Logger,
  Metric,
  MetricLabel,
  Option,
  Tracer
} from "effect"
import { isOperator, tokensConfig } from "./ApiServer.js"

/** The service name on traces and on the metrics' `target_info`, unless `OTEL_SERVICE_NAME` says otherwise. */
export const defaultServiceName = "foreman"

const serviceName = Config.string("OTEL_SERVICE_NAME").pipe(Config.withDefault(defaultServiceName))

// --- metrics ----------------------------------------------------------------------

/** Collecting the metrics failed. */
export class MetricsUnavailable extends Data.TaggedError("MetricsUnavailable")<{ readonly cause: unknown }> {
  override get message(): string {
    return `could not collect metrics: ${String(this.cause)}`
  }
}

/** The process's Effect metrics, collected and written in the Prometheus text format. */
export class PrometheusMetrics extends Context.Tag("@foreman/server/Observability/PrometheusMetrics")<
  PrometheusMetrics,
  { readonly scrape: Effect.Effect<string, MetricsUnavailable> }
>() {}

/** The Prometheus text format's content type. */
export const prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

/**
 * Registers the Effect metric bridge with a Prometheus exporter that starts no
 * server of its own (the API server serves `/metrics`), for the layer's lifetime.
 */
export const layerPrometheus: Layer.Layer<PrometheusMetrics, ConfigError.ConfigError> = Layer.scoped(
  PrometheusMetrics,
  Effect.gen(function*() {
    const exporter = new PrometheusExporter({ preventServerStart: true })
    yield* OtelMetrics.registerProducer(yield* OtelMetrics.makeProducer, () => exporter)
    const serializer = new PrometheusSerializer(undefined, false, undefined, false, true)
    return {
      scrape: Effect.tryPromise({
        try: () => exporter.collect(),
        catch: (cause) => new MetricsUnavailable({ cause })
      }).pipe(Effect.map(({ resourceMetrics }) => serializer.serialize(resourceMetrics)))
    }
  })
).pipe(Layer.provide(Layer.unwrapEffect(Effect.map(serviceName, (name) => Resource.layer({ serviceName: name })))))

/**
 * `GET /metrics` on the API's router: sets the gauges from the coordinator's
 * status and the registered workers, then answers every metric in the
 * Prometheus text format. With an operator token configured
 * (`FOREMAN_API_TOKEN`), the scrape must present it as a bearer token.
 */
export const layerMetricsRoute: Layer.Layer<
  never,
  ConfigError.ConfigError,
  PrometheusMetrics | Coordinator.Coordinator | WorkerRegistry.WorkerRegistry
> = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const prometheus = yield* PrometheusMetrics
    const coordinator = yield* Coordinator.Coordinator
    const registry = yield* WorkerRegistry.WorkerRegistry
    const tokens = yield* tokensConfig
    const record = yield* Metrics.makeStatusRecorder
    const scrape = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      if (!isOperator(tokens, request.headers["authorization"])) {
        return HttpServerResponse.unsafeJson({ _tag: "Unauthorized", message: "An operator token is required" }, {
          status: 401,
          headers: { "www-authenticate": "Bearer" }
        })
      }
      const [status, workers] = yield* Effect.all([coordinator.status(), registry.list()], { concurrency: 2 })
      yield* record(status, workers)
      return HttpServerResponse.text(yield* prometheus.scrape, { contentType: prometheusContentType })
    }).pipe(
      Effect.catchAll((error) =>
        Effect.as(
          Effect.logWarning(`/metrics: ${error.message}`),
          HttpServerResponse.text(`metrics unavailable: ${error.message}\n`, { status: 503 })
        )
      )
    )
    yield* router.get("/metrics", scrape)
  })
)

const labels = (tags: Readonly<Record<string, string>>) =>
  Object.entries(tags).map(([key, value]) => MetricLabel.make(key, value))

/** The route label of a request: the pattern the router matched (it annotates the request's span), else `unmatched`. */
const routeOf = (span: Option.Option<Tracer.Span>): string => {
  const route = Option.getOrUndefined(span)?.attributes.get("http.route")
  return typeof route === "string" ? route : "unmatched"
}

/**
 * Counts and times every request the server answers (API, docs and
 * `/metrics`) by method, route pattern and final status, read just before the
 * response is sent, so errors the API encodes are counted with their status.
 */
export const layerHttpMetrics: Layer.Layer<never> = HttpApiBuilder.middleware((app) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const span = yield* Effect.option(Effect.currentSpan)
    yield* HttpApp.appendPreResponseHandler((request, response) =>
      Effect.gen(function*() {
        const route = routeOf(span)
        const done = yield* Clock.currentTimeMillis
        const tags = { method: request.method, route }
        yield* Metric.increment(
          Metric.taggedWithLabels(Metrics.httpRequests, labels({ ...tags, status: String(response.status) }))
        )
        yield* Metric.update(
          Metric.taggedWithLabels(Metrics.httpRequestDuration, labels(tags)),
          Math.max(0, done - started) / 1000
        )
        return response
      })
    )
    return yield* app
  })
)

/** `/metrics` and the HTTP request metrics, to provide to the API server's layer (it must be built first). */
export const layerHttp: Layer.Layer<
  never,
  ConfigError.ConfigError,
  Coordinator.Coordinator | WorkerRegistry.WorkerRegistry
> = Layer.merge(layerMetricsRoute, layerHttpMetrics).pipe(Layer.provide(layerPrometheus))

// --- traces -----------------------------------------------------------------------

/** Where and how traces go. */
export interface TracingSettings {
  /** The full URL spans are POSTed to, e.g. `http://127.0.0.1:4318/v1/traces`. */
  readonly url: string
  readonly protocol: "http/protobuf" | "http/json"
  readonly headers: Readonly<Record<string, string>>
  readonly serviceName: string
  /** How often buffered spans are sent. */
  readonly exportInterval: Duration.Duration
}

/** `k=v,k2=v2` as OpenTelemetry writes headers in the environment (values URL-encoded). */
const parseHeaders = (text: string): Record<string, string> => {
  const headers: Record<string, string> = {}
  for (const pair of text.split(",")) {
    const at = pair.indexOf("=")
    if (at <= 0) continue
    headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim())
  }
  return headers
}

/**
 * Tracing from the standard OpenTelemetry variables; none when neither
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL) nor
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL; `/v1/traces` is appended) is
 * set, or `OTEL_TRACES_EXPORTER` is `none`. Also read:
 * `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, the default, or
 * `http/json`), `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME` and
 * `OTEL_BSP_SCHEDULE_DELAY` (milliseconds between exports, 5000).
 */
export const tracingSettings: Config.Config<Option.Option<TracingSettings>> = Config.all({
  tracesEndpoint: Config.option(Config.nonEmptyString("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")),
  endpoint: Config.option(Config.nonEmptyString("OTEL_EXPORTER_OTLP_ENDPOINT")),
  exporter: Config.string("OTEL_TRACES_EXPORTER").pipe(Config.withDefault("otlp")),
  protocol: Config.literal("http/protobuf", "http/json")("OTEL_EXPORTER_OTLP_PROTOCOL").pipe(
    Config.withDefault("http/protobuf" as const)
  ),
  headers: Config.string("OTEL_EXPORTER_OTLP_HEADERS").pipe(Config.withDefault("")),
  serviceName,
  delay: Config.integer("OTEL_BSP_SCHEDULE_DELAY").pipe(
    Config.validate({ message: "must be a positive number of milliseconds", validation: (ms) => ms > 0 }),
    Config.withDefault(5000)
  )
}).pipe(Config.map((c) => {
  const url = Option.orElse(
    c.tracesEndpoint,
    () => Option.map(c.endpoint, (base) => `${base.replace(/\/+$/, "")}/v1/traces`)
  )
  return c.exporter.trim().toLowerCase() === "none" ? Option.none() : Option.map(url, (url): TracingSettings => ({
    url,
    protocol: c.protocol,
    headers: parseHeaders(c.headers),
    serviceName: c.serviceName,
    exportInterval: Duration.millis(c.delay)
  }))
}))

/** Sends every span (the loop's, the API's, the agents') to an OTLP/HTTP collector. */
export const layerOtlpTracing = (settings: TracingSettings): Layer.Layer<never> =>
  OtlpTracer.layer({
    url: settings.url,
    headers: settings.headers,
    resource: { serviceName: settings.serviceName },
    exportInterval: settings.exportInterval
  }).pipe(
    Layer.provide(settings.protocol === "http/json" ? OtlpSerialization.layerJson : OtlpSerialization.layerProtobuf),
    Layer.provide(FetchHttpClient.layer)
  )

/** Tracing as the environment configures it (see `tracingSettings`); nothing when it is not configured. */
export const layerTracing: Layer.Layer<never, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(tracingSettings, Option.match({ onNone: () => Layer.empty, onSome: layerOtlpTracing }))
)

// --- logs -------------------------------------------------------------------------

/**
 * How log lines are written: `logfmt` (`timestamp=… level=… message=…`) or
 * `json` (one object per line). Unset, the process keeps the logger it runs
 * with: `NodeRuntime.runMain` (the `foreman` command) writes Effect's pretty
 * lines, an embedding program whatever it chose.
 */
export type LogFormat = "logfmt" | "json"

/** `FOREMAN_LOG_FORMAT`: `logfmt` or `json`; none when unset. */
export const logFormat: Config.Config<Option.Option<LogFormat>> = Config.option(
  Config.literal("logfmt", "json")("FOREMAN_LOG_FORMAT")
)

const lineLoggers: Record<LogFormat, Logger.Logger<unknown, void>> = {
  logfmt: Logger.withConsoleLog(Logger.logfmtLogger),
  json: Logger.withConsoleLog(Logger.jsonLogger)
}

/** Writes every log line in `format`, instead of Effect's default or pretty logger. */
export const layerLogger = (format: LogFormat): Layer.Layer<never> =>
  Layer.fiberRefLocallyScopedWith(
    FiberRef.currentLoggers,
    (loggers) =>
      loggers.pipe(
        HashSet.remove(Logger.defaultLogger),
        HashSet.remove(Logger.prettyLoggerDefault),
        HashSet.add(lineLoggers[format])
      )
  )

/** The logger `FOREMAN_LOG_FORMAT` asks for; the process's own when it is unset. */
export const layerLogFormat: Layer.Layer<never, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(logFormat, Option.match({ onNone: () => Layer.empty, onSome: layerLogger }))
)

/** Tracing and the log format, from the environment: provide it around everything else so that every fiber sees both. */
export const layer: Layer.Layer<never, ConfigError.ConfigError> = Layer.merge(layerTracing, layerLogFormat)
