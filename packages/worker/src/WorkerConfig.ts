/**
 * Configuration of a worker process: every setting with its default and its
 * environment variable, in one place. `config` reads them through `Config` (the
 * environment by default), `load` completes them, `make` fixes them (tests,
 * embedding). The original system's names (`WORKER_…`, `KTRDR_…`) are accepted as
 * deprecated aliases with a warning. Invalid values fail at start with a message
 * naming the variable.
 *
 * | variable | default | deprecated aliases |
 * | --- | --- | --- |
 * | `FOREMAN_API_URL` | required | `KTRDR_API_URL` |
 * | `FOREMAN_WORKER_TYPE` | the code's type | `WORKER_TYPE`, `KTRDR_WORKER_TYPE` |
 * | `FOREMAN_WORKER_ID` | `<type>-worker-<8 hex>` | `WORKER_ID`, `KTRDR_WORKER_ID` |
 * | `FOREMAN_WORKER_PROTOCOL` | `pull` (asks the coordinator for jobs, opens no port); `push` (the legacy protocol: serves HTTP, the coordinator calls it) | |
 * | `FOREMAN_POLL_WAIT_SECONDS` | 20 (pull: how long one poll waits for a job, at most 60) | |
 * | `FOREMAN_WORKER_PORT` | 5003 (push) | `WORKER_PORT`, `KTRDR_WORKER_PORT` |
 * | `FOREMAN_WORKER_HOST` | 127.0.0.1 (push: listen address; `0.0.0.0` to take jobs from another machine) | |
 * | `FOREMAN_WORKER_ENDPOINT_URL` | `http://<public base or 127.0.0.1>:<port>` (push) | `WORKER_ENDPOINT_URL`, `KTRDR_WORKER_ENDPOINT_URL` |
 * | `FOREMAN_WORKER_PUBLIC_BASE_URL` | none (push) | `WORKER_PUBLIC_BASE_URL`, `KTRDR_WORKER_PUBLIC_BASE_URL` |
 * | `FOREMAN_WORKER_CAPACITY` | 1 (jobs at once) | `WORKER_CAPACITY` |
 * | `FOREMAN_WORKER_QUEUE_LIMIT` | capacity (push: jobs accepted, running or waiting) | |
 * | `FOREMAN_WORKER_DEVICES` | `slot-0…` one per capacity (comma list, e.g. `cuda:0,cuda:1`) | |
 * | `FOREMAN_HEARTBEAT_INTERVAL_SECONDS` | 10 (seconds, or a duration such as `500 millis`) | |
 * | `FOREMAN_WORKER_DRAIN_SECONDS` | 30 (seconds, or a duration) | |
 * | `FOREMAN_WORKER_MAX_RETRIES` | 2 (re-runs of a failed job before it is reported failed) | |
 * | `FOREMAN_WORKER_TOKEN` | none (no authentication) | |
 */
import * as Domain from "@foreman/core/Domain"
import * as ForemanConfig from "@foreman/core/ForemanConfig"
import { Config, ConfigError, Effect, Either, Option, Random, Redacted, Schema } from "effect"

/**
 * How a worker gets its jobs: `pull` asks the coordinator for them
 * (docs/worker-protocol.md); `push` serves HTTP for the coordinator to call
 * (the legacy protocol).
 */
export type Protocol = "pull" | "push"

