/**
 * Ports: the LLM agents that run in process. Each returns its result together
 * with every model call it made (tokens, cost, latency), which the budget is
 * charged; a failed agent reports its calls on the `AgentError`.
 */
import type { Effect, Option } from "effect"
import { Context } from "effect"
import type { Assessment, GateOutcome, LlmCall, Research, ResearchId, Strategy, Usage, WorkerType } from "./Domain.js"
import type { AgentError } from "./Errors.js"

export interface AgentOutput<A> {
  readonly result: A
  /** The model calls that produced it, in order (failed attempts included). */
  readonly calls: ReadonlyArray<LlmCall>
}

/** What the workers of one type say they can do (`indicators`, `instruments`, `timeframes`, …). */
export interface WorkerCapabilities {
  readonly workerType: WorkerType
  readonly capabilities: Readonly<Record<string, unknown>>
}

/** What an agent knows of the lab besides its research: the workers' capabilities and recent outcomes. */
export interface AgentContext {
  /** One entry per registered worker that declared capabilities, deduplicated. */
  readonly workers: ReadonlyArray<WorkerCapabilities>
  /** The most recently created finished researches, newest first. */
  readonly recent: ReadonlyArray<Research>
}

export interface DesignRequest extends AgentContext {
  readonly researchId: ResearchId
  readonly brief: string
  readonly model: string | null
}

export interface AssessmentRequest {
  readonly researchId: ResearchId
  readonly brief: string
  readonly model: string | null
  readonly strategy: Strategy | null
  readonly results: Readonly<Record<string, unknown>>
  readonly gates: Readonly<Record<string, GateOutcome>>
}

/** Turns a brief into a strategy. */
export class Designer extends Context.Tag("@foreman/core/Designer")<Designer, {
  readonly design: (request: DesignRequest) => Effect.Effect<AgentOutput<Strategy>, AgentError>
}>() {}

/** Judges a finished cycle. */
export class Assessor extends Context.Tag("@foreman/core/Assessor")<Assessor, {
  readonly assess: (request: AssessmentRequest) => Effect.Effect<AgentOutput<Assessment>, AgentError>
}>() {}

/**
 * Which models the agents can run, asked when a trigger names one: a model
 * they cannot run is refused there (`InvalidInput` naming `model`), before a
 * research starts. Optional: agents without it (the offline ones) take any
 * model.
 */
export class Models extends Context.Tag("@foreman/core/Models")<Models, {
  /** Why the agents cannot run `model` (and which they can), or none when they can. */
  readonly refusal: (model: string) => Option.Option<string>
}>() {}

const round = (usd: number): number => Math.round(usd * 1e6) / 1e6

/** A job's usage: its calls summed, under the model of the last one. */
export const usageOf = (calls: ReadonlyArray<LlmCall>): Usage => ({
  model: calls[calls.length - 1]?.model ?? "none",
  inputTokens: calls.reduce((sum, c) => sum + c.inputTokens, 0),
  outputTokens: calls.reduce((sum, c) => sum + c.outputTokens, 0),
  costUsd: round(calls.reduce((sum, c) => sum + c.costUsd, 0))
})

/** The capabilities the registered workers declared, one entry per distinct declaration. */
export const declaredCapabilities = (
  workers: Iterable<{ readonly type: WorkerType; readonly capabilities: Readonly<Record<string, unknown>> }>
): ReadonlyArray<WorkerCapabilities> => {
  const seen = new Map<string, WorkerCapabilities>()
  for (const w of workers) {
    if (Object.keys(w.capabilities).length === 0) continue
    const key = `${w.type}\u0000${JSON.stringify(w.capabilities)}`
    if (!seen.has(key)) seen.set(key, { workerType: w.type, capabilities: w.capabilities })
  }
  return [...seen.values()]
}
