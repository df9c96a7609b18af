/** What the model agents take from a provider's client module (`anthropicModel.ts`, `openAiModel.ts`). */
import type { LanguageModel } from "@effect/ai"
import type { HttpClient } from "@effect/platform"
import type { Layer, Redacted } from "effect"
import type { CallSettings } from "./modelCall.js"

/** The model, the key and the API root a provider's client is made with. */
export interface ProviderSettings {
  readonly model: string
  readonly key: Redacted.Redacted
  readonly baseUrl: string
}

/** A provider's `LanguageModel`, and how its calls' tokens are read and a call is pointed at another model. */
export interface ProviderModel extends Pick<CallSettings, "tokens" | "withModel"> {
  readonly layer: Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient>
}
