/**
 * Two coordinators on one database: one leads, the other stands by and serves
 * the API; killing the leader's lease connection hands the loop over. No worker
 * is double-booked, no research is lost, never two leaders at once. The
 * standby's status view shows every write committed before it is asked.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { MemoryWorkers } from "@foreman/adapter-memory"
import { Coordinator, type Domain, Researches, WorkerTransport } from "@foreman/core"
import { Context, Duration, Effect, Layer, Logger, LogLevel, Ref, Schedule } from "effect"
import { beforeAll } from "vitest"
import { engine, replica } from "@foreman/testing/PgEngine"
import { createDatabase } from "@foreman/testing/PgDatabase"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_replicas")
})

/** Two coordinators on the database at `at`: `a` with the memory workers, `b` a replica sending to them. */
const twoCoordinators = (at: string, options: Parameters<typeof engine>[1]) =>
  Effect.gen(function*() {
    const a = yield* Layer.build(Layer.fresh(engine(at, options)))
    const b = yield* Layer.build(Layer.fresh(replica(at, Context.get(a, WorkerTransport.WorkerTransport), options)))
    return { a, b }
  })

const LEADER_LOCK = 0x666f72656d616c

describe("two coordinators on one database", () => {
  it.live("share 200 researches, survive the leader losing its connection, and finish them all", () =>
    Effect.gen(function*() {
      const options = { config: { pollIntervalSeconds: 0.5, dailyBudgetUsd: 0 } }
      const { a, b } = yield* twoCoordinators(url, options)
      const coordinatorA = Context.get(a, Coordinator.Coordinator)
      const coordinatorB = Context.get(b, Coordinator.Coordinator)
      const sql = Context.get(a, SqlClient.SqlClient)
      const pool = Context.get(a, MemoryWorkers.MemoryWorkers)

      for (let i = 1; i <= 3; i++) yield* pool.spawn({ id: `training-${i}`, type: "training" })
      for (let i = 1; i <= 2; i++) yield* pool.spawn({ id: `backtest-${i}`, type: "backtest" })
      yield* Effect.forkScoped(coordinatorA.run)
      yield* Effect.forkScoped(coordinatorB.run)

      // Advisory locks belong to a database: the leases of other test files' databases on
      // the same server are not this test's.
      const thisDatabase = sql`database = (SELECT oid FROM pg_database WHERE datname = current_database())`
      // Referee: at most one lease holder, no worker over capacity, sampled every 50 ms.
      const problems = yield* Ref.make<Array<string>>([])
      const maxLeaders = yield* Ref.make(0)
      yield* Effect.gen(function*() {
        const [locks] = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND ${thisDatabase}
          AND ((classid::bigint << 32) | objid::bigint) = ${LEADER_LOCK}`
        yield* Ref.update(maxLeaders, (n) => Math.max(n, locks?.n ?? 0))
        const over = yield* sql<{ id: string }>`SELECT id FROM foreman_workers WHERE cardinality(current_jobs) > capacity`
        if (over.length > 0) yield* Ref.update(problems, (p) => [...p, `over capacity: ${over.map((w) => w.id)}`])
      }).pipe(Effect.repeat(Schedule.spaced("50 millis")), Effect.forkScoped)

      const ids: Array<Domain.ResearchId> = []
      for (let i = 0; i < 200; i++) {
        const coordinator = i % 2 === 0 ? coordinatorA : coordinatorB
        ids.push((yield* coordinator.trigger({ brief: `research ${i}`, force: true })).id)
      }

      const completed = sql<{ n: number }>`SELECT count(*)::int AS n FROM foreman_researches WHERE status = 'completed'`
      yield* completed.pipe(
        Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: ([row]) => (row?.n ?? 0) >= 50 })
      )
      const [before] = yield* sql<{ epoch: number }>`SELECT epoch::int AS epoch FROM foreman_lease`
      const killed = yield* sql<{ pid: number }>`
        SELECT pg_terminate_backend(pid) AS ok, pid FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND ${thisDatabase}
        AND ((classid::bigint << 32) | objid::bigint) = ${LEADER_LOCK}`
      assert.strictEqual(killed.length, 1, "one leader held the lease")

      yield* completed.pipe(
        Effect.repeat({ schedule: Schedule.spaced("200 millis"), until: ([row]) => (row?.n ?? 0) >= 200 }),
        Effect.timeout(Duration.seconds(120))
      )
      const [after] = yield* sql<{ epoch: number }>`SELECT epoch::int AS epoch FROM foreman_lease`
      assert.isTrue(after!.epoch > before!.epoch, "the standby took over with a new epoch")

      const statuses = yield* sql<{ status: string; n: number }>`
        SELECT status, count(*)::int AS n FROM foreman_researches GROUP BY status`
      assert.deepStrictEqual(statuses, [{ status: "completed", n: 200 }])
      const stats = yield* pool.stats
      assert.deepStrictEqual(stats.duplicateStarts, [])
      assert.deepStrictEqual(stats.overlapping, [])
      assert.deepStrictEqual(yield* Ref.get(problems), [])
      assert.strictEqual(yield* Ref.get(maxLeaders), 1)
      const busy = yield* sql<{ id: string }>`SELECT id FROM foreman_workers WHERE cardinality(current_jobs) > 0`
      assert.deepStrictEqual(busy, [], "every worker was released")
      for (const id of ids.slice(0, 5)) {
        const shown = yield* coordinatorB.show(id)
        assert.strictEqual(shown.research.status, "completed")
      }
    }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Error)), { timeout: 180_000 })
})

describe("the status view on a replica that does not lead", () => {
  let url = ""
  beforeAll(async () => {
    url = await createDatabase("foreman_replicas_status")
  })

  it.live("shows every write committed before it is asked, its own or the leader's, while keeping what it read", () =>
    Effect.gen(function*() {
      const options = { config: { pollIntervalSeconds: 0.5, dailyBudgetUsd: 0, maxConcurrentResearches: 100 } }
      const { a, b } = yield* twoCoordinators(url, options)
      const leader = Context.get(a, Coordinator.Coordinator)
      const standby = Context.get(b, Coordinator.Coordinator)
      const researches = Context.get(b, Researches.Researches)
      yield* Effect.forkScoped(leader.run)
      yield* leader.leading.pipe(Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (leading) => leading }))

      /** What the status shows of each active research, beside what a whole read of them answers. */
      const shown = (active: ReadonlyArray<Coordinator.ActiveResearch>) =>
        active.map((r) => [r.id, r.status, r.phase, r.waitingFor?.workerType ?? null, r.job?.id ?? null])
      const expected = Effect.map(researches.listActive, (entries) =>
        entries.map(({ job, research: r }) => [r.id, r.status, r.phase, r.waitingFor?.workerType ?? null, job?.id ?? null]))
      const activeIds = Effect.map(standby.status(), (status) => status.active.map((r) => r.id))

      // Triggered on the leader or on the standby: each in the standby's next status (the
      // leader designs them meanwhile, so only the ids are stable).
      const ids: Array<Domain.ResearchId> = []
      for (let i = 1; i <= 6; i++) {
        const coordinator = i % 2 === 0 ? standby : leader
        ids.push((yield* coordinator.trigger({ brief: `research ${i}`, force: true })).id)
        assert.deepStrictEqual(yield* activeIds, ids)
      }
      // With no worker, each ends up waiting for a training one; then nothing is written.
      const waiting = yield* Effect.zipRight(Effect.sleep("50 millis"), standby.status()).pipe(
        Effect.repeat({ until: (status) => status.active.every((r) => r.waitingFor?.workerType === "training") }),
        Effect.timeout(Duration.seconds(60))
      )
      assert.deepStrictEqual(shown(waiting.active), yield* expected)
      assert.deepStrictEqual(waiting.capacity, { active: 6, limit: 100 })
      // Cancelled on either side: gone from the next status.
      yield* leader.cancel(ids[1]!)
      yield* standby.cancel(ids[4]!)
      const after = yield* standby.status()
      assert.deepStrictEqual(after.active.map((r) => r.id), [ids[0], ids[2], ids[3], ids[5]])
      assert.deepStrictEqual(shown(after.active), yield* expected)
      assert.isFalse(yield* standby.leading)
    }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Error)), { timeout: 120_000 })
})