/** A worker's settings. Durations are in seconds. */
export interface WorkerConfigShape {
  readonly id: Domain.WorkerId
  readonly type: Domain.WorkerType
  readonly protocol: Protocol
  /** How long one poll may wait for a job (pull). */
  readonly pollWaitSeconds: number
  /**
   * Address the HTTP server listens on: loopback unless told otherwise; beyond
   * loopback without a token, anyone who reaches the port can run jobs.
   */
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
  /** Jobs held at once (running or waiting); more are refused with 503 (push). */
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

/** Defaults of the settings that have one (`queueLimit` and `devices` follow the capacity). */
export const defaults = {
  protocol: "pull",
  pollWaitSeconds: 20,
  host: "127.0.0.1",
  port: 5003,
  endpointUrl: Option.none(),
  publicBaseUrl: Option.none(),
  token: Option.none(),
  capacity: 1,
  heartbeatIntervalSeconds: 10,
  drainDeadlineSeconds: 30,
  maxRetries: 2,
  registerBackoffSeconds: 1,
  registerBackoffMaxSeconds: 30,
  requestTimeoutSeconds: 5,
  capabilities: {}
} satisfies Partial<WorkerConfigShape>

/** What the code running the worker knows without the environment. */
export interface LoadOptions {
  /** The worker type when `FOREMAN_WORKER_TYPE` is not set. */
  readonly type?: string
  readonly capabilities?: Readonly<Record<string, unknown>>
}

/** What `config` reads: the settings, with no id when no variable sets one (`load` generates it). */
export type Settings = Omit<WorkerConfigShape, "id"> & { readonly id: Option.Option<Domain.WorkerId> }

const { setting, warn } = ForemanConfig.deprecatedNames({
  FOREMAN_API_URL: ["KTRDR_API_URL"],
  FOREMAN_WORKER_TYPE: ["WORKER_TYPE", "KTRDR_WORKER_TYPE"],
  FOREMAN_WORKER_ID: ["WORKER_ID", "KTRDR_WORKER_ID"],
  FOREMAN_WORKER_PORT: ["WORKER_PORT", "KTRDR_WORKER_PORT"],
  FOREMAN_WORKER_ENDPOINT_URL: ["WORKER_ENDPOINT_URL", "KTRDR_WORKER_ENDPOINT_URL"],
  FOREMAN_WORKER_PUBLIC_BASE_URL: ["WORKER_PUBLIC_BASE_URL", "KTRDR_WORKER_PUBLIC_BASE_URL"],
  FOREMAN_WORKER_CAPACITY: ["WORKER_CAPACITY"]
})

type Parsed<A> = Either.Either<A, ConfigError.ConfigError>

const invalid = ({ key, value }: ForemanConfig.Setting, expected: string) =>
  Either.left(ConfigError.InvalidData([key], `${key} must be ${expected}, got "${value}"`))

/** Fails with `message` when the setting is unset. */
const required = (name: string, message: string) => (self: Config.Config<ForemanConfig.Setting>) =>
  Config.mapOrFail(Config.option(self), Either.fromOption(() => ConfigError.MissingData([name], message)))

const httpUrl = (setting: ForemanConfig.Setting): Parsed<string> => {
  const url = URL.canParse(setting.value) ? new URL(setting.value) : undefined
  return url?.protocol === "http:" || url?.protocol === "https:"
    ? Either.right(setting.value.replace(/\/+$/, ""))
    : invalid(setting, "an http(s) URL such as http://host:8000")
}

/** The coordinator's base URL: an `/api/v1` suffix (as the original used) is dropped. */
const apiBase = (url: string): string => url.replace(/\/api\/v1$/, "")

const decodeWorkerType = Schema.decodeUnknownOption(Domain.WorkerType)
const decodeWorkerId = Schema.decodeUnknownOption(Domain.WorkerId)

const workerType = (setting: ForemanConfig.Setting): Parsed<Domain.WorkerType> =>
  Option.match(decodeWorkerType(setting.value), {
    onNone: () => invalid(setting, "a lowercase name such as training"),
    onSome: Either.right
  })

const workerId = (setting: ForemanConfig.Setting): Parsed<Domain.WorkerId> =>
  Option.match(decodeWorkerId(setting.value), {
    onNone: () => invalid(setting, "1-128 letters, digits or ._:- starting with a letter or digit"),
    onSome: Either.right
  })

const protocol = (setting: ForemanConfig.Setting): Parsed<Protocol> =>
  setting.value === "pull" || setting.value === "push" ? Either.right(setting.value) : invalid(setting, "pull or push")

const slots = (capacity: number): ReadonlyArray<string> => Array.from({ length: capacity }, (_, i) => `slot-${i}`)

const positiveInt = (n: number) => Number.isInteger(n) && n > 0

/** Capacity, queue limit and devices: the last two default to, and are checked against, the capacity. */
const pool = Config.all({
  capacity: setting("FOREMAN_WORKER_CAPACITY").pipe(
    ForemanConfig.number({ valid: (n) => positiveInt(n) && n <= 1024, expected: "an integer from 1 to 1024" }),
    Config.withDefault(defaults.capacity)
  ),
  queueLimit: Config.option(setting("FOREMAN_WORKER_QUEUE_LIMIT").pipe(
    ForemanConfig.number({ valid: positiveInt, expected: "an integer >= FOREMAN_WORKER_CAPACITY" })
  )),
  devices: Config.option(setting("FOREMAN_WORKER_DEVICES").pipe(
    Config.mapOrFail((devices) => {
      const list = devices.value.split(",").map((d) => d.trim()).filter((d) => d !== "")
      return list.length > 0
        ? Either.right(list)
        : Either.left(ConfigError.InvalidData([devices.key], `${devices.key} must list at least one device`))
    })
  ))
}).pipe(Config.mapOrFail(({ capacity, devices, queueLimit }) => {
  const limit = Option.getOrElse(queueLimit, () => capacity)
  return limit < capacity
    ? invalid({ key: "FOREMAN_WORKER_QUEUE_LIMIT", value: String(limit) }, `an integer >= FOREMAN_WORKER_CAPACITY (${capacity})`)
    : Either.right({ capacity, queueLimit: limit, devices: Option.getOrElse(devices, () => slots(capacity)) })
}))

/** `FOREMAN_WORKER_TOKEN`, the bearer token shared by the coordinator and its workers (empty = unset). */
export const tokenConfig: Config.Config<Option.Option<Redacted.Redacted>> = Config.option(
  Config.map(setting("FOREMAN_WORKER_TOKEN"), (token) => Redacted.make(token.value))
)

/** Every setting, from the current `ConfigProvider`; `options` supply the type and capabilities. */
export const config = (options: LoadOptions = {}): Config.Config<Settings> =>
  Config.all({
    apiUrl: setting("FOREMAN_API_URL").pipe(
      required("FOREMAN_API_URL", "FOREMAN_API_URL is required: the coordinator's URL, e.g. http://coordinator:8000"),
      Config.mapOrFail((url) => Either.map(httpUrl(url), apiBase))
    ),
    type: setting("FOREMAN_WORKER_TYPE").pipe(
      options.type === undefined
        ? required("FOREMAN_WORKER_TYPE", "FOREMAN_WORKER_TYPE is required: the kind of jobs this worker runs, e.g. training")
        : Config.withDefault({ key: "FOREMAN_WORKER_TYPE", value: options.type }),
      Config.mapOrFail(workerType)
    ),
    id: Config.option(Config.mapOrFail(setting("FOREMAN_WORKER_ID"), workerId)),
    protocol: setting("FOREMAN_WORKER_PROTOCOL").pipe(Config.mapOrFail(protocol), Config.withDefault(defaults.protocol)),
    pollWaitSeconds: setting("FOREMAN_POLL_WAIT_SECONDS").pipe(
      ForemanConfig.seconds({ valid: (n) => n > 0 && n <= 60, expected: "a number > 0 and at most 60" }),
      Config.withDefault(defaults.pollWaitSeconds)
    ),
    port: setting("FOREMAN_WORKER_PORT").pipe(
      ForemanConfig.number({ valid: (n) => Number.isInteger(n) && n >= 0 && n <= 65535, expected: "a port number 0-65535" }),
      Config.withDefault(defaults.port)
    ),
    host: setting("FOREMAN_WORKER_HOST").pipe(Config.map((host) => host.value), Config.withDefault(defaults.host)),
    endpointUrl: Config.option(Config.mapOrFail(setting("FOREMAN_WORKER_ENDPOINT_URL"), httpUrl)),
    publicBaseUrl: Config.option(Config.mapOrFail(
      setting("FOREMAN_WORKER_PUBLIC_BASE_URL"),
      (base) => base.value.includes("://") ? httpUrl(base) : Either.right(base.value.replace(/\/+$/, ""))
    )),
    pool,
    heartbeatIntervalSeconds: setting("FOREMAN_HEARTBEAT_INTERVAL_SECONDS").pipe(
      ForemanConfig.seconds({ valid: (n) => Number.isFinite(n) && n > 0, expected: "a number > 0" }),
      Config.withDefault(defaults.heartbeatIntervalSeconds)
    ),
    drainDeadlineSeconds: setting("FOREMAN_WORKER_DRAIN_SECONDS").pipe(
      ForemanConfig.seconds({ valid: (n) => Number.isFinite(n) && n >= 0, expected: "a number >= 0" }),
      Config.withDefault(defaults.drainDeadlineSeconds)
    ),
    maxRetries: setting("FOREMAN_WORKER_MAX_RETRIES").pipe(
      ForemanConfig.number({ valid: (n) => Number.isInteger(n) && n >= 0, expected: "an integer >= 0" }),
      Config.withDefault(defaults.maxRetries)
    ),
    token: tokenConfig
  }).pipe(Config.map(({ pool, ...settings }) => ({
    ...defaults,
    ...settings,
    ...pool,
    capabilities: options.capabilities ?? defaults.capabilities
  })))

/** `<type>-worker-<8 hex>` from `Random`. */
export const generateId = (type: string): Effect.Effect<Domain.WorkerId> =>
  Effect.map(
    Effect.all(Array.from({ length: 4 }, () => Random.nextIntBetween(0, 256))),
    (bytes) => `${type}-worker-${bytes.map((b) => b.toString(16).padStart(2, "0")).join("")}` as Domain.WorkerId
  )

/** Reads `config`, warns about each deprecated name it used, and generates the id when none is set. */
export const load = (options: LoadOptions = {}): Effect.Effect<WorkerConfigShape, ConfigError.ConfigError> =>
  Effect.gen(function*() {
    const { id, ...settings } = yield* config(options)
    yield* warn
    return { ...settings, id: Option.isSome(id) ? id.value : yield* generateId(settings.type) }
  })

/** The URL the coordinator reaches this (push) worker at, given the port it listens on. */
export const endpointUrl = (config: WorkerConfigShape, port: number): string =>
  Option.getOrElse(config.endpointUrl, () =>
    Option.match(config.publicBaseUrl, {
      onNone: () => `http://127.0.0.1:${port}`,
      onSome: (base) => (base.includes("://") ? base : `http://${base}:${port}`)
    }))

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
    ...defaults,
    queueLimit: capacity,
    devices: slots(capacity),
    ...settings,
    capacity,
    id: Schema.decodeSync(Domain.WorkerId)(settings.id ?? `${settings.type}-worker-00000000`),
    type: Schema.decodeSync(Domain.WorkerType)(settings.type),
    apiUrl: apiBase(settings.apiUrl.replace(/\/+$/, ""))
  }
}
