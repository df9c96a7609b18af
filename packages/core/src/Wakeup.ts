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
  /**
   * Whether every change a tick must see raises `signal` here, none lost: so
   * it is for storage that only this process writes (in memory). The loop
   * then wakes only on signals and when the plan says something time-based
   * is due, with no poll. Absent or false (across processes, where a signal
   * can be lost), the loop also polls every `pollIntervalSeconds`.
   */
  readonly complete?: boolean
}

export class Wakeup extends Context.Tag("@foreman/core/Wakeup")<Wakeup, WakeupShape>() {}

/**
 * An in-process wakeup, complete: for storage only this process writes, whose
 * every change that matters to a tick signals it.
 */
export const makeLocal: Effect.Effect<WakeupShape> = Effect.map(Signal.make, (signal) => ({
  signal: signal.raise,
  await: signal.await,
  complete: true
}))

export const layerLocal: Layer.Layer<Wakeup> = Layer.effect(Wakeup, makeLocal)
