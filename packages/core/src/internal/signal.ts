/**
 * A coalescing signal: `raise` wakes everyone waiting, or, when nobody waits,
 * is remembered so the next `await` returns at once. Lighter than a queue: a
 * wait allocates no Deferred, which matters on the coordinator's hot loop.
 */
import { Effect } from "effect"

export interface Signal {
  readonly raise: Effect.Effect<void>
  readonly await: Effect.Effect<void>
}

export const unsafeMake = (): Signal => {
  let pending = false
  const waiters = new Set<(effect: Effect.Effect<void>) => void>()
  return {
    raise: Effect.sync(() => {
      if (waiters.size === 0) {
        pending = true
        return
      }
      const woken = Array.from(waiters)
      waiters.clear()
      for (const resume of woken) resume(Effect.void)
    }),
    await: Effect.async<void>((resume) => {
      if (pending) {
        pending = false
        resume(Effect.void)
        return
      }
      waiters.add(resume)
      return Effect.sync(() => {
        waiters.delete(resume)
      })
    })
  }
}

export const make: Effect.Effect<Signal> = Effect.sync(unsafeMake)
