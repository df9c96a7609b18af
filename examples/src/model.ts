/**
 * A small classifier in plain TypeScript: a multilayer perceptron with one
 * tanh hidden layer and a sigmoid output, trained on standardised features
 * by mini-batch gradient descent (Adam) on the binary cross-entropy with L2
 * weight decay. Initialisation and batch order come from a seeded generator,
 * so the same data and seed give the same model, bit for bit. The trained
 * model is plain data (`Mlp`) so it can travel inside a job result.
 */
import { Schema } from "effect"
import * as SeededRandom from "./seededRandom.js"

/** A trained model, serialisable as JSON. */
export const Mlp = Schema.Struct({
  kind: Schema.Literal("mlp"),
  featureNames: Schema.Array(Schema.String),
  /** Standardisation: x' = clamp((x − mean) / scale, ±5). */
  mean: Schema.Array(Schema.Finite),
  scale: Schema.Array(Schema.Finite),
  /** hiddenWeights[j][k]: input k to hidden unit j. */
  hiddenWeights: Schema.Array(Schema.Array(Schema.Finite)),
  hiddenBiases: Schema.Array(Schema.Finite),
  outputWeights: Schema.Array(Schema.Finite),
  outputBias: Schema.Finite
}).pipe(Schema.filter((m) => {
  const inputs = m.featureNames.length
  const hidden = m.hiddenWeights.length
  return (inputs > 0 && hidden > 0 && m.mean.length === inputs && m.scale.length === inputs && m.hiddenBiases.length === hidden &&
    m.outputWeights.length === hidden && m.hiddenWeights.every((w) => w.length === inputs)) ||
    "the model's weight shapes do not match its features"
}))
export type Mlp = typeof Mlp.Type

/** How to train. */
export interface TrainingOptions {
  readonly hiddenUnits: number
  readonly epochs: number
  readonly batchSize: number
  readonly learningRate: number
  readonly l2: number
  readonly seed: number
}

const CLIP = 5
const EPSILON = 1e-7

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z))

/** Binary cross-entropy of one prediction, with the probability kept off 0 and 1. */
export const crossEntropy = (p: number, y: number): number => {
  const q = Math.min(1 - EPSILON, Math.max(EPSILON, p))
  return y === 1 ? -Math.log(q) : -Math.log(1 - q)
}

const standardise = (row: ReadonlyArray<number>, mean: ReadonlyArray<number>, scale: ReadonlyArray<number>) =>
  row.map((x, k) => Math.max(-CLIP, Math.min(CLIP, (x - mean[k]!) / scale[k]!)))

/** The probability that the label is 1. */
export const predict = (model: Mlp, row: ReadonlyArray<number>): number => {
  const x = standardise(row, model.mean, model.scale)
  let z = model.outputBias
  for (let j = 0; j < model.hiddenWeights.length; j++) {
    const w = model.hiddenWeights[j]!
    let a = model.hiddenBiases[j]!
    for (let k = 0; k < x.length; k++) a += w[k]! * x[k]!
    z += model.outputWeights[j]! * Math.tanh(a)
  }
  return sigmoid(z)
}

/** Mean cross-entropy and accuracy (threshold 0.5) of a model on labelled rows. */
export const evaluate = (
  model: Mlp,
  rows: ReadonlyArray<ReadonlyArray<number>>,
  labels: ReadonlyArray<number>
): { readonly loss: number; readonly accuracy: number } => {
  let loss = 0
  let correct = 0
  rows.forEach((row, i) => {
    const p = predict(model, row)
    const y = labels[i]!
    loss += crossEntropy(p, y)
    if ((p > 0.5 ? 1 : 0) === y) correct++
  })
  return { loss: loss / rows.length, accuracy: correct / rows.length }
}

/** A model being trained one epoch at a time (so the caller can report progress between epochs). */
export interface Trainer {
  /** Runs one pass over the shuffled training rows; returns the training loss after it. */
  readonly epoch: () => number
  readonly model: () => Mlp
}

