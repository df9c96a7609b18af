/**
 * Ports: the LLM agents that run in process. Each returns its result together
 * with the token usage and cost of the call, which the budget is charged.
 */
import type { Effect } from "effect"
import { Context } from "effect"
import type { Assessment, GateOutcome, ResearchId, Strategy, Usage } from "./Domain.js"
import type { AgentError } from "./Errors.js"

export interface AgentOutput<A> {
  readonly result: A
  readonly usage: Usage
}

export interface DesignRequest {
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
