/**
 * Options every command that talks to the coordinator takes (`--api-url`,
 * `--token`, `--json`), each falling back to its environment variable, flags
 * that fall back to a typed variable (their errors name the flag or the
 * variable the value came from), and the output helpers: everything goes
 * through Effect's `Console`.
 */
import { HelpDoc, Options, ValidationError } from "@effect/cli"
import type { HttpClient } from "@effect/platform"
import { Client as ApiClient } from "@foreman/api"
import { Coordinator, ForemanConfig } from "@foreman/core"
import { Config, ConfigError, Console, Duration, Effect, JSONSchema, Option, Redacted } from "effect"
import * as Client from "../Client.js"

/** A usage error (exit code 2), printed the way @effect/cli prints its own. */
export const invalid = (message: string): ValidationError.ValidationError =>
  ValidationError.invalidValue(HelpDoc.p(message))

/** The text of the variable `name`, when it is set to something other than blanks. */
const variable = (name: string): Effect.Effect<Option.Option<string>> =>
  Config.option(Config.string(name)).pipe(
    Effect.orElseSucceed(() => Option.none<string>()),
    Effect.map(Option.filter((text) => text.trim() !== ""))
  )

/** A flag's fallback variable: how its text reads, and what a value must be. */
export interface Variable<A> {
  /** The variable, e.g. `FOREMAN_SIM_SEED`. */
  readonly name: string
  /** What the variable's text must be, for its error: `an integer`. */
  readonly kind: string
  /** The value in the variable's text (trimmed), or undefined when it holds none of `kind`. */
  readonly read: (text: string) => A | undefined
  /** What a value must be when `value` is not valid (`0 or more`), whether it came from the flag or the variable. */
  readonly check?: (value: A) => string | undefined
}

const shown = (value: unknown): string => (typeof value === "string" ? `"${value}"` : String(value))

/**
 * `option`, else the variable, else none. Unlike `Options.withFallbackConfig`,
 * whose errors read `(Invalid data at FOREMAN_SIM_SEED: "Expected an integer
 * value but received "x"")`, a bad value is one line naming where it came
 * from: `FOREMAN_SIM_SEED must be an integer, got "x"`, `--seed must be 0 or
 * more, got -1`. A variable set to blanks counts as unset.
 */
export const orVariable = <A>(option: Options.Options<A>, flag: string, env: Variable<A>): Options.Options<Option.Option<A>> => {
  const judge = (value: A, source: string) => {
    const expected = env.check?.(value)
    return expected === undefined
      ? Effect.succeed(Option.some(value))
      : Effect.fail(invalid(`${source} must be ${expected}, got ${shown(value)}`))
  }
  return option.pipe(
    Options.optional,
    Options.mapEffect(Option.match({
      onSome: (value) => judge(value, `--${flag}`),
      onNone: () =>
        Effect.flatMap(variable(env.name), Option.match({
          onNone: () => Effect.succeedNone,
          onSome: (text) => {
            const value = env.read(text.trim())
            return value === undefined
              ? Effect.fail(invalid(`${env.name} must be ${env.kind}, got "${text}"`))
              : judge(value, env.name)
          }
        }))
    }))
  )
}

/** A whole number, sign allowed (`7`, `-1`), as text. */
export const readInteger = (text: string): number | undefined => (/^[-+]?\d+$/.test(text) ? Number(text) : undefined)

/** A decimal number, sign allowed (`0.5`, `-2`, `1e-2`), not hex, binary or `Infinity` as `Number` would take. */
export const readNumber = (text: string): number | undefined => {
  const unsigned = text.replace(/^[-+]/, "")
  const n = parseDecimal(unsigned)
  return n === undefined ? undefined : text.startsWith("-") ? -n : n
}

/** Whether `url` is an http(s) URL the client can use (a trailing `/api/v1` is accepted). */
export const isHttpUrl = (url: string): boolean => {
  const base = ApiClient.baseUrl(url.trim())
  return URL.canParse(base) && /^https?:$/.test(new URL(base).protocol)
}

/** `--api-url`, else `FOREMAN_API_URL`, else `http://127.0.0.1:8000`; an empty value counts as none, one without `http(s)://` is a usage error. */
export const apiUrl = orVariable(Options.text("api-url"), "api-url", {
  name: "FOREMAN_API_URL",
  kind: "a URL",
  read: (text) => text,
  check: (url) => (url.trim() === "" || isHttpUrl(url) ? undefined : "an http(s) URL such as http://127.0.0.1:8000")
}).pipe(
  Options.map(Option.match({ onNone: () => Client.defaultApiUrl, onSome: (url) => (url.trim() === "" ? Client.defaultApiUrl : url) })),
  Options.withDescription("The coordinator's URL (env FOREMAN_API_URL; default http://127.0.0.1:8000)")
)

/** `--token`, else `FOREMAN_API_TOKEN`; an empty value counts as none. */
export const token = Options.redacted("token").pipe(
  Options.withFallbackConfig(Config.redacted("FOREMAN_API_TOKEN")),
  Options.optional,
  Options.map(Option.filter((secret) => Redacted.value(secret) !== "")),
  Options.withDescription("The operator token, sent as bearer (env FOREMAN_API_TOKEN)")
)

/** `--json`: machine-readable output. */
export const json = Options.boolean("json").pipe(Options.withDescription("Print JSON instead of text"))

/** The options of every command that talks to the coordinator. */
export const connection = { apiUrl, token, json } as const

export interface ConnectionOptions {
  readonly apiUrl: string
  readonly token: Option.Option<Redacted.Redacted>
  readonly json: boolean
}

