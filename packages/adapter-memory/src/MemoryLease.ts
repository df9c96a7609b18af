/**
 * In-memory leadership: one leader at a time within the process; a standby's
 * `acquire` waits until the leader's scope closes. Every acquisition gets the
 * next epoch.
 */
import { CoordinatorLease } from "@foreman/core"
import { Effect, Layer, Ref } from "effect"

export const make = Effect.gen(function*() {
  const epoch = yield* Ref.make(0)
  const held = yield* Effect.makeSemaphore(1)
  return CoordinatorLease.CoordinatorLease.of({
    acquire: Effect.gen(function*() {
      yield* Effect.acquireRelease(held.take(1), () => held.release(1))
      return { epoch: yield* Ref.updateAndGet(epoch, (n) => n + 1), lost: Effect.never }
    }),
    current: Ref.get(epoch)
  })
})

export const layer: Layer.Layer<CoordinatorLease.CoordinatorLease> = Layer.effect(CoordinatorLease.CoordinatorLease, make)
