/**
 * Port: wakes the coordinator loop when something happened (trigger, job
 * finished, worker freed or registered, cancel). The local layer works within
 * one process; a storage adapter may carry signals across processes.
 */
import { Context, Effect, Layer } from "effect"
import * as Signal from "./internal/signal.js"

export interface WakeupShape {
  /** Asks for a tick soon; never blocks, signals coalesce. */
  readonly signal: Effect.Effect<void>
  /** Waits for the next signal. */
  readonly await: Effect.Effect<void>
}

export class Wakeup extends Context.Tag("@foreman/core/Wakeup")<Wakeup, WakeupShape>() {}

/** An in-process wakeup. */
export const makeLocal: Effect.Effect<WakeupShape> = Effect.map(Signal.make, (signal) => ({
  signal: signal.raise,
  await: signal.await
}))

export const layerLocal: Layer.Layer<Wakeup> = Layer.effect(Wakeup, makeLocal)