/** Prepares training on rows (features) and 0/1 labels; nothing runs until `epoch`. */
export const makeTrainer = (
  featureNames: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<number>>,
  labels: ReadonlyArray<number>,
  options: TrainingOptions
): Trainer => {
  const n = rows.length
  const inputs = featureNames.length
  const hidden = options.hiddenUnits
  const mean = Array.from({ length: inputs }, (_, k) => rows.reduce((s, r) => s + r[k]!, 0) / n)
  const scale = mean.map((m, k) => {
    const sd = Math.sqrt(rows.reduce((s, r) => s + (r[k]! - m) ** 2, 0) / n)
    return sd > 0 ? sd : 1
  })
  const x = rows.map((r) => Float64Array.from(standardise(r, mean, scale)))
  const random = SeededRandom.make(options.seed)

  // Parameters in one vector: hidden weights (hidden × inputs), hidden biases, output weights, output bias.
  const W1 = 0
  const B1 = hidden * inputs
  const W2 = B1 + hidden
  const B2 = W2 + hidden
  const size = B2 + 1
  const params = new Float64Array(size)
  const limit1 = Math.sqrt(6 / (inputs + hidden))
  const limit2 = Math.sqrt(6 / (hidden + 1))
  for (let i = W1; i < B1; i++) params[i] = (2 * random.next() - 1) * limit1
  for (let i = W2; i < B2; i++) params[i] = (2 * random.next() - 1) * limit2

  const grad = new Float64Array(size)
  const m1 = new Float64Array(size)
  const m2 = new Float64Array(size)
  const activations = new Float64Array(hidden)
  const beta1 = 0.9
  const beta2 = 0.999
  let step = 0

  const forward = (xi: Float64Array): number => {
    let z = params[B2]!
    for (let j = 0; j < hidden; j++) {
      let a = params[B1 + j]!
      const offset = W1 + j * inputs
      for (let k = 0; k < inputs; k++) a += params[offset + k]! * xi[k]!
      const h = Math.tanh(a)
      activations[j] = h
      z += params[W2 + j]! * h
    }
    return sigmoid(z)
  }

  const trainBatch = (batch: ReadonlyArray<number>) => {
    grad.fill(0)
    for (const i of batch) {
      const xi = x[i]!
      const dz = forward(xi) - labels[i]!
      grad[B2] = grad[B2]! + dz
      for (let j = 0; j < hidden; j++) {
        const h = activations[j]!
        grad[W2 + j] = grad[W2 + j]! + dz * h
        const da = dz * params[W2 + j]! * (1 - h * h)
        grad[B1 + j] = grad[B1 + j]! + da
        const offset = W1 + j * inputs
        for (let k = 0; k < inputs; k++) grad[offset + k] = grad[offset + k]! + da * xi[k]!
      }
    }
    step++
    const correction1 = 1 - beta1 ** step
    const correction2 = 1 - beta2 ** step
    for (let i = 0; i < size; i++) {
      const isWeight = i < B1 || (i >= W2 && i < B2)
      const g = grad[i]! / batch.length + (isWeight ? options.l2 * params[i]! : 0)
      m1[i] = beta1 * m1[i]! + (1 - beta1) * g
      m2[i] = beta2 * m2[i]! + (1 - beta2) * g * g
      params[i] = params[i]! -
        options.learningRate * (m1[i]! / correction1) / (Math.sqrt(m2[i]! / correction2) + 1e-8)
    }
  }

  const order = Array.from({ length: n }, (_, i) => i)
  const epoch = (): number => {
    for (let i = n - 1; i > 0; i--) {
      const j = random.int(i + 1)
      const t = order[i]!
      order[i] = order[j]!
      order[j] = t
    }
    for (let start = 0; start < n; start += options.batchSize) {
      trainBatch(order.slice(start, start + options.batchSize))
    }
    let loss = 0
    for (let i = 0; i < n; i++) loss += crossEntropy(forward(x[i]!), labels[i]!)
    return loss / n
  }

  const model = (): Mlp => ({
    kind: "mlp",
    featureNames: [...featureNames],
    mean,
    scale,
    hiddenWeights: Array.from(
      { length: hidden },
      (_, j) => Array.from(params.subarray(W1 + j * inputs, W1 + (j + 1) * inputs))
    ),
    hiddenBiases: Array.from(params.subarray(B1, W2)),
    outputWeights: Array.from(params.subarray(W2, B2)),
    outputBias: params[B2]!
  })

  return { epoch, model }
}
