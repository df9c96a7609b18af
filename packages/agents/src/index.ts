/**
 * @foreman/agents — the designer and assessor agents a coordinator runs in
 * its design and assessment phases: on a language model (`ModelAgents`, with
 * Anthropic and OpenAI wired by `Providers` from configuration), or offline
 * (`OfflineAgents`: no network, designs not from a model).
 */
export * as Design from "./Design.js"
export * as ModelAgents from "./ModelAgents.js"
export * as OfflineAgents from "./OfflineAgents.js"
export * as Pricing from "./Pricing.js"
export * as Prompts from "./Prompts.js"
export * as Providers from "./Providers.js"
