/**
 * The designer and assessor on a language model (`@effect/ai`'s
 * `LanguageModel`, from any provider). Each call asks for structured output
 * with a Schema; an answer that fails the schema, or a design that names what
 * no registered worker supports, is sent back once with what was wrong, then
 * the phase fails saying so. Every call, failed ones included, is returned
 * with its tokens, cost (from the price table) and latency, and charged.
 */
import { LanguageModel } from "@effect/ai"
import { Agents, type Domain, Errors } from "@foreman/core"
import { Context, Effect, Either, Layer, Schema } from "effect"
import * as Design from "./Design.js"
import { type CallSettings, generate, type Target } from "./internal/modelCall.js"
import { type PriceTable, priceOf } from "./Pricing.js"
import * as Prompts from "./Prompts.js"

export interface Settings extends CallSettings {
  /** The model used unless a trigger names another. */
  readonly model: string
  readonly prices: PriceTable
}

/** What the assessor asks the model for. */
export const AssessmentAnswer = Schema.Struct({
  verdict: Schema.Literal("promising", "inconclusive", "rejected"),
  summary: Schema.String.pipe(Schema.minLength(1)),
  nextBrief: Schema.String.pipe(Schema.minLength(1)).annotations({ description: "The brief to research next" })
}).annotations({ description: "The assessment of a finished research cycle" })

const target = (settings: Settings, requested: string | null): Effect.Effect<Target, string> => {
  const model = requested ?? settings.model
  return Either.match(priceOf(settings.prices, model), {
    onLeft: Effect.fail,
    onRight: (price) => Effect.succeed({ model, price })
  })
}

/**
 * Runs `body` with a fresh list of calls; a failure becomes an `AgentError`
 * that carries the calls made, so they are charged too.
 */
const withCalls = <A>(
  agent: string,
  lm: LanguageModel.Service,
  body: (calls: Array<Domain.LlmCall>) => Effect.Effect<A, string, LanguageModel.LanguageModel>
): Effect.Effect<Agents.AgentOutput<A>, Errors.AgentError> =>
  Effect.suspend(() => {
    const calls: Array<Domain.LlmCall> = []
    return body(calls).pipe(
      Effect.map((result) => ({ result, calls })),
      Effect.mapError((reason) => new Errors.AgentError({ agent, reason, calls })),
      Effect.provideService(LanguageModel.LanguageModel, lm)
    )
  })

/**
 * Asks for `schema` until the answer is usable, sending an unusable one back
 * once with `check`'s complaint (or the schema's).
 */
const usable = <A, I extends Record<string, unknown>>(
  settings: Settings,
  to: Target,
  request: { readonly prompt: Prompts.Messages; readonly schema: Schema.Schema<A, I>; readonly objectName: string },
  check: (value: A) => string | null,
  calls: Array<Domain.LlmCall>
) =>
  Effect.gen(function*() {
    let prompt = request.prompt
    for (let round = 0;; round++) {
      const answer = yield* generate(settings, to, { ...request, prompt }, calls)
      const problem = answer._tag === "Unusable" ? answer.problem : check(answer.value)
      if (problem === null && answer._tag === "Value") return answer.value
      const why = problem ?? "unusable answer"
      // The call answered, but with nothing usable: its ledger entry says why.
      const last = calls[calls.length - 1]
      if (last !== undefined && last.error === null) calls[calls.length - 1] = { ...last, error: why }
      if (round === 1) return yield* Effect.fail(`the model's ${request.objectName} was unusable twice: ${why}`)
      yield* Effect.logWarning(`${to.model}: ${request.objectName} unusable (${why}); asking once more`)
      prompt = Prompts.repair(prompt, answer.raw, why)
    }
  })

/** A designer on the `LanguageModel` in context. */
export const designer = (settings: Settings) =>
  Effect.map(LanguageModel.LanguageModel, (lm) =>
    Agents.Designer.of({
      design: (request) =>
        withCalls("designer", lm, (calls) =>
          Effect.gen(function*() {
            const to = yield* target(settings, request.model)
            const support = Design.supported(request.workers)
            const design = yield* usable(settings, to, {
              prompt: Prompts.design(request, support),
              schema: Design.Design,
              objectName: "design"
            }, (d) => {
              const names = Design.unsupported(d, support)
              return names.length === 0 ? null : `it names what no worker supports: ${names.join("; ")}`
            }, calls)
            return Design.toStrategy(design)
          }))
    }))

/** An assessor on the `LanguageModel` in context. */
export const assessor = (settings: Settings) =>
  Effect.map(LanguageModel.LanguageModel, (lm) =>
    Agents.Assessor.of({
      assess: (request) =>
        withCalls("assessor", lm, (calls) =>
          Effect.flatMap(target(settings, request.model), (to) =>
            usable(settings, to, {
              prompt: Prompts.assess(request),
              schema: AssessmentAnswer,
              objectName: "assessment"
            }, () => null, calls)))
    }))

/** The models these agents run: those the price table prices (a trigger naming another is refused). */
export const models = (settings: Settings): Context.Tag.Service<Agents.Models> =>
  Agents.Models.of({ refusal: (model) => Either.getLeft(priceOf(settings.prices, model)) })

/** Both agents over the `LanguageModel` a provider layer supplies, and the models they run. */
export const layer = (
  settings: Settings
): Layer.Layer<Agents.Designer | Agents.Assessor | Agents.Models, never, LanguageModel.LanguageModel> =>
  Layer.effectContext(Effect.gen(function*() {
    const d = yield* designer(settings)
    const a = yield* assessor(settings)
    return Context.make(Agents.Designer, d).pipe(
      Context.add(Agents.Assessor, a),
      Context.add(Agents.Models, models(settings))
    )
  }))
