/**
 * `foreman server`: the coordinator and its HTTP API (`Server.layer`:
 * PostgreSQL, embedded unless `DATABASE_URL` is set), optionally with example
 * workers as child processes (TypeScript, or the repository's Python ones with
 * `--worker-runtime python`). Its options are here; the server, the database
 * adapter and the agents load only when the command runs (`serverRun.ts`).
 */
import { Command, Options } from "@effect/cli"
import { Config, Effect, Option } from "effect"
import { invalid, json, lazy, parsePairs } from "../internal/shared.js"
import type { WorkerCount } from "../LocalWorkers.js"

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
      return Effect.succeed({ type, count } satisfies WorkerCount)
    }))

/** The port the server listens on when neither `--port` nor `FOREMAN_PORT` is given. */
export const defaultPort = 8000

/** A port from 0 (any free one) to 65535, else a usage error naming where it came from. */
const checkPort = (port: number, text: string, source: string) =>
  Number.isInteger(port) && port >= 0 && port <= 65535
    ? Effect.succeed(port)
    : Effect.fail(invalid(`${source} must be a port number from 0 to 65535, got "${text}"`))

export const server = Command.make(
  "server",
  {
    json,
    host: Options.text("host").pipe(
      Options.withFallbackConfig(Config.string("FOREMAN_HOST")),
      Options.optional,
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
    idempotencyKeyTtl: Options.integer("idempotency-key-ttl").pipe(
      Options.optional,
      Options.mapEffect(Option.match({
        onNone: () => Effect.succeed(Option.none<number>()),
        onSome: (seconds) =>
          seconds > 0
            ? Effect.succeed(Option.some(seconds))
            : Effect.fail(invalid(`--idempotency-key-ttl must be a number of seconds > 0, got ${seconds}`))
      })),
      Options.withDescription(
        "How long a trigger's Idempotency-Key is kept, in seconds (env FOREMAN_IDEMPOTENCY_KEY_TTL_SECONDS; " +
          "default 86400)"
      )
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
  (o) => Effect.flatMap(lazy(() => import("./serverRun.js")), (run) => run.server(o))
).pipe(Command.withDescription("Run the coordinator and its HTTP API, optionally with local example workers"))
