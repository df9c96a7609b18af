/**
 * One structured model call, made until it answers: each attempt is timed
 * out, a rate limit (429), an overloaded or failing provider (5xx, 529), a
 * lost connection or a timeout is tried again after a backoff (the provider's
 * `retry-after` when it sends one), and every attempt — answered or not — is
 * appended to `calls` with its tokens, cost and latency. The tokens come from
 * the response's usage, read through `@effect/ai`'s span transformer so that
 * an answer that fails the schema is still counted.
 */
import { AiError, LanguageModel, type Prompt, type Response, Telemetry } from "@effect/ai"
import { Errors, type Domain, Metrics } from "@foreman/core"
import { Cause, Clock, Duration, Effect, Exit, Option, ParseResult, type Schema } from "effect"
import { cost, type ModelPrice, type TokenCount } from "../Pricing.js"

/** How calls are made and counted. */
export interface CallSettings {
  /** The provider's name, for messages (`anthropic`, `openai`). */
  readonly provider: string
  readonly timeout: Duration.Duration
  /** Attempts after the first when the provider fails for a moment. */
  readonly retries: number
  /** The first backoff; it doubles with each retry (unless the provider says when). */
  readonly retryDelay: Duration.Duration
  /** Every prompt token and the cached ones among them, with the output tokens, from a response's finish part. */
  readonly tokens: (finish: Response.FinishPart) => TokenCount
  /** Runs a call against `model` rather than the configured one. */
  readonly withModel: (model: string) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** The model the call goes to, and what its tokens cost. */
export interface Target {
  readonly model: string
  readonly price: ModelPrice
}

/** What a call came to: a value of the schema, or an answer that cannot be used and why. */
export type Answer<A> =
  | { readonly _tag: "Value"; readonly value: A; readonly raw: string }
  | { readonly _tag: "Unusable"; readonly raw: string | null; readonly problem: string }

/** The longest wait a `retry-after` may ask for. */
const MAX_RETRY_AFTER = Duration.seconds(60)

type Attempt<A> =
  | Answer<A>
  | { readonly _tag: "Transient"; readonly problem: string; readonly retryAfter: Option.Option<Duration.Duration> }
  | { readonly _tag: "Fatal"; readonly problem: string }

/** `retry-after` in seconds or as an HTTP date. */
const retryAfterOf = (headers: Readonly<Record<string, string>>, now: number): Option.Option<Duration.Duration> => {
  const value = headers["retry-after"]
  if (value === undefined) return Option.none()
  const seconds = Number(value)
  const millis = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now
  return Number.isFinite(millis) ? Option.some(Duration.min(Duration.millis(Math.max(0, millis)), MAX_RETRY_AFTER)) : Option.none()
}

/** The provider's own words for an error response, when its body says them. */
const bodyMessage = (body: string | undefined): string => {
  if (body === undefined) return ""
  try {
    const parsed: unknown = JSON.parse(body)
    const error = typeof parsed === "object" && parsed !== null && "error" in parsed ? parsed.error : undefined
    const message = typeof error === "object" && error !== null && "message" in error ? error.message : undefined
    return typeof message === "string" ? `: ${message}` : ""
  } catch {
    return ""
  }
}

const describeMalformed = (error: AiError.MalformedOutput): string => {
  const cause = error.cause
  const detail = ParseResult.isParseError(cause) ? `: ${Errors.describeParseError(cause)}` : ""
  return `${error.description ?? "the answer is malformed"}${detail}`
}

const classify = <A>(
  settings: CallSettings,
  exit: Exit.Exit<{ readonly value: A }, AiError.AiError | Cause.TimeoutException>,
  raw: string | null,
  now: number
): Attempt<A> => {
  if (Exit.isSuccess(exit)) return { _tag: "Value", value: exit.value.value, raw: raw ?? "" }
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return { _tag: "Fatal", problem: Cause.pretty(exit.cause) }
  const error = failure.value
  switch (error._tag) {
    case "TimeoutException":
      return {
        _tag: "Transient",
        problem: `no answer within ${Duration.format(settings.timeout)}`,
        retryAfter: Option.none()
      }
    case "MalformedOutput":
      // The model's object failing the schema can be repaired; a response the client cannot read cannot.
      return error.module === "LanguageModel"
        ? { _tag: "Unusable", raw, problem: describeMalformed(error) }
        : { _tag: "Fatal", problem: `unreadable answer from ${settings.provider}: ${describeMalformed(error)}` }
    case "HttpRequestError":
      return { _tag: "Transient", problem: `cannot reach ${settings.provider}: ${error.message}`, retryAfter: Option.none() }
    case "HttpResponseError": {
      const status = error.response.status
      const problem = `${settings.provider} answered HTTP ${status}${bodyMessage(error.body)}`
      return status === 429 || status >= 500
        ? { _tag: "Transient", problem, retryAfter: retryAfterOf(error.response.headers, now) }
        : { _tag: "Fatal", problem }
    }
    default:
      return { _tag: "Fatal", problem: `${settings.provider}: ${error.message}` }
  }
}

const zero: TokenCount = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 }

