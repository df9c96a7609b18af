/**
 * What `foreman worker` does once its options are parsed: loads the worker
 * function (an example worker, or the user's module), reads its settings
 * (flags over the environment) and runs it in a `WorkerHost` until stopped.
 */
import { exampleCapabilities, exampleWorkers } from "@foreman/examples/workers"
import { WorkerConfig, WorkerHost } from "@foreman/worker"
import { Config, ConfigProvider, Console, Duration, Effect, Layer, Option } from "effect"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { CommandFailed, defaultApiUrl, messageOf, UsageError } from "../Client.js"
import { configMessage, jsonOnStdout } from "../internal/shared.js"
import { exampleTypes } from "./worker.js"

const isExampleType = (type: string): type is keyof typeof exampleWorkers => Object.hasOwn(exampleWorkers, type)

/** TypeScript modules load through tsx (only then: its hooks would slow every other import). */
const importModule = async (url: string): Promise<{ readonly default?: unknown; readonly capabilities?: unknown }> => {
  if (/\.[cm]?tsx?$/.test(url)) {
    const { register } = await import("tsx/esm/api")
    register()
  }
  return import(url) as Promise<{ readonly default?: unknown; readonly capabilities?: unknown }>
}

/** A worker function and what it says it can do. */
export interface LoadedWorker {
  readonly fn: WorkerHost.WorkerFunction
  readonly capabilities: Readonly<Record<string, unknown>> | undefined
}

/**
 * Loads `path` (a JavaScript or TypeScript module): its default export must be
 * a `WorkerFunction`; an exported `capabilities` object is declared when the
 * worker registers (designers read it).
 */
export const loadModule = (path: string): Effect.Effect<LoadedWorker, CommandFailed> =>
  Effect.gen(function*() {
    const url = pathToFileURL(resolve(path)).href
    const module = yield* Effect.tryPromise({
      try: () => importModule(url),
      catch: (error) =>
        new CommandFailed({
          message: `Cannot load worker module ${path}: ${messageOf(error).split("\n")[0]}`,
          hints: [
            "--module takes the path of a module whose default export is a WorkerFunction",
            ...(/\.[cm]?tsx?$/.test(path) ? ["A TypeScript module needs tsx installed beside foreman (npm install tsx)."] : [])
          ]
        })
    })
    if (typeof module.default !== "function") {
      return yield* new CommandFailed({
        message: `${path} has no default export function`,
        hints: ["Export the worker function: export default (job, ctx) => Effect.succeed(result)"]
      })
    }
    const capabilities = module.capabilities
    return {
      fn: module.default as WorkerHost.WorkerFunction,
      capabilities: typeof capabilities === "object" && capabilities !== null && !Array.isArray(capabilities)
        ? capabilities as Readonly<Record<string, unknown>>
        : undefined
    }
  })

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The options of `foreman worker`, parsed. */
export interface WorkerOptions {
  readonly json: boolean
  readonly type: Option.Option<string>
  readonly module: Option.Option<string>
  readonly apiUrl: Option.Option<string>
  readonly protocol: Option.Option<"pull" | "push">
  readonly port: Option.Option<number>
  readonly host: Option.Option<string>
  readonly id: Option.Option<string>
  readonly capacity: Option.Option<number>
}

/** Runs the worker until it is stopped (or, started by a server, until that server is gone). */
export const worker = (o: WorkerOptions): Effect.Effect<void, CommandFailed | UsageError> =>
  Effect.gen(function*() {
    if (Option.isNone(o.type)) {
      return yield* new UsageError({ message: `Give --type (${exampleTypes.join(", ")}, or any type with --module)` })
    }
    const type = o.type.value
    const { capabilities, fn } = Option.isSome(o.module)
      ? yield* loadModule(o.module.value)
      : isExampleType(type)
      ? { fn: exampleWorkers[type], capabilities: exampleCapabilities }
      : yield* new UsageError({
        message: `No example worker of type "${type}": use ${exampleTypes.join(" or ")}, or --module PATH`
      })

    // Flags become configuration that wins over the environment; WorkerConfig validates everything.
    const flags = new Map<string, string>([["FOREMAN_WORKER_TYPE", type]])
    // The flag each variable came from, to name it in errors.
    const given = new Map<string, string>()
    const set = (key: string, flag: string, value: Option.Option<string | number>) =>
      Option.map(value, (v) => {
        flags.set(key, String(v))
        given.set(key, `--${flag}`)
      })
    set("FOREMAN_API_URL", "api-url", o.apiUrl)
    set("FOREMAN_WORKER_PROTOCOL", "protocol", o.protocol)
    set("FOREMAN_WORKER_PORT", "port", o.port)
    set("FOREMAN_WORKER_HOST", "host", o.host)
    set("FOREMAN_WORKER_ID", "id", o.id)
    set("FOREMAN_WORKER_CAPACITY", "capacity", o.capacity)
    const environment = yield* Effect.configProviderWith(Effect.succeed)
    const provider = ConfigProvider.fromMap(flags).pipe(
      ConfigProvider.orElse(() => environment),
      ConfigProvider.orElse(() => ConfigProvider.fromMap(new Map([["FOREMAN_API_URL", defaultApiUrl]])))
    )
    const config = yield* WorkerConfig.load({ type, ...(capabilities === undefined ? {} : { capabilities }) }).pipe(
      Effect.withConfigProvider(provider),
      Effect.mapError((error) =>
        new UsageError({
          message: [...given].reduce(
            (message, [key, flag]) => message.replace(new RegExp(`\\b${key}\\b`, "g"), flag),
            configMessage(error)
          ),
          hints: []
        })
      )
    )

    yield* jsonOnStdout(o.json, (stdout) => Effect.scoped(Effect.gen(function*() {
      const context = yield* Layer.build(WorkerHost.layerNode(fn, config)).pipe(
        Effect.mapError((error) =>
          new CommandFailed({
            message: `Cannot listen on ${config.host}:${config.port}: ${error.message || String(error.cause)}`,
            hints: ["Choose another --port (or FOREMAN_WORKER_PORT); 0 picks a free one"]
          })
        )
      )
      const host = yield* WorkerHost.WorkerHost.pipe(Effect.provide(context))
      const ready = {
        workerId: host.id,
        type: host.type,
        protocol: host.protocol,
        endpoint: host.endpoint,
        apiUrl: config.apiUrl
      }
      yield* o.json
        ? stdout.log(JSON.stringify(ready))
        : Console.log(
          host.endpoint === null
            ? `Worker ${host.id} (${host.type}) pulling jobs from ${config.apiUrl}; Ctrl+C drains and stops`
            : `Worker ${host.id} (${host.type}) serving at ${host.endpoint}, coordinator ${config.apiUrl}; Ctrl+C drains and stops`
        )
      // Started by `foreman server --local-workers`: stop (draining) when that server is gone.
      const parent = yield* Config.option(Config.integer("FOREMAN_PARENT_PID")).pipe(Effect.orElseSucceed(Option.none))
      if (Option.isNone(parent)) return yield* Effect.never
      yield* Effect.repeat(Effect.sleep(Duration.seconds(2)), { while: () => isAlive(parent.value) })
      yield* Console.error(`The server (pid ${parent.value}) is gone: draining and stopping`)
    })))
  })
