/**
 * Configuration of a worker process, read through `Config` (the environment by
 * default). Preferred `FOREMAN_…` names come first; the original system's names
 * (`WORKER_…`, `KTRDR_…`) are accepted as deprecated aliases with a warning.
 * Invalid values fail at start with a message naming the variable.
 *
 * | variable | default | deprecated aliases |
 * | --- | --- | --- |
 * | `FOREMAN_API_URL` | required | `KTRDR_API_URL` |
 * | `FOREMAN_WORKER_TYPE` | the code's type | `WORKER_TYPE`, `KTRDR_WORKER_TYPE` |
 * | `FOREMAN_WORKER_ID` | `<type>-worker-<8 hex>` | `WORKER_ID`, `KTRDR_WORKER_ID` |
 * | `FOREMAN_WORKER_PORT` | 5003 | `WORKER_PORT`, `KTRDR_WORKER_PORT` |
 * | `FOREMAN_WORKER_HOST` | 0.0.0.0 (listen address) | |
 * | `FOREMAN_WORKER_ENDPOINT_URL` | `http://<public base or 127.0.0.1>:<port>` | `WORKER_ENDPOINT_URL`, `KTRDR_WORKER_ENDPOINT_URL` |
 * | `FOREMAN_WORKER_PUBLIC_BASE_URL` | none | `WORKER_PUBLIC_BASE_URL`, `KTRDR_WORKER_PUBLIC_BASE_URL` |
 * | `FOREMAN_WORKER_CAPACITY` | 1 (jobs at once) | `WORKER_CAPACITY` |
 * | `FOREMAN_WORKER_QUEUE_LIMIT` | capacity (jobs accepted, running or waiting) | |
 * | `FOREMAN_WORKER_DEVICES` | `slot-0…` one per capacity (comma list, e.g. `cuda:0,cuda:1`) | |
 * | `FOREMAN_HEARTBEAT_INTERVAL_SECONDS` | 10 | |
 * | `FOREMAN_WORKER_DRAIN_SECONDS` | 30 | |
 * | `FOREMAN_WORKER_MAX_RETRIES` | 2 (re-runs of a failed job before it is reported failed) | |
 * | `FOREMAN_WORKER_TOKEN` | none (no authentication) | |
 */
import { Domain, ForemanConfig } from "@foreman/core"
import { Config, ConfigError, Effect, Option, Random, Redacted, Schema } from "effect"

/** A worker's settings. Durations are in seconds. */
export interface WorkerConfigShape {
  readonly id: Domain.WorkerId
  readonly type: Domain.WorkerType
  /** Address the HTTP server listens on. */
  readonly host: string
  /** Port the HTTP server listens on; 0 lets the system choose. */
  readonly port: number
  /** Where the coordinator reaches this worker, when set explicitly. */
  readonly endpointUrl: Option.Option<string>
  /** Public host (or base URL) the default endpoint is built from. */
  readonly publicBaseUrl: Option.Option<string>
  /** The coordinator's base URL, without `/api/v1`. */
  readonly apiUrl: string
  /** Shared bearer token between the coordinator and its workers. */
  readonly token: Option.Option<Redacted.Redacted>
  /** Jobs running at once. */
  readonly capacity: number
  /** Jobs held at once (running or waiting); more are refused with 503. */
  readonly queueLimit: number
  /** Resources jobs borrow one at a time (GPU devices, slots). */
  readonly devices: ReadonlyArray<string>
  readonly heartbeatIntervalSeconds: number
  /** On shutdown, how long running jobs get to finish before they are interrupted. */
  readonly drainDeadlineSeconds: number
  /** Re-runs of a failed job (at the queue level) before it is reported failed. */
  readonly maxRetries: number
  /** First pause before registering again after a failure; doubles up to the maximum. */
  readonly registerBackoffSeconds: number
  readonly registerBackoffMaxSeconds: number
  /** Time limit of one request to the coordinator. */
  readonly requestTimeoutSeconds: number
  /** Sent with the registration (e.g. `{ gpu: true, gpuCount: 2 }`). */
  readonly capabilities: Readonly<Record<string, unknown>>
}

/** Defaults of the settings that have one. */
export const defaults = {
  host: "0.0.0.0",
  port: 5003,
  capacity: 1,
  heartbeatIntervalSeconds: 10,
  drainDeadlineSeconds: 30,
  maxRetries: 2,
  registerBackoffSeconds: 1,
  registerBackoffMaxSeconds: 30,
  requestTimeoutSeconds: 5
} as const

/** What the code running the worker knows without the environment. */
export interface LoadOptions {
  /** The worker type when `FOREMAN_WORKER_TYPE` is not set. */
  readonly type?: string
  readonly capabilities?: Readonly<Record<string, unknown>>
}

const invalid = (key: string, message: string) => ConfigError.InvalidData([key], message)

/**
 * Reads a string from `name`, else from the first deprecated alias present
 * (logging a warning), else none. Empty values count as not set.
 */
