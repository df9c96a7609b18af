/**
 * Anthropic's `LanguageModel` for the model agents (see `Providers.ts`),
 * loaded only when the coordinator runs on Anthropic: its client's schemas
 * cost a coordinator that runs on another provider, or offline, about a tenth
 * of a second at every start.
 */
import { AnthropicClient, AnthropicLanguageModel } from "@effect/ai-anthropic"
import type { Response } from "@effect/ai"
import { Layer } from "effect"
import type { ProviderModel, ProviderSettings } from "./providerModel.js"
import type * as Pricing from "../Pricing.js"

/** Anthropic's `input_tokens` leaves out cache reads and writes; ours counts every prompt token. */
const tokens = (finish: Response.FinishPart): Pricing.TokenCount => {
  const raw = finish.metadata["anthropic"]?.["usage"]
  const written = typeof raw === "object" && raw !== null && "cache_creation_input_tokens" in raw &&
      typeof raw.cache_creation_input_tokens === "number"
    ? raw.cache_creation_input_tokens
    : 0
  const cached = finish.usage.cachedInputTokens ?? 0
  return {
    inputTokens: (finish.usage.inputTokens ?? 0) + cached + written,
    cachedInputTokens: cached,
    outputTokens: finish.usage.outputTokens ?? 0
  }
}

export const languageModel = (s: ProviderSettings): ProviderModel => ({
  layer: AnthropicLanguageModel.layer({ model: s.model }).pipe(
    Layer.provide(AnthropicClient.layer({ apiKey: s.key, apiUrl: s.baseUrl }))
  ),
  tokens,
  withModel: (model: string) => AnthropicLanguageModel.withConfigOverride({ model })
})
