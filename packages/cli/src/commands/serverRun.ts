/**
 * What `foreman server` does once its options are parsed: checks the settings
 * (a public host needs tokens), starts the coordinator and its HTTP API on
 * PostgreSQL (embedded unless `DATABASE_URL` is set) with the agents the
 * environment names, prints where it listens, then its activity, and runs the
 * local workers until Ctrl+C or SIGTERM stops them (they drain), then the
 * server. Bad settings are refused before the database starts. With `--json`,
 * stdout carries only the JSON line; logs and the workers' output go to stderr.
 */
import { HttpServer } from "@effect/platform"
import { PlanCurves } from "@foreman/adapter-memory"
import { Postgres } from "@foreman/adapter-postgres"
import { Providers } from "@foreman/agents"
import { ApiServer, Server } from "@foreman/server"
import { Coordinator, CoordinatorEvents, ForemanConfig } from "@foreman/core"
import { ConfigError, Console, Context, Effect, Layer, Option, Queue } from "effect"
import { CommandFailed, UsageError } from "../Client.js"
import * as Format from "../Format.js"
import { configMessage, jsonOnStdout } from "../internal/shared.js"
import * as LocalWorkers from "../LocalWorkers.js"
import { defaultPort } from "./server.js"

/** Whether a failure to listen came from the port being taken (the system's code is on the cause). */
const addressInUse = (error: unknown): boolean =>
  /EADDRINUSE/.test(String(error)) ||
  (typeof error === "object" && error !== null && "cause" in error && /EADDRINUSE/.test(String(error.cause)))

/** Where the engine's variables are told. */
const configurationHint = "See docs/configuration.md for the variables"

/** One line (and a hint) for each way the server can fail to start. */
const startFailure = (
  host: string,
  port: number,
  error: { readonly _tag: string; readonly message: string }
): CommandFailed | UsageError => {
  if (ConfigError.isConfigError(error)) return new UsageError({ message: configMessage(error), hints: [configurationHint] })
  const text = error.message !== "" ? error.message : error._tag
  switch (error._tag) {
    case "ServeError":
      return new CommandFailed({
        message: `Cannot listen on ${host}:${port} (${addressInUse(error) ? "address in use" : text})`,
        hints: [`Another process uses port ${port}: stop it, or pass --port (or set FOREMAN_PORT)`]
      })
    case "InsecureBind":
      return new CommandFailed({ message: text, hints: [] })
    default:
      return new CommandFailed({
        message: `Cannot start the database: ${text}`,
        hints: ["Set DATABASE_URL to an existing PostgreSQL, or check the embedded database in FOREMAN_DATA_DIR"]
      })
  }
}

/** Prints a line for every trigger, job start and move between phases, with the time of day. */
const printActivity = (context: Context.Context<Coordinator.Coordinator | CoordinatorEvents.CoordinatorEvents>) =>
  Effect.gen(function*() {
    const coordinator = Context.get(context, Coordinator.Coordinator)
    const events = yield* Context.get(context, CoordinatorEvents.CoordinatorEvents).subscribe
    const strategies = new Map<string, string>()
    return yield* Effect.forever(Effect.gen(function*() {
      const event = yield* Queue.take(events)
      if (event._tag === "Transition" && !strategies.has(event.researchId)) {
        const shown = yield* Effect.option(coordinator.show(event.researchId))
        const name = Option.getOrUndefined(shown)?.research.strategy?.name
        if (name !== undefined) strategies.set(event.researchId, name)
      }
      const line = CoordinatorEvents.describe(event, (id) => strategies.get(id))
      if (line !== null) yield* Console.log(`[${new Date(event.at).toTimeString().slice(0, 8)}] ${Format.oneLine(line)}`)
    }))
  })

/** Agents that cannot start: a setting missing or wrong (a usage error), or a key the provider refused. */
const agentsFailure = (error: ConfigError.ConfigError | Providers.KeyRefused) => {
  const hints = ["See docs/agents.md for FOREMAN_LLM_PROVIDER, FOREMAN_LLM_MODEL and the API keys"]
  return error._tag === "KeyRefused"
    ? new CommandFailed({ message: error.message, hints })
    : new UsageError({ message: configMessage(error), hints })
}

const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(host)

/**
 * A host beyond loopback without tokens is refused here, before the database
 * starts, as the API server would refuse it (`ApiServer.InsecureBind`) after:
 * a usage error, as if the option had been refused when it was parsed.
 */
