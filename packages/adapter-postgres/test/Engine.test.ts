/**
 * The engine on PostgreSQL: bad input is rejected or stored verbatim, a
 * trigger on one replica wakes the leader at once through LISTEN/NOTIFY, and
 * designs go to the strategy catalogue, from which a trigger reuses them.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Coordinator, type Domain, WorkerTransport } from "@foreman/core"
import { Context, Effect, Layer, Logger, LogLevel, Schedule } from "effect"
import { beforeAll } from "vitest"
import { engine, replica } from "@foreman/testing/PgEngine"
import { createDatabase, truncate } from "@foreman/testing/PgDatabase"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_engine")
})

const quiet = Logger.withMinimumLogLevel(LogLevel.Error)

describe("engine on PostgreSQL", () => {
  it.live("rejects bad input with a typed error and stores odd text verbatim", () =>
    Effect.gen(function*() {
      const coordinator = yield* Coordinator.Coordinator
      const sql = yield* SqlClient.SqlClient
      yield* truncate
      const refused = [
        { brief: "x".repeat(10_001) },
        { brief: "nul \u0000 inside" },
        { brief: "lone surrogate \ud800" },
        { strategy: { name: "s", spec: { note: "nul \u0000" } } },
        { brief: "ok", model: "" },
        {}
      ]
      for (const request of refused) {
        const error = yield* Effect.flip(coordinator.trigger(request))
        assert.strictEqual(error._tag, "InvalidInput", JSON.stringify(request).slice(0, 60))
      }
      const odd = "Robert'); DROP TABLE foreman_researches; -- 🚀 ünïcödé \\u0000 \u202e \"quoted\""
      const research = yield* coordinator.trigger({ brief: odd, model: "m'; --", force: true })
      const shown = yield* coordinator.show(research.id)
      assert.strictEqual(shown.research.brief, odd)
      assert.strictEqual(shown.research.model, "m'; --")
      for (const id of ["op_x'; DROP TABLE foreman_jobs; --", "op_" + "9".repeat(5000), "op_\u0000"]) {
        const error = yield* Effect.flip(coordinator.show(id as Domain.ResearchId))
        assert.strictEqual(error._tag, "ResearchNotFound")
        assert.strictEqual((yield* Effect.flip(coordinator.cancel(id as Domain.ResearchId)))._tag, "ResearchNotFound")
      }
      const [count] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM foreman_researches`
      assert.strictEqual(count!.n, 1, "nothing else was written, nothing dropped")
    }).pipe(Effect.scoped, Effect.provide(Layer.fresh(engine(url))), quiet))

  it.live("a trigger on a standby wakes the leader at once, not at the next poll", () =>
    Effect.gen(function*() {
      const options = { config: { pollIntervalSeconds: 60, dailyBudgetUsd: 0 } }
      const leader = yield* Layer.build(Layer.fresh(engine(url, options)))
      yield* Effect.flatMap(SqlClient.SqlClient, () => truncate).pipe(Effect.provide(leader))
      const transport = Context.get(leader, WorkerTransport.WorkerTransport)
      const standby = yield* Layer.build(Layer.fresh(replica(url, transport, options)))
      yield* Effect.forkScoped(Context.get(leader, Coordinator.Coordinator).run)
      yield* Effect.sleep("1 second")
      yield* Effect.forkScoped(Context.get(standby, Coordinator.Coordinator).run)

      const t0 = performance.now()
      const research = yield* Context.get(standby, Coordinator.Coordinator).trigger({ brief: "Explore RSI", force: true })
      const coordinator = Context.get(leader, Coordinator.Coordinator)
      yield* coordinator.show(research.id).pipe(
        Effect.filterOrFail((s) => s.jobs.length > 0),
        Effect.retry(Schedule.spaced("10 millis")),
        Effect.timeout("10 seconds")
      )
      const waited = performance.now() - t0
      assert.isBelow(waited, 2_000, `acted on after ${waited.toFixed(0)} ms with a 60 s poll`)
    }).pipe(Effect.scoped, quiet))

  it.live("catalogues a design with its transition; a trigger naming it trains it without designing", () =>
    Effect.gen(function*() {
      const coordinator = yield* Coordinator.Coordinator
      yield* truncate
      yield* Effect.forkScoped(coordinator.run)
      const designer = yield* coordinator.trigger({ brief: "Explore RSI variations", force: true })
      const [stored] = yield* coordinator.strategies().pipe(
        Effect.filterOrFail((list) => list.length === 1),
        Effect.retry(Schedule.spaced("20 millis")),
        Effect.timeout("10 seconds")
      )
      const designed = (yield* coordinator.show(designer.id)).research.strategy
      assert.deepStrictEqual(stored!.strategy, designed)
      assert.strictEqual(stored!.researchId, designer.id)

      const reuse = yield* coordinator.trigger({ strategy: stored!.name, force: true })
      assert.deepStrictEqual(reuse.strategy, designed)
      assert.strictEqual(reuse.phase, "training")
      assert.strictEqual((yield* coordinator.strategy(stored!.name)).researches, 2)
      const unknown = yield* Effect.flip(coordinator.trigger({ strategy: `${stored!.name}_x`, force: true }))
      assert.strictEqual(unknown.message, `Unknown strategy: ${stored!.name}_x (closest: ${stored!.name})`)
    }).pipe(Effect.scoped, Effect.provide(Layer.fresh(engine(url))), quiet))
})