/**
 * One line for a configuration error, instead of its `(Invalid data at KEY:
 * "…")` form: the message of each problem (prefixed with its variable unless
 * it names it), joined by "; ". Of alternatives (a variable or its deprecated
 * name), a value that is wrong is told rather than one that is missing.
 */
export const configMessage = (error: ConfigError.ConfigError): string => {
  const problems = (e: ConfigError.ConfigError): ReadonlyArray<string> => {
    switch (e._op) {
      case "And":
        return [...problems(e.left), ...problems(e.right)]
      case "Or":
        return ConfigError.isMissingDataOnly(e.left) && !ConfigError.isMissingDataOnly(e.right)
          ? problems(e.right)
          : ConfigError.isMissingDataOnly(e.right)
          ? problems(e.left)
          : [...problems(e.left), ...problems(e.right)]
      default: {
        const key = e.path.join(".")
        return [key === "" || e.message.includes(key) ? e.message : `${key}: ${e.message}`]
      }
    }
  }
  return [...new Set(problems(error))].join("; ")
}

/** The time every request of a command may take: `FOREMAN_REQUEST_TIMEOUT_SECONDS`, else 10 s. */
export const requestTimeout: Effect.Effect<Duration.Duration, Client.UsageError> = Effect.flatMap(
  variable("FOREMAN_REQUEST_TIMEOUT_SECONDS"),
  Option.match({
    onNone: () => Effect.succeed(Client.requestTimeout),
    onSome: (value) =>
      ForemanConfig.seconds({ valid: (n) => n > 0, expected: "a number > 0" })(
        Config.succeed({ key: "FOREMAN_REQUEST_TIMEOUT_SECONDS", value: value.trim() })
      ).pipe(
        Effect.map(Duration.seconds),
        Effect.mapError((error) => new Client.UsageError({ message: configMessage(error), hints: [] }))
      )
  })
)

/** A client for the coordinator the options point at, its requests limited to `requestTimeout`. */
export const client = (
  options: ConnectionOptions
): Effect.Effect<Client.Client, Client.CommandFailed | Client.UsageError, HttpClient.HttpClient> =>
  Effect.flatMap(requestTimeout, (timeout) => Client.make({ apiUrl: options.apiUrl, token: options.token, timeout }))

/**
 * `console` with what it prints on stdout (logs included: Effect's loggers
 * write through `Console`) sent to stderr instead, for a command whose stdout
 * carries only its JSON.
 */
export const toStderr = (console: Console.Console): Console.Console => {
  const unsafe = console.unsafe
  const error = unsafe.error.bind(unsafe)
  return {
    ...console,
    log: console.error,
    info: console.error,
    dir: console.error,
    table: console.error,
    unsafe: { ...unsafe, log: error, info: error, dir: error, table: error }
  }
}

/**
 * Runs a long-lived command's `body`; with `json`, everything it and its
 * fibers print on stdout (their logs too) goes to stderr, save what `body`
 * prints through the `stdout` console it is given: its JSON.
 */
export const jsonOnStdout = <A, E, R>(
  json: boolean,
  body: (stdout: Console.Console) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.console, (console) => (json ? Effect.withConsole(body(console), toStderr(console)) : body(console)))

/**
 * The module a command's run lives in, loaded when the command runs (a
 * dynamic `import()`), so that other commands start without it: the server,
 * the workers and the simulator are most of the bundle. It can fail only when
 * the installed package lacks a part of itself.
 */
export const lazy = <M>(load: () => Promise<M>): Effect.Effect<M, Client.CommandFailed> =>
  Effect.tryPromise({
    try: load,
    catch: (error) =>
      new Client.CommandFailed({
        message: `Cannot load this command: ${Client.messageOf(error).split("\n")[0]}`,
        hints: ["The installed @foreman/cli is incomplete: install it again"]
      })
  })

/** Prints a value as indented JSON on stdout. */
export const printJson = (value: unknown): Effect.Effect<void> => Console.log(JSON.stringify(value, null, 2))

/** Prints JSON or text, as `--json` asks. */
export const print = (json: boolean, value: unknown, text: () => string): Effect.Effect<void> =>
  json ? printJson(value) : Console.log(text())

/** `training=2,backtest=1` → entries; `what` names the flag in errors. A key given twice is an error. */
export const parsePairs = (
  text: string,
  what: string
): Effect.Effect<ReadonlyArray<readonly [string, string]>, ValidationError.ValidationError> => {
  const seen = new Set<string>()
  return Effect.forEach(
    text.split(",").map((part) => part.trim()).filter((part) => part !== ""),
    (part) => {
      const [key, value, ...rest] = part.split("=").map((s) => s.trim())
      if (key === undefined || key === "" || value === undefined || value === "" || rest.length > 0) {
        return Effect.fail(invalid(`${what}: expected key=value pairs separated by commas, got "${part}"`))
      }
      if (seen.has(key)) return Effect.fail(invalid(`${what}: "${key}" is given more than once`))
      seen.add(key)
      return Effect.succeed([key, value] as const)
    }
  )
}

/** A plain decimal number (`0.1`, `.5`, `2`, `1e-2`), not hex, binary or `Infinity` as `Number` would take. */
export const parseDecimal = (text: string): number | undefined =>
  /^(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text) ? Number(text) : undefined

/**
 * The longest brief the coordinator takes, in characters (UTF-16 code units),
 * read from its `TriggerRequest` schema so that the two cannot disagree.
 */
export const briefMaxLength: number | undefined = (() => {
  const root = JSONSchema.make(Coordinator.TriggerRequest)
  const brief: unknown = "properties" in root ? root.properties["brief"] : undefined
  return typeof brief === "object" && brief !== null && "maxLength" in brief && typeof brief.maxLength === "number"
    ? brief.maxLength
    : undefined
})()