export const stringWithAliases = (
  name: string,
  aliases: ReadonlyArray<string> = []
): Effect.Effect<Option.Option<{ readonly key: string; readonly value: string }>, ConfigError.ConfigError> =>
  Effect.gen(function*() {
    for (const key of [name, ...aliases]) {
      const raw = yield* Config.option(Config.string(key))
      if (Option.isNone(raw) || raw.value.trim() === "") continue
      if (key !== name) yield* Effect.logWarning(`${key} is deprecated; set ${name} instead`)
      return Option.some({ key, value: raw.value.trim() })
    }
    return Option.none()
  })

const httpUrl = (key: string, value: string): Effect.Effect<string, ConfigError.ConfigError> => {
  const message = `${key} must be an http(s) URL such as http://host:8000, got "${value}"`
  if (!URL.canParse(value)) return Effect.fail(invalid(key, message))
  const url = new URL(value)
  if (url.protocol !== "http:" && url.protocol !== "https:") return Effect.fail(invalid(key, message))
  return Effect.succeed(value.replace(/\/+$/, ""))
}

/** The coordinator's base URL: an `/api/v1` suffix (as the original used) is dropped. */
const apiBase = (url: string): string => url.replace(/\/api\/v1$/, "")

const decodeWorkerId = Schema.decodeUnknownOption(Domain.WorkerId)
const decodeWorkerType = Schema.decodeUnknownOption(Domain.WorkerType)

const positiveInt = (n: number) => Number.isInteger(n) && n > 0
const nonNegativeInt = (n: number) => Number.isInteger(n) && n >= 0
const positive = (n: number) => Number.isFinite(n) && n > 0

/** `<type>-worker-<8 hex>` from `Random`. */
export const generateId = (type: string): Effect.Effect<Domain.WorkerId> =>
  Effect.map(
    Effect.all(Array.from({ length: 4 }, () => Random.nextIntBetween(0, 256))),
    (bytes) => `${type}-worker-${bytes.map((b) => b.toString(16).padStart(2, "0")).join("")}` as Domain.WorkerId
  )

/** The URL the coordinator reaches this worker at, given the port it listens on. */
export const endpointUrl = (config: WorkerConfigShape, port: number): string =>
  Option.getOrElse(config.endpointUrl, () =>
    Option.match(config.publicBaseUrl, {
      onNone: () => `http://127.0.0.1:${port}`,
      onSome: (base) => (base.includes("://") ? base : `http://${base}:${port}`)
    }))

