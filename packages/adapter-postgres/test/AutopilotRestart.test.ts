/**
 * The autopilot's durability on PostgreSQL: started under one coordinator,
 * it goes on under the next after a restart, run by whichever leads, and
 * stops at its maximum with its lineage recorded.
 */
import { assert, describe, it } from "@effect/vitest"
import { MemoryWorkers } from "@foreman/adapter-memory"
import { Coordinator } from "@foreman/core"
import { Context, Effect, Exit, Layer, Logger, LogLevel, Schedule, Scope } from "effect"
import { beforeAll } from "vitest"
import { engine, quickHandlers } from "@foreman/testing/PgEngine"
import { createDatabase, truncate } from "@foreman/testing/PgDatabase"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_autopilot")
})

const quiet = Logger.withMinimumLogLevel(LogLevel.Error)

/** A coordinator with a training and a backtest worker, leading in `scope`. */
const startCoordinator = (scope: Scope.Scope) =>
  Effect.gen(function*() {
    const context = yield* Layer.buildWithScope(Layer.fresh(engine(url, { handlers: quickHandlers(0.3) })), scope)
    const pool = Context.get(context, MemoryWorkers.MemoryWorkers)
    yield* pool.spawn({ id: "training-1", type: "training" })
    yield* pool.spawn({ id: "backtest-1", type: "backtest" })
    const coordinator = Context.get(context, Coordinator.Coordinator)
    yield* Effect.forkIn(coordinator.run, scope)
    return { coordinator, context }
  })

describe("the autopilot on PostgreSQL", () => {
  it.live("goes on after a coordinator restart, and stops at its maximum", () =>
    Effect.gen(function*() {
      const firstScope = yield* Scope.make()
      const first = yield* startCoordinator(firstScope)
      yield* truncate.pipe(Effect.provide(first.context))
      const started = yield* first.coordinator.autopilot.start({ brief: "Explore RSI variations", keep: 1, max: 3 })
      yield* first.coordinator.autopilot.status().pipe(
        Effect.filterOrFail((s) => (s.autopilot?.started.length ?? 0) >= 1),
        Effect.retry(Schedule.spaced("20 millis")),
        Effect.timeout("20 seconds")
      )
      yield* Scope.close(firstScope, Exit.void)

      const secondScope = yield* Scope.make()
      const second = yield* startCoordinator(secondScope)
      const done = yield* second.coordinator.autopilot.status().pipe(
        Effect.filterOrFail((s) => s.autopilot?.status === "stopped"),
        Effect.retry(Schedule.spaced("50 millis")),
        Effect.timeout("60 seconds")
      )
      const a = done.autopilot!
      assert.strictEqual(a.startedAt, started.startedAt, "the same autopilot, read back from storage")
      assert.deepStrictEqual([a.stopReason, a.started.length], ["max", 3])
      const researches = yield* Effect.forEach(a.started, (id) => Effect.map(second.coordinator.show(id), (d) => d.research))
      assert.isNull(researches[0]!.parentId, "the first follows nothing")
      // One at a time (keep 1): each follows the one before when that one's assessment was promising.
      for (let i = 1; i < researches.length; i++) {
        const before = researches[i - 1]!
        const verdict = (before.results["assessment"] as { verdict?: string } | undefined)?.verdict
        assert.strictEqual(researches[i]!.parentId, verdict === "promising" ? before.id : null, `research ${i}`)
      }
      yield* Scope.close(secondScope, Exit.void)
    }).pipe(quiet))
})
