/**
 * A fixed set of named resources (GPU devices, licence seats, job slots) that
 * jobs borrow one at a time. A borrower waits until one is free; the resource
 * always comes back, whether the job succeeds, fails, dies or is interrupted.
 */
import { Effect } from "effect"

export interface ResourcePool {
  readonly size: number
  /** Runs `f` with a free resource, waiting for one, and gives it back afterwards. */
  readonly use: <A, E, R>(f: (resource: string) => Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Resources free now. */
  readonly free: Effect.Effect<ReadonlyArray<string>>
  /** Resources borrowed now. */
  readonly busy: Effect.Effect<ReadonlyArray<string>>
}

/** A pool over `resources` (at least one, names distinct). */
export const make = (resources: readonly [string, ...Array<string>]): Effect.Effect<ResourcePool> =>
  Effect.gen(function*() {
    const permits = yield* Effect.makeSemaphore(resources.length)
    const free: Array<string> = [...resources]
    const busy = new Set<string>()

    const take = Effect.sync(() => {
      const resource = free.shift()
      if (resource !== undefined) busy.add(resource)
      return resource
    })
    const give = (resource: string | undefined) =>
      Effect.sync(() => {
        if (resource === undefined) return
        busy.delete(resource)
        free.push(resource)
      })

    const use = <A, E, R>(f: (resource: string) => Effect.Effect<A, E, R>) =>
      permits.withPermits(1)(
        Effect.acquireUseRelease(
          take,
          // A permit guarantees a free resource; no resource here is a bug in this module.
          (resource) => resource === undefined ? Effect.dieMessage("ResourcePool: permit without a resource") : f(resource),
          give
        )
      )

    return {
      size: resources.length,
      use,
      free: Effect.sync(() => [...free]),
      busy: Effect.sync(() => [...busy])
    }
  })

/** A pool of `n` anonymous slots named `slot-0`, `slot-1`, … */
export const slots = (n: number): Effect.Effect<ResourcePool> =>
  make(["slot-0", ...Array.from({ length: Math.max(0, n - 1) }, (_, i) => `slot-${i + 1}`)])