const checkHost = (host: string): Effect.Effect<void, UsageError> =>
  Effect.flatMap(
    Effect.orElseSucceed(ApiServer.tokensConfig, () => ({ operator: Option.none(), worker: Option.none() })),
    (tokens) =>
      Option.isNone(tokens.operator) && Option.isNone(tokens.worker) && !isLoopback(host)
        ? Effect.fail(
          new UsageError({ message: `--host (or FOREMAN_HOST): ${new ApiServer.InsecureBind({ host }).message}`, hints: [] })
        )
        : Effect.void
  )

const loopbackHost = (host: string) => (host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host)

/** The options of `foreman server`, parsed. */
export interface ServerOptions {
  readonly json: boolean
  readonly host: Option.Option<string>
  readonly port: number
  /** Overrides `FOREMAN_IDEMPOTENCY_KEY_TTL_SECONDS`. */
  readonly idempotencyKeyTtl: Option.Option<number>
  readonly localWorkers: ReadonlyArray<LocalWorkers.WorkerCount>
  readonly workerRuntime: "typescript" | "python"
}

/** Runs the coordinator (and the local workers) until interrupted. */
export const server = (o: ServerOptions): Effect.Effect<never, CommandFailed | UsageError> =>
  jsonOnStdout(o.json, (stdout) =>
    Effect.scoped(Effect.gen(function*() {
      if (Option.isSome(o.host)) yield* checkHost(o.host.value)
      // The engine's settings (budget, intervals, gates…), checked before the database starts.
      yield* Effect.mapError(ForemanConfig.config, (error) =>
        new UsageError({ message: configMessage(error), hints: [configurationHint] }))
      // The connection limits (FOREMAN_HEADERS_TIMEOUT_SECONDS, …), checked the same way.
      const limits = yield* Effect.mapError(Server.limitsFromEnv, (error) =>
        new UsageError({ message: configMessage(error), hints: [configurationHint] }))
      const workers = o.localWorkers.filter((w) => w.count > 0)
      // Checked before anything starts: a missing Python is one line, not a server with workers that die.
      const runtime: LocalWorkers.Runtime = o.workerRuntime === "python" && workers.length > 0
        ? yield* LocalWorkers.python(workers.map((w) => w.type)).pipe(
          Effect.mapError((error) => new CommandFailed({ message: error.message, hints: [] }))
        )
        : { _tag: "TypeScript" }
      const host = Option.getOrUndefined(o.host)
      const agents = yield* Providers.fromConfig().pipe(Effect.mapError(agentsFailure))
      const context = yield* Layer.build(
        Server.layer({
          host,
          port: o.port,
          ...limits,
          storage: Postgres.layerFromEnv(),
          agents: agents.layer,
          ...Option.match(o.idempotencyKeyTtl, {
            onNone: () => ({}),
            onSome: (seconds) => ({
              config: Layer.effect(
                ForemanConfig.ForemanConfig,
                Effect.map(ForemanConfig.load, (config) => ({ ...config, idempotencyKeyTtlSeconds: seconds }))
              )
            })
          })
        }).pipe(Layer.provide(PlanCurves.layer())) // GET /plan and the dashboard's Plan page: simulations on worker threads
      ).pipe(
        Effect.mapError((error) => startFailure(host ?? "127.0.0.1", o.port, error))
      )
      const address = Context.get(context, HttpServer.HttpServer).address
      const port = address._tag === "TcpAddress" ? address.port : o.port
      const base = `http://${loopbackHost(address._tag === "TcpAddress" ? address.hostname : "127.0.0.1")}:${port}`
      const next = `npx foreman agent trigger --brief "Explore RSI variations"`
      yield* o.json
        ? stdout.log(JSON.stringify({
          apiUrl: base,
          docsUrl: `${base}/docs`,
          agents: { provider: agents.provider, model: agents.model, description: agents.description },
          localWorkers: workers,
          workerRuntime: o.workerRuntime
        }))
        : Console.log([
          `Foreman coordinator running`,
          `  API:   ${base}  (endpoints under /api/v1)`,
          `  Docs:  ${base}/docs`,
          `  Agents: ${agents.description}`,
          ...(agents.provider === "offline"
            ? [`          set ANTHROPIC_API_KEY or OPENAI_API_KEY to design with a model (docs/agents.md)`]
            : []),
          ...(port === defaultPort ? [] : [`  Point the CLI at it: export FOREMAN_API_URL=${base}`]),
          `  Next:  ${next}`,
          `Ctrl+C stops it.`
        ].join("\n"))
      if (!o.json) yield* Effect.forkScoped(printActivity(context))
      if (workers.length > 0) yield* LocalWorkers.start({ apiUrl: base, workers, runtime })
      return yield* Effect.never
    }))
  )
