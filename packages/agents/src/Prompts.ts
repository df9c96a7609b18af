/**
 * The prompts of the model agents. The design prompt gives the model the
 * brief, what the registered workers support, and the outcomes of the latest
 * finished researches; the assessment prompt gives it a finished cycle's
 * strategy, gates and metrics. Only scalar metrics are quoted: a worker's
 * result may carry a trained model or an equity curve, which a prompt does
 * not need.
 */
import type { Agents, Domain } from "@foreman/core"
import type { Prompt } from "@effect/ai"
import type { Supported } from "./Design.js"

/** A conversation, as the model gets it. */
export type Messages = ReadonlyArray<Prompt.MessageEncoded>

export const designSystem = [
  "You design trading strategies for an automated research lab.",
  "Each design is trained by a training worker (a model of one of the families the training workers declare",
  "under `models`, with the hyper-parameters each accepts and their ranges, on the indicators' values as features,",
  "predicting whether the price is higher labelHorizonDays bars ahead), gated on its test accuracy,",
  "then backtested on held-out data with costs and gated on its Sharpe ratio and drawdown.",
  "Use only the indicators, instruments, timeframes and model families the workers support.",
  "Answer with the structured object only."
].join(" ")

export const assessSystem = [
  "You assess finished research cycles of an automated trading-research lab.",
  "Given a strategy, its gate outcomes and its metrics, give a verdict: promising (worth more research),",
  "inconclusive (the evidence does not decide), or rejected (not worth pursuing); a summary of two or three",
  "sentences that cites the numbers; and the brief you would research next.",
  "Answer with the structured object only."
].join(" ")

/** Scalar fields of a result object: numbers, strings and booleans, no arrays or nested objects. */
const scalars = (value: unknown): string => {
  if (typeof value !== "object" || value === null) return ""
  return Object.entries(value)
    .filter(([, v]) => typeof v === "number" || typeof v === "string" || typeof v === "boolean")
    .filter(([k, v]) => !(typeof v === "string" && (v.length > 80 || k.toLowerCase().endsWith("ref"))))
    .map(([k, v]) => `${k} ${typeof v === "number" ? Number(v.toPrecision(4)) : v}`)
    .join(", ")
}

const gateLine = (name: string, gate: Domain.GateOutcome): string =>
  `${name} gate ${gate.bypassed ? "bypassed" : gate.passed ? "passed" : `failed (${gate.reason ?? "no reason"})`}`

const verdictOf = (r: Domain.Research): string => {
  const assessment = r.results["assessment"]
  return typeof assessment === "object" && assessment !== null && "verdict" in assessment
    ? `, verdict ${String(assessment.verdict)}`
    : ""
}

/** One finished research in a line or three. */
export const outcomeLine = (r: Domain.Research, index: number): string => {
  const strategy = r.strategy === null ? "no strategy" : `${r.strategy.name} ${JSON.stringify(r.strategy.spec)}`
  const gates = Object.entries(r.gates).map(([name, g]) => gateLine(name, g))
  const metrics = ["training", "backtest"]
    .map((kind) => [kind, scalars(r.results[kind])] as const)
    .filter(([, text]) => text !== "")
    .map(([kind, text]) => `${kind}: ${text}`)
  return [
    `${index + 1}. ${r.status}${verdictOf(r)}: ${strategy}`,
    ...(gates.length > 0 ? [`   ${gates.join("; ")}`] : []),
    ...(metrics.length > 0 ? [`   ${metrics.join("; ")}`] : []),
    ...(r.error !== null ? [`   error: ${r.error}`] : [])
  ].join("\n")
}

const vocabulary = (name: string, values: ReadonlyArray<string> | undefined): string =>
  `- ${name}: ${values === undefined ? "(not declared by the workers)" : values.join(", ")}`

/** The messages of a design request. */
export const design = (request: Agents.DesignRequest, support: Supported): Messages => [
  { role: "system", content: designSystem },
  {
    role: "user",
    content: [
      `Brief: ${request.brief}`,
      "",
      "What the workers support (use only these):",
      vocabulary("indicators", support.indicators),
      vocabulary("instruments", support.instruments),
      vocabulary("timeframes", support.timeframes),
      ...request.workers.map((w) => `- ${w.workerType} worker declares ${JSON.stringify(w.capabilities)}`),
      "",
      request.recent.length === 0
        ? "No research has finished yet."
        : `The latest finished researches, newest first:\n${request.recent.map(outcomeLine).join("\n")}`,
      "",
      "Design one new strategy that tests a clear hypothesis about the brief and learns from the outcomes above.",
      "Give it a name that none of them uses."
    ].join("\n")
  }
]

/** The messages of an assessment request. */
export const assess = (request: Agents.AssessmentRequest): Messages => [
  { role: "system", content: assessSystem },
  {
    role: "user",
    content: [
      `Brief: ${request.brief}`,
      request.strategy === null
        ? "Strategy: none"
        : `Strategy: ${request.strategy.name} ${JSON.stringify(request.strategy.spec)}`,
      ...Object.entries(request.gates).map(([name, g]) => gateLine(name, g)),
      ...["training", "backtest"]
        .map((kind) => [kind, scalars(request.results[kind])] as const)
        .map(([kind, text]) => `${kind} metrics: ${text === "" ? "none (the phase did not run)" : text}`)
    ].join("\n")
  }
]

/** The conversation again, with the unusable answer and what was wrong with it. */
export const repair = (prompt: Messages, answer: string | null, problem: string): Messages => [
  ...prompt,
  ...(answer === null ? [] : [{ role: "assistant", content: answer } as const]),
  {
    role: "user",
    content: `That answer cannot be used: ${problem}. Answer again with a corrected object.`
  }
]