/** Loads the worker's configuration from the current `ConfigProvider`. */
export const load = (options: LoadOptions = {}): Effect.Effect<WorkerConfigShape, ConfigError.ConfigError> =>
  Effect.gen(function*() {
    const api = yield* stringWithAliases("FOREMAN_API_URL", ["KTRDR_API_URL"])
    if (Option.isNone(api)) {
      return yield* Effect.fail(ConfigError.MissingData(
        ["FOREMAN_API_URL"],
        "FOREMAN_API_URL is required: the coordinator's URL, e.g. http://coordinator:8000"
      ))
    }
    const apiUrl = apiBase(yield* httpUrl(api.value.key, api.value.value))

    const typeSetting = yield* stringWithAliases("FOREMAN_WORKER_TYPE", ["WORKER_TYPE", "KTRDR_WORKER_TYPE"])
    const typeKey = Option.match(typeSetting, { onNone: () => "FOREMAN_WORKER_TYPE", onSome: (s) => s.key })
    const typeValue = Option.match(typeSetting, { onNone: () => options.type, onSome: (s) => s.value })
    if (typeValue === undefined) {
      return yield* Effect.fail(ConfigError.MissingData(
        ["FOREMAN_WORKER_TYPE"],
        "FOREMAN_WORKER_TYPE is required: the kind of jobs this worker runs, e.g. training"
      ))
    }
    const type = yield* Option.match(decodeWorkerType(typeValue), {
      onNone: () => Effect.fail(invalid(typeKey, `${typeKey} must be a lowercase name such as training, got "${typeValue}"`)),
      onSome: Effect.succeed
    })

    const idSetting = yield* stringWithAliases("FOREMAN_WORKER_ID", ["WORKER_ID", "KTRDR_WORKER_ID"])
    const id = yield* Option.match(idSetting, {
      onNone: () => generateId(type),
      onSome: ({ key, value }) =>
        Option.match(decodeWorkerId(value), {
          onNone: () =>
            Effect.fail(invalid(key, `${key} must be 1-128 letters, digits or ._:- starting with a letter or digit, got "${value}"`)),
          onSome: Effect.succeed
        })
    })

    const port = yield* ForemanConfig.numberWithAliases(
      "FOREMAN_WORKER_PORT",
      ["WORKER_PORT", "KTRDR_WORKER_PORT"],
      defaults.port,
      (n) => Number.isInteger(n) && n >= 0 && n <= 65535,
      "a port number 0-65535"
    )
    const host = Option.match(yield* stringWithAliases("FOREMAN_WORKER_HOST"), {
      onNone: () => defaults.host,
      onSome: (s) => s.value
    })
    const endpoint = yield* stringWithAliases("FOREMAN_WORKER_ENDPOINT_URL", [
      "WORKER_ENDPOINT_URL",
      "KTRDR_WORKER_ENDPOINT_URL"
    ])
    const endpointUrl = Option.isSome(endpoint)
      ? Option.some(yield* httpUrl(endpoint.value.key, endpoint.value.value))
      : Option.none()
    const base = yield* stringWithAliases("FOREMAN_WORKER_PUBLIC_BASE_URL", [
      "WORKER_PUBLIC_BASE_URL",
      "KTRDR_WORKER_PUBLIC_BASE_URL"
    ])
    const publicBaseUrl = Option.isSome(base)
      ? Option.some(
        base.value.value.includes("://")
          ? yield* httpUrl(base.value.key, base.value.value)
          : base.value.value.replace(/\/+$/, "")
      )
      : Option.none()

    const capacity = yield* ForemanConfig.numberWithAliases(
      "FOREMAN_WORKER_CAPACITY",
      ["WORKER_CAPACITY"],
      defaults.capacity,
      (n) => positiveInt(n) && n <= 1024,
      "an integer from 1 to 1024"
    )
    const queueLimit = yield* ForemanConfig.numberWithAliases(
      "FOREMAN_WORKER_QUEUE_LIMIT",
      [],
      capacity,
      (n) => positiveInt(n) && n >= capacity,
      `an integer >= FOREMAN_WORKER_CAPACITY (${capacity})`
    )
    const devicesSetting = yield* stringWithAliases("FOREMAN_WORKER_DEVICES")
    const devices = Option.match(devicesSetting, {
      onNone: () => Array.from({ length: capacity }, (_, i) => `slot-${i}`),
      onSome: (s) => s.value.split(",").map((d) => d.trim()).filter((d) => d !== "")
    })
    if (devices.length === 0) {
      return yield* Effect.fail(invalid("FOREMAN_WORKER_DEVICES", "FOREMAN_WORKER_DEVICES must list at least one device"))
    }

    const heartbeatIntervalSeconds = yield* ForemanConfig.numberWithAliases(
      "FOREMAN_HEARTBEAT_INTERVAL_SECONDS",
      [],
      defaults.heartbeatIntervalSeconds,
      positive,
      "a number > 0"
    )
    const drainDeadlineSeconds = yield* ForemanConfig.numberWithAliases(
      "FOREMAN_WORKER_DRAIN_SECONDS",
      [],
      defaults.drainDeadlineSeconds,
      (n) => Number.isFinite(n) && n >= 0,
      "a number >= 0"
    )
    const maxRetries = yield* ForemanConfig.numberWithAliases(
      "FOREMAN_WORKER_MAX_RETRIES",
      [],
      defaults.maxRetries,
      nonNegativeInt,
      "an integer >= 0"
    )
    const token = yield* tokenConfig

    return {
      id,
      type,
      host,
      port,
      endpointUrl,
      publicBaseUrl,
      apiUrl,
      token,
      capacity,
      queueLimit,
      devices,
      heartbeatIntervalSeconds,
      drainDeadlineSeconds,
      maxRetries,
      registerBackoffSeconds: defaults.registerBackoffSeconds,
      registerBackoffMaxSeconds: defaults.registerBackoffMaxSeconds,
      requestTimeoutSeconds: defaults.requestTimeoutSeconds,
      capabilities: options.capabilities ?? {}
    } satisfies WorkerConfigShape
  })

/** `FOREMAN_WORKER_TOKEN`, the bearer token shared by the coordinator and its workers (empty = unset). */
export const tokenConfig: Effect.Effect<Option.Option<Redacted.Redacted>, ConfigError.ConfigError> = Effect.map(
  stringWithAliases("FOREMAN_WORKER_TOKEN"),
  Option.map((s) => Redacted.make(s.value))
)

/** Settings from values (tests, embedding): `type` and `apiUrl` are required, the rest defaults. */
export const make = (
  settings: Partial<Omit<WorkerConfigShape, "id" | "type">> & {
    readonly type: string
    readonly apiUrl: string
    readonly id?: string
  }
): WorkerConfigShape => {
  const capacity = settings.capacity ?? defaults.capacity
  return {
    host: defaults.host,
    port: defaults.port,
    endpointUrl: Option.none(),
    publicBaseUrl: Option.none(),
    token: Option.none(),
    queueLimit: settings.queueLimit ?? capacity,
    devices: Array.from({ length: capacity }, (_, i) => `slot-${i}`),
    heartbeatIntervalSeconds: defaults.heartbeatIntervalSeconds,
    drainDeadlineSeconds: defaults.drainDeadlineSeconds,
    maxRetries: defaults.maxRetries,
    registerBackoffSeconds: defaults.registerBackoffSeconds,
    registerBackoffMaxSeconds: defaults.registerBackoffMaxSeconds,
    requestTimeoutSeconds: defaults.requestTimeoutSeconds,
    capabilities: {},
    ...settings,
    capacity,
    id: Schema.decodeSync(Domain.WorkerId)(settings.id ?? `${settings.type}-worker-00000000`),
    type: Schema.decodeSync(Domain.WorkerType)(settings.type),
    apiUrl: apiBase(settings.apiUrl.replace(/\/+$/, ""))
  }
}
