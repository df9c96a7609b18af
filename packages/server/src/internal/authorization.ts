/**
 * Who is calling: the bearer tokens the server accepts (`FOREMAN_API_TOKEN`,
 * `FOREMAN_WORKER_TOKEN`, `FOREMAN_WORKER_TOKENS` bound to worker ids), the
 * `Authorization` middleware that turns a token into a `Caller`, and the
 * checks handlers make of it.
 */
import { HttpServerRequest } from "@effect/platform"
import { Config, ConfigError, Effect, Either, Layer, Option, Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import { Authorization, type Caller, CurrentCaller, Forbidden, Unauthorized } from "@foreman/api/Api"

// --- authorization ------------------------------------------------------------

/** A worker token bound to the worker ids a pattern matches (`gpu-*`: a trailing `*` matches any rest). */
export interface BoundToken {
  readonly pattern: string
  readonly token: Redacted.Redacted
}

/** The bearer tokens the server accepts; none configured means an open server. */
export interface Tokens {
  readonly operator: Option.Option<Redacted.Redacted>
  readonly worker: Option.Option<Redacted.Redacted>
  /** `FOREMAN_WORKER_TOKENS`: tokens that speak only for the worker ids they are bound to. */
  readonly bound: ReadonlyArray<BoundToken>
}

/** Whether a binding's pattern matches a worker id. */
export const matches = (pattern: string, workerId: string): boolean =>
  pattern.endsWith("*") ? workerId.startsWith(pattern.slice(0, -1)) : workerId === pattern

const boundPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\*?$|^\*$/

/** `FOREMAN_WORKER_TOKENS`: `pattern=token` pairs separated by commas. */
const boundTokens: Config.Config<ReadonlyArray<BoundToken>> = Config.string("FOREMAN_WORKER_TOKENS").pipe(
  Config.withDefault(""),
  Config.mapOrFail((text) => {
    const bound: Array<BoundToken> = []
    for (const pair of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
      const eq = pair.indexOf("=")
      const pattern = pair.slice(0, Math.max(0, eq)).trim()
      const value = pair.slice(eq + 1).trim()
      if (eq < 1 || value === "" || !boundPattern.test(pattern)) {
        return Either.left(ConfigError.InvalidData(
          ["FOREMAN_WORKER_TOKENS"],
          `FOREMAN_WORKER_TOKENS must be worker-id=token pairs separated by commas (an id may end in * to match ` +
            `a prefix), e.g. "gpu-box-*=s3cret-a,backtest-1=s3cret-b"; "${pattern === "" ? pair.slice(0, 20) : pattern}" is not`
        ))
      }
      bound.push({ pattern, token: Redacted.make(value) })
    }
    return Either.right(bound)
  })
)

/** A token variable; set but empty (common in .env and compose files) counts as not set. */
const token = (name: string): Config.Config<Option.Option<Redacted.Redacted>> =>
  Config.option(Config.redacted(name)).pipe(Config.map(Option.filter((value) => Redacted.value(value) !== "")))

/** `FOREMAN_API_TOKEN` (operators), `FOREMAN_WORKER_TOKEN` (workers) and `FOREMAN_WORKER_TOKENS` (bound), all optional. */
export const tokensConfig: Config.Config<Tokens> = Config.all({
  operator: token("FOREMAN_API_TOKEN"),
  worker: token("FOREMAN_WORKER_TOKEN"),
  bound: boundTokens
})

export const isOpen = (tokens: Tokens): boolean =>
  Option.isNone(tokens.operator) && Option.isNone(tokens.worker) && tokens.bound.length === 0

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest()

/** Equal digests, compared in constant time (hashing first makes the lengths equal). */
const sameToken = (given: Buffer, expected: Option.Option<Buffer>): boolean =>
  Option.isSome(expected) && timingSafeEqual(given, expected.value)

const everyone: Caller = { operator: true, worker: true, speaksFor: () => true }

/** The digest of the token that makes an operator: the operator token, or the worker token when it is the only one. */
const operatorDigest = (tokens: Tokens): Option.Option<Buffer> =>
  Option.map(Option.orElse(tokens.operator, () => tokens.worker), (t) => digest(Redacted.value(t)))

/**
 * Whether an `Authorization` header makes its sender an operator, as the API
 * judges it (for routes beside the API, such as `/metrics`); with no tokens,
 * everyone is.
 */
export const isOperator = (tokens: Tokens, authorization: string | undefined): boolean => {
  if (isOpen(tokens)) return true
  const presented = /^bearer /i.test(authorization ?? "") ? authorization!.slice("bearer ".length).trim() : ""
  return sameToken(digest(presented), operatorDigest(tokens))
}

/**
 * Turns the bearer token into a `Caller`. The operator token makes an operator,
 * the worker token a worker; when only one token is configured it serves both
 * roles. Without tokens every caller is both.
 */
export const layerAuthorization: Layer.Layer<Authorization, ConfigError.ConfigError> = Layer.effect(
  Authorization,
  Effect.gen(function*() {
    const tokens = yield* tokensConfig
    if (isOpen(tokens)) {
      yield* Effect.logWarning(
        "FOREMAN_API_TOKEN and FOREMAN_WORKER_TOKEN are not set: every caller is trusted as operator and worker"
      )
      return Authorization.of({ bearer: () => Effect.succeed(everyone) })
    }
    const operator = operatorDigest(tokens)
    const worker = Option.map(Option.orElse(tokens.worker, () => tokens.operator), (t) => digest(Redacted.value(t)))
    const bound = tokens.bound.map((b) => ({ pattern: b.pattern, digest: digest(Redacted.value(b.token)) }))
    /** The shared token speaks for the ids no binding claims. */
    const unbound = (workerId: string) => !bound.some((b) => matches(b.pattern, workerId))
    return Authorization.of({
      bearer: (bearer) =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const header = request.headers["authorization"]
          if (header === undefined || header.trim() === "") {
            return yield* new Unauthorized({ message: "Missing bearer token: send `Authorization: Bearer <token>`" })
          }
          if (!/^bearer /i.test(header)) {
            return yield* new Unauthorized({ message: "Unsupported authorization: send `Authorization: Bearer <token>`" })
          }
          const given = digest(Redacted.value(bearer))
          const patterns = bound.filter((b) => timingSafeEqual(given, b.digest)).map((b) => b.pattern)
          const shared = sameToken(given, worker)
          const caller: Caller = {
            operator: sameToken(given, operator),
            worker: shared || patterns.length > 0,
            speaksFor: (id) => (shared && unbound(id)) || patterns.some((pattern) => matches(pattern, id))
          }
          if (!caller.operator && !caller.worker) return yield* new Unauthorized({ message: "Invalid bearer token" })
          return caller
        })
    })
  })
)

export const requireOperator = Effect.flatMap(CurrentCaller, (caller) =>
  caller.operator ? Effect.void : Effect.fail(
    new Forbidden({ message: "This endpoint is for operators: use the operator token (FOREMAN_API_TOKEN)" })
  ))

export const requireWorker = Effect.flatMap(CurrentCaller, (caller) =>
  caller.worker ? Effect.void : Effect.fail(
    new Forbidden({ message: "This endpoint is for workers: use the worker token (FOREMAN_WORKER_TOKEN)" })
  ))

/** A worker token that may speak for `workerId` (a bound token speaks only for its ids). */
export const speakingFor = (workerId: string) =>
  Effect.flatMap(CurrentCaller, (caller) =>
    !caller.worker ? requireWorker : caller.speaksFor(workerId) ? Effect.void : Effect.fail(
      new Forbidden({ message: `This worker token may not speak for worker ${workerId}: see FOREMAN_WORKER_TOKENS` })
    ))

export const requireAnyone = Effect.flatMap(CurrentCaller, (caller) =>
  caller.operator || caller.worker ? Effect.void : Effect.fail(
    new Forbidden({ message: "This endpoint needs the operator or the worker token" })
  ))

