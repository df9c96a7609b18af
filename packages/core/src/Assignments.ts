/**
 * Port: wakes the waiting polls of a pull worker when something changed for
 * it (a job assigned to it, a job of its cancelled), so a poll answers at once
 * instead of at the end of its wait. An announcement with no poll waiting is
 * kept for the worker's next wait, which then returns at once and reads the
 * jobs again: a wait never misses an announcement. The local layer works within
 * one process; a storage adapter may carry announcements across processes
 * (a poll may land on any coordinator replica).
 */
import { Context, Effect, Layer } from "effect"
import type { WorkerId } from "./Domain.js"
import * as Signal from "./internal/signal.js"

export interface AssignmentsShape {
  /** Wakes the polls of `workerId` (in every process); never blocks. */
  readonly announce: (workerId: WorkerId) => Effect.Effect<void>
  /** Waits for the next announcement for `workerId`. */
  readonly await: (workerId: WorkerId) => Effect.Effect<void>
}

export class Assignments extends Context.Tag("@foreman/core/Assignments")<Assignments, AssignmentsShape>() {}

/** Announcements within one process: a signal per worker. */
export const makeLocal: Effect.Effect<AssignmentsShape> = Effect.sync(() => {
  const signals = new Map<WorkerId, Signal.Signal>()
  const signalOf = (workerId: WorkerId) => {
    let signal = signals.get(workerId)
    if (signal === undefined) {
      signal = Signal.unsafeMake()
      signals.set(workerId, signal)
    }
    return signal
  }
  return {
    announce: (workerId) => Effect.suspend(() => signalOf(workerId).raise),
    await: (workerId) => Effect.suspend(() => signalOf(workerId).await)
  }
})

export const layerLocal: Layer.Layer<Assignments> = Layer.effect(Assignments, makeLocal)
