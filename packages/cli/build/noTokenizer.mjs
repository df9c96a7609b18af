// Stands in for `@anthropic-ai/tokenizer` in the bundle. `@effect/ai-anthropic`
// imports it for its optional local token counter, which Foreman never uses
// (costs come from the usage the API reports); the real module loads a
// WebAssembly file from node_modules at import time, which a single-file
// bundle cannot carry.
export const getTokenizer = () => {
  throw new Error("the Anthropic tokenizer is not bundled with the foreman CLI")
}
export const countTokens = getTokenizer
