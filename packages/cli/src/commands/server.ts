/**
 * `foreman server`: the coordinator and its HTTP API (`Server.layer`:
 * PostgreSQL, embedded unless `DATABASE_URL` is set), optionally with example
 * workers as child processes (TypeScript, or the repository's Python ones with
 * `--worker-runtime python`). Ctrl+C or SIGTERM stops the workers (they
 * drain), then the server. Bad settings are refused before the database
 * starts. With `--json`, stdout carries only the JSON line; logs and the
 * workers' output go to stderr.
 */
import { Command, Options } from "@effect/cli"
import { HttpServer } from "@effect/platform"
import { Postgres } from "@foreman/adapter-postgres"
import { Providers } from "@foreman/agents"
import { ApiServer, Server } from "@foreman/server"
import { Coordinator, CoordinatorEvents, ForemanConfig } from "@foreman/core"
import { Config, ConfigError, Console, Context, Effect, Layer, Option, Queue } from "effect"
import { CommandFailed, UsageError } from "../Client.js"
import * as Format from "../Format.js"
import { configMessage, invalid, json, jsonOnStdout, parsePairs } from "../internal/shared.js"
import * as LocalWorkers from "../LocalWorkers.js"

const workerTypes = ["training", "backtest"]

/** Parses `training=2,backtest=1`: known types, each once, counts 0–32. */
export const parseLocalWorkers = (text: string) =>
  Effect.flatMap(parsePairs(text, "--local-workers"), (pairs) =>
    Effect.forEach(pairs, ([type, raw]) => {
      const count = /^\d+$/.test(raw) ? Number(raw) : Number.NaN
      if (!workerTypes.includes(type)) {
        return Effect.fail(invalid(`--local-workers: unknown worker type "${type}"; use ${workerTypes.join(" or ")}`))
      }
      if (!Number.isInteger(count) || count > 32) {
        return Effect.fail(invalid(`--local-workers: ${type} needs a count from 0 to 32, got "${raw}"`))
      }
      return Effect.succeed({ type, count } satisfies LocalWorkers.WorkerCount)
    }))

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

const defaultPort = 8000

/** A port from 0 (any free one) to 65535, else a usage error naming where it came from. */
const checkPort = (port: number, text: string, source: string) =>
  Number.isInteger(port) && port >= 0 && port <= 65535
    ? Effect.succeed(port)
    : Effect.fail(invalid(`${source} must be a port number from 0 to 65535, got "${text}"`))

const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(host)

/**
 * A host beyond loopback without tokens is refused here, before the database
 * starts, as the API server would refuse it (`ApiServer.InsecureBind`) after.
 */
const checkHost = (host: string) =>
  Effect.flatMap(
    Effect.orElseSucceed(ApiServer.tokensConfig, () => ({ operator: Option.none(), worker: Option.none() })),
    (tokens) =>
      Option.isNone(tokens.operator) && Option.isNone(tokens.worker) && !isLoopback(host)
        ? Effect.fail(invalid(`--host (or FOREMAN_HOST): ${new ApiServer.InsecureBind({ host }).message}`))
        : Effect.succeed(Option.some(host))
  )

const loopbackHost = (host: string) => (host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host)

export const server = Command.make(
  "server",
  {
    json,
    host: Options.text("host").pipe(
      Options.withFallbackConfig(Config.string("FOREMAN_HOST")),
      Options.optional,
      Options.mapEffect(Option.match({ onNone: () => Effect.succeedNone, onSome: checkHost })),
      Options.withDescription(
        "Address to listen on (env FOREMAN_HOST; default 0.0.0.0 with tokens configured, else 127.0.0.1)"
      )
    ),
    port: Options.integer("port").pipe(
      Options.optional,
      Options.mapEffect(Option.match({
        onSome: (port) => checkPort(port, String(port), "--port"),
        onNone: () =>
          Effect.flatMap(
            Effect.orElseSucceed(Config.option(Config.string("FOREMAN_PORT")), () => Option.none<string>()),
            Option.match({
              onNone: () => Effect.succeed(defaultPort),
              onSome: (text) => checkPort(/^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN, text, "FOREMAN_PORT")
            })
          )
      })),
      Options.withDescription(`Port to listen on, 0 = any free port (env FOREMAN_PORT; default ${defaultPort})`)
    ),
    localWorkers: Options.text("local-workers").pipe(
      Options.withFallbackConfig(Config.string("FOREMAN_LOCAL_WORKERS")),
      Options.optional,
      Options.mapEffect(Option.match({ onNone: () => Effect.succeed([]), onSome: parseLocalWorkers })),
      Options.withDescription(
        "Also run example workers as child processes, e.g. training=2,backtest=1 (env FOREMAN_LOCAL_WORKERS)"
      )
    ),
    workerRuntime: Options.choice("worker-runtime", ["typescript", "python"]).pipe(
      Options.withDefault("typescript" as const),
      Options.withDescription(
        "The local workers' language: typescript (default), or python, the repository's examples/python workers " +
          "under FOREMAN_PYTHON or a python3 with scikit-learn and pandas"
      )
    )
  },
  (o) =>
    jsonOnStdout(o.json, (stdout) =>
      Effect.scoped(Effect.gen(function*() {
        // The engine's settings (budget, intervals, gates…), checked before the database starts.
        yield* Effect.mapError(ForemanConfig.config, (error) =>
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
          Server.layer({ host, port: o.port, storage: Postgres.layerFromEnv(), agents: agents.layer })
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
).pipe(Command.withDescription("Run the coordinator and its HTTP API, optionally with local example workers"))
