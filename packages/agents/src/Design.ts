/**
 * The design a model returns (structured output) and how it becomes the
 * strategy the workers consume. The schema keeps to what every provider's
 * structured output accepts (all fields required, no open records):
 * indicator parameters are a list of name/value pairs.
 */
import type { Agents, Domain } from "@foreman/core"
import { Schema } from "effect"

const Parameter = Schema.Struct({
  name: Schema.String.annotations({ description: "Parameter name, e.g. period, fast, slow, signal, stddev, smoothing" }),
  value: Schema.Number
})

const Indicator = Schema.Struct({
  name: Schema.String.annotations({ description: "One of the indicators the workers support" }),
  parameters: Schema.Array(Parameter).annotations({
    description: "The indicator's parameters; leave out any to use its textbook default"
  })
})

/** What the designer asks the model for. */
export const Design = Schema.Struct({
  name: Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9_]{2,47}$/)).annotations({
    description: "A short snake_case name for the strategy, e.g. rsi_macd_trend"
  }),
  hypothesis: Schema.String.pipe(Schema.minLength(10), Schema.maxLength(600)).annotations({
    description: "The hypothesis the strategy tests, in one sentence"
  }),
  instrument: Schema.String.annotations({ description: "One of the instruments the workers support" }),
  timeframe: Schema.String.annotations({ description: "One of the timeframes the workers support" }),
  indicators: Schema.Array(Indicator).pipe(Schema.minItems(1), Schema.maxItems(6)),
  labelHorizonDays: Schema.Number.pipe(Schema.int(), Schema.between(1, 20)).annotations({
    description: "How many bars ahead the model predicts the direction of"
  }),
  model: Schema.Struct({
    family: Schema.String.annotations({
      description: "One of the model families the training workers declare (their `models`), e.g. random_forest or mlp"
    }),
    parameters: Schema.Array(Parameter).annotations({
      description: "Hyper-parameters the family accepts, within the ranges the workers declare; leave out any to use its default"
    })
  }).annotations({ description: "The model the training worker fits, and its hyper-parameters" })
}).annotations({ description: "A trading strategy for the training and backtest workers" })
export type Design = typeof Design.Type

/** The strategy the workers consume: the design's name, and everything else as its spec. */
export const toStrategy = (design: Design): Domain.Strategy => ({
  name: design.name,
  spec: {
    hypothesis: design.hypothesis,
    instrument: design.instrument,
    timeframe: design.timeframe,
    indicators: design.indicators.map((i) => ({
      name: i.name,
      ...Object.fromEntries(i.parameters.map((p) => [p.name, p.value]))
    })),
    labelHorizonDays: design.labelHorizonDays,
    model: {
      family: design.model.family,
      ...Object.fromEntries(design.model.parameters.map((p) => [p.name, p.value]))
    }
  }
})

/** The vocabularies the workers declare: `indicators`, `instruments`, `timeframes`, and model families (`models`). */
export interface Supported {
  readonly indicators: ReadonlyArray<string> | undefined
  readonly instruments: ReadonlyArray<string> | undefined
  readonly timeframes: ReadonlyArray<string> | undefined
  readonly models: ReadonlyArray<string> | undefined
}

/** A vocabulary: a list of names, or an object whose keys are the names (`models`: family → its hyper-parameters). */
const strings = (u: unknown): ReadonlyArray<string> | undefined =>
  Array.isArray(u)
    ? (u.every((x) => typeof x === "string") ? u : undefined)
    : typeof u === "object" && u !== null
    ? Object.keys(u)
    : undefined

/**
 * What every worker type that declared a vocabulary supports: for each worker
 * type, the union over its workers; across types, the intersection (a design
 * must run on the training and on the backtest workers). Undefined when no
 * worker declared that vocabulary.
 */
export const supported = (workers: ReadonlyArray<Agents.WorkerCapabilities>): Supported => {
  const of = (key: string): ReadonlyArray<string> | undefined => {
    const byType = new Map<string, Set<string>>()
    for (const w of workers) {
      const list = strings(w.capabilities[key])
      if (list === undefined) continue
      const set = byType.get(w.workerType) ?? new Set<string>()
      for (const item of list) set.add(item)
      byType.set(w.workerType, set)
    }
    const sets = [...byType.values()]
    if (sets.length === 0) return undefined
    return [...sets[0]!].filter((item) => sets.every((s) => s.has(item)))
  }
  return { indicators: of("indicators"), instruments: of("instruments"), timeframes: of("timeframes"), models: of("models") }
}

const outside = (what: string, values: ReadonlyArray<string>, allowed: ReadonlyArray<string> | undefined) => {
  if (allowed === undefined) return []
  const unknown = [...new Set(values.filter((v) => !allowed.includes(v)))]
  return unknown.length === 0 ? [] : [
    `${what} ${unknown.map((v) => JSON.stringify(v)).join(", ")} (the workers support ${
      allowed.length === 0 ? "none" : allowed.join(", ")
    })`
  ]
}

/** What the design names that no worker supports, in words; empty when the workers can run it. */
export const unsupported = (design: Design, support: Supported): ReadonlyArray<string> => [
  ...outside("indicator", design.indicators.map((i) => i.name), support.indicators),
  ...outside("instrument", [design.instrument], support.instruments),
  ...outside("timeframe", [design.timeframe], support.timeframes),
  ...outside("model family", [design.model.family], support.models)
]
