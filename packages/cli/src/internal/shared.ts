/**
 * Options every command that talks to the coordinator takes (`--api-url`,
 * `--token`, `--json`), each falling back to its environment variable, and
 * the output helpers: everything goes through Effect's `Console`.
 */
import { HelpDoc, Options, ValidationError } from "@effect/cli"
import type { HttpClient } from "@effect/platform"
import { Coordinator } from "@foreman/core"
import { Config, Console, Effect, JSONSchema, Option, Redacted } from "effect"
import * as Client from "../Client.js"

/** `--api-url`, else `FOREMAN_API_URL`, else `http://127.0.0.1:8000`; an empty value counts as none. */
export const apiUrl = Options.text("api-url").pipe(
  Options.withFallbackConfig(Config.string("FOREMAN_API_URL")),
  Options.withDefault(Client.defaultApiUrl),
  Options.map((url) => (url.trim() === "" ? Client.defaultApiUrl : url)),
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

/** A client for the coordinator the options point at. */
export const client = (options: ConnectionOptions): Effect.Effect<Client.Client, Client.CommandFailed, HttpClient.HttpClient> =>
  Client.make({ apiUrl: options.apiUrl, token: options.token })

/** Prints a value as indented JSON on stdout. */
export const printJson = (value: unknown): Effect.Effect<void> => Console.log(JSON.stringify(value, null, 2))

/** Prints JSON or text, as `--json` asks. */
export const print = (json: boolean, value: unknown, text: () => string): Effect.Effect<void> =>
  json ? printJson(value) : Console.log(text())

/** A usage error (exit code 2), printed the way @effect/cli prints its own. */
export const invalid = (message: string): ValidationError.ValidationError =>
  ValidationError.invalidValue(HelpDoc.p(message))

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
