/**
 * OpenAI's `LanguageModel` for the model agents (see `Providers.ts`), loaded
 * only when the coordinator runs on OpenAI: its client's generated schemas
 * cost a coordinator that runs on another provider, or offline, about a tenth
 * of a second at every start.
 */
import { OpenAiClient, OpenAiLanguageModel } from "@effect/ai-openai"
import type { Response } from "@effect/ai"
import { Layer } from "effect"
import type { ProviderModel, ProviderSettings } from "./providerModel.js"
import type * as Pricing from "../Pricing.js"

/** OpenAI's `input_tokens` already include the cached ones. */
const tokens = (finish: Response.FinishPart): Pricing.TokenCount => ({
  inputTokens: finish.usage.inputTokens ?? 0,
  cachedInputTokens: finish.usage.cachedInputTokens ?? 0,
  outputTokens: finish.usage.outputTokens ?? 0
})

export const languageModel = (s: ProviderSettings): ProviderModel => ({
  layer: OpenAiLanguageModel.layer({ model: s.model }).pipe(
    Layer.provide(OpenAiClient.layer({ apiKey: s.key, apiUrl: s.baseUrl }))
  ),
  tokens,
  withModel: (model: string) => OpenAiLanguageModel.withConfigOverride({ model })
})