/** One attempt, recorded in `calls`, counted in the LLM metrics and traced as an `Agents.llmCall` span. */
const attempt = <A, I extends Record<string, unknown>>(
  settings: CallSettings,
  target: Target,
  request: { readonly prompt: Prompt.RawInput; readonly schema: Schema.Schema<A, I>; readonly objectName: string },
  calls: Array<Domain.LlmCall>
) =>
  Effect.gen(function*() {
    let parts: ReadonlyArray<{ readonly type: string }> = []
    const started = yield* Clock.currentTimeMillis
    const exit = yield* LanguageModel.generateObject(request).pipe(
      Effect.provideService(Telemetry.CurrentSpanTransformer, (options) => {
        parts = options.response
      }),
      settings.withModel(target.model),
      Effect.timeout(settings.timeout),
      Effect.exit
    )
    const now = yield* Clock.currentTimeMillis
    const finish = parts.find((p): p is Response.FinishPart => p.type === "finish")
    const text = parts.flatMap((p) => (p.type === "text" ? [(p as Response.TextPart).text] : []))
    const result = classify(settings, exit, text.length === 0 ? null : text.join(""), now)
    const tokens = finish === undefined ? zero : settings.tokens(finish)
    const call: Domain.LlmCall = {
      model: target.model,
      ...tokens,
      costUsd: cost(target.price, tokens),
      latencyMs: now - started,
      error: result._tag === "Value" ? null : result.problem
    }
    calls.push(call)
    const outcome = result._tag === "Value" ? "answered" : result._tag === "Unusable" ? "unusable" : "failed"
    yield* Metrics.recordLlmCall({ ...call, outcome })
    yield* Effect.annotateCurrentSpan({
      "gen_ai.usage.input_tokens": tokens.inputTokens,
      "gen_ai.usage.output_tokens": tokens.outputTokens,
      "foreman.llm.cached_input_tokens": tokens.cachedInputTokens,
      "foreman.llm.cost_usd": call.costUsd,
      "foreman.llm.outcome": outcome
    })
    return result
  }).pipe(Effect.withSpan("Agents.llmCall", {
    attributes: { "gen_ai.system": settings.provider, "gen_ai.request.model": target.model }
  }))

/**
 * Calls the model until it answers or the retries run out; fails with the
 * reason when it gives up or the provider refuses the request outright.
 */
export const generate = <A, I extends Record<string, unknown>>(
  settings: CallSettings,
  target: Target,
  request: { readonly prompt: Prompt.RawInput; readonly schema: Schema.Schema<A, I>; readonly objectName: string },
  calls: Array<Domain.LlmCall>
): Effect.Effect<Answer<A>, string, LanguageModel.LanguageModel> =>
  Effect.gen(function*() {
    for (let retry = 0;; retry++) {
      const result = yield* attempt(settings, target, request, calls)
      switch (result._tag) {
        case "Value":
        case "Unusable":
          return result
        case "Fatal":
          return yield* Effect.fail(result.problem)
        case "Transient": {
          if (retry >= settings.retries) {
            return yield* Effect.fail(`${result.problem} (gave up after ${retry + 1} attempts)`)
          }
          const backoff = Duration.times(settings.retryDelay, 2 ** retry)
          yield* Effect.logWarning(`${target.model}: ${result.problem}; trying again`)
          yield* Effect.sleep(Option.getOrElse(result.retryAfter, () => backoff))
        }
      }
    }
  })
