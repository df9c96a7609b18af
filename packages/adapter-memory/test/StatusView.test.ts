/**
 * `Coordinator.status` under concurrent calls: the calls made while a view is
 * read share the next one, and no call gets a view read before it was made.
 * The researches' port is held in the middle of a read to order the steps.
 */
import { assert, describe, it } from "@effect/vitest"
import { OfflineAgents } from "@foreman/agents"
import { Context, Deferred, Effect, Fiber, Layer, Option, Ref } from "effect"
import { Coordinator, Engine, ForemanConfig, Researches } from "@foreman/core"
import { Memory, MemoryWorkers } from "../src/index.js"

/** Once armed: signalled when the next read is done, and released to let it answer. */
interface Armed {
  readonly read: Deferred.Deferred<void>
  readonly release: Deferred.Deferred<void>
}

/** A hold on the active researches' reads: armed, the next read waits, once done, until released. */
interface Hold {
  readonly reads: Ref.Ref<number>
  readonly armed: Ref.Ref<Option.Option<Armed>>
}

/** The memory storage with its `activeChangedSince` counted, and held when armed. */
const heldStorage = (hold: Hold) =>
  Layer.effectContext(Effect.map(Effect.context<Layer.Layer.Success<typeof Memory.storage>>(), (context) => {
    const researches = Context.get(context, Researches.Researches)
    return Context.add(context, Researches.Researches, {
      ...researches,
      activeChangedSince: (mark) =>
        Effect.tap(researches.activeChangedSince(mark), () =>
          Effect.zipRight(
            Ref.update(hold.reads, (n) => n + 1),
            Effect.flatMap(Ref.getAndSet(hold.armed, Option.none()), Option.match({
              onNone: () => Effect.void,
              onSome: ({ read, release }) => Effect.zipRight(Deferred.succeed(read, undefined), Deferred.await(release))
            }))
          ))
    })
  })).pipe(Layer.provide(Memory.storage))

const engine = (hold: Hold) =>
  Engine.layer({
    storage: heldStorage(hold),
    agents: OfflineAgents.layer(),
    transport: MemoryWorkers.layer({ handlers: {} }),
    config: ForemanConfig.layerWith({ maxConcurrentResearches: 10 })
  })

/** Waits until the fiber is blocked (on its answer). */
const blocked = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) =>
  Effect.zipRight(Effect.yieldNow(), Fiber.status(fiber)).pipe(Effect.repeat({ until: (status) => status._tag === "Suspended" }))

describe("Coordinator.status", () => {
  it.live("gives the calls made during a read the next view, one for all, which shows the writes before them", () =>
    Effect.gen(function*() {
      const hold: Hold = { reads: yield* Ref.make(0), armed: yield* Ref.make(Option.none<Armed>()) }
      const context = yield* Layer.build(Layer.fresh(engine(hold)))
      const coordinator = Context.get(context, Coordinator.Coordinator)
      const a = yield* coordinator.trigger({ brief: "Explore RSI variations" })

      // The first call has read the active researches (only `a`) and is held there.
      const read = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      yield* Ref.set(hold.armed, Option.some({ read, release }))
      const first = yield* Effect.fork(coordinator.status())
      yield* Deferred.await(read)
      // `b` is committed meanwhile; two calls made after it wait.
      const b = yield* coordinator.trigger({ brief: "Test MACD strategies" })
      const second = yield* Effect.fork(coordinator.status())
      const third = yield* Effect.fork(coordinator.status())
      yield* blocked(second)
      yield* blocked(third)
      const readsBefore = yield* Ref.get(hold.reads)
      yield* Deferred.succeed(release, undefined)

      const [one, two, three] = yield* Effect.all([Fiber.join(first), Fiber.join(second), Fiber.join(third)])
      assert.deepStrictEqual(one.active.map((r) => r.id), [a.id])
      assert.deepStrictEqual(two.active.map((r) => r.id), [a.id, b.id], "a call never gets a view read before it")
      assert.strictEqual(three, two, "calls made during one read share the next view")
      assert.strictEqual(yield* Ref.get(hold.reads), readsBefore + 1, "one read for both")
      assert.deepStrictEqual((yield* coordinator.status()).active.map((r) => r.id), [a.id, b.id])
    }).pipe(Effect.scoped))
})
