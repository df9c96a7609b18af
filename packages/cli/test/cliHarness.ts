/**
 * Test helpers: run `foreman …` in-process with captured stdout and stderr
 * and an environment of our choosing (the machine's stays out), or with an
 * HTTP client that reaches nothing; find a port nothing listens on, or an
 * address that certainly refuses.
 */
import { HttpClient, HttpClientError } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { ConfigProvider, Console, Effect, Layer } from "effect"
import { Cli } from "../src/index.js"

export interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** A `Console` that records what is printed, line by line. */
export const capturing = () => {
  const out: Array<string> = []
  const err: Array<string> = []
  const text = (args: ReadonlyArray<unknown>) => args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")
  const toOut = (...args: ReadonlyArray<unknown>) => Effect.sync(() => void out.push(text(args)))
  const toErr = (...args: ReadonlyArray<unknown>) => Effect.sync(() => void err.push(text(args)))
  const unsafe = {
    ...globalThis.console,
    log: (...args: ReadonlyArray<unknown>) => void out.push(text(args)),
    info: (...args: ReadonlyArray<unknown>) => void out.push(text(args)),
    error: (...args: ReadonlyArray<unknown>) => void err.push(text(args)),
    warn: (...args: ReadonlyArray<unknown>) => void err.push(text(args))
  }
  const console: Console.Console = {
    [Console.TypeId]: Console.TypeId,
    assert: () => Effect.void,
    clear: Effect.void,
    count: () => Effect.void,
    countReset: () => Effect.void,
    debug: toErr,
    dir: toOut,
    dirxml: toOut,
    error: toErr,
    group: () => Effect.void,
    groupEnd: Effect.void,
    info: toOut,
    log: toOut,
    table: toOut,
    time: () => Effect.void,
    timeEnd: () => Effect.void,
    timeLog: () => Effect.void,
    trace: toErr,
    warn: toErr,
    unsafe
  }
  return { console, stdout: () => out.join("\n"), stderr: () => err.join("\n") }
}

const platform = Layer.merge(NodeContext.layer, Cli.layer)

/** Runs `foreman <argv>` in-process on `layer`, with only `env` as its environment. */
const runWith = (
  layer: Layer.Layer<Layer.Layer.Success<typeof platform>>,
  argv: ReadonlyArray<string>,
  env: Record<string, string>
) =>
  Effect.gen(function*() {
    const captured = capturing()
    const code = yield* Cli.run(argv).pipe(
      Effect.provide(layer),
      Effect.withConsole(captured.console),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
    )
    return { code, stdout: captured.stdout(), stderr: captured.stderr() } satisfies Outcome
  })

/**
 * Runs `foreman <argv>` in-process like `foreman`, but its HTTP client reaches
 * nothing: every request fails as a refused connection, and its URL is
 * recorded. For checking where the CLI sends requests without depending on
 * what listens on this machine (anything may run on the default port 8000).
 */
export const foremanOffline = (argv: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const requested: Array<string> = []
    const refusing = HttpClient.make((request, url) =>
      Effect.suspend(() => {
        requested.push(url.href)
        const cause = Object.assign(new Error(`connect ECONNREFUSED ${url.host}`), { code: "ECONNREFUSED" })
        return Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause }))
      })
    )
    const outcome = yield* runWith(Layer.merge(NodeContext.layer, Layer.succeed(HttpClient.HttpClient, refusing)), argv, env)
    return { ...outcome, requested }
  })

/** Runs `foreman <argv>` in-process with only `env` as its environment. */
export const foreman = (argv: ReadonlyArray<string>, env: Record<string, string> = {}) => runWith(platform, argv, env)

/** `foreman <argv> --api-url <url>`. */
export const against = (url: string) => (argv: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  foreman([...argv, "--api-url", url], env)

export { closedPort, refusingUrl } from "./processes.js"

/** Strips ANSI escapes (help and usage errors are colored). */
export const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")
