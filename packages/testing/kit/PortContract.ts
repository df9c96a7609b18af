/**
 * The contract every storage adapter honours: one suite, run against the
 * in-memory adapter and against PostgreSQL. `makeLayer` must give fresh,
 * empty storage each time it is called.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Fiber, Layer, Option, Scope } from "effect"
import {
  ActiveSet,
  Autopilot,
  Budget,
  BudgetLedger,
  CoordinatorEvents,
  CoordinatorLease,
  type Domain,
  ForemanConfig,
  Jobs,
  Researches,
  ResearchStore,
  Strategies,
  WorkerStore
} from "@foreman/core"
import { job, research, worker } from "@foreman/adapter-memory/TestEngine"

export type Ports =
  | Researches.Researches
  | Jobs.Jobs
  | Strategies.Strategies
  | ResearchStore.ResearchStore
  | WorkerStore.WorkerStore
  | BudgetLedger.BudgetLedger
  | CoordinatorLease.CoordinatorLease
  | Autopilot.AutopilotStore

/** A request key recorded at `recordedAt` by a request whose body was `body`. */
const key = (id: string, recordedAt: number, body = "body"): Researches.RequestKey => ({
  id,
  fingerprint: `fingerprint of ${body}`,
  recordedAt
})

const ODD = "brief with 'quotes'; DROP TABLE researches; -- \\ \u0000x 🚀 \u202e ünïcödé " + "x".repeat(9_000)

export const portContract = (name: string, makeLayer: () => Layer.Layer<Ports, unknown>) => {
  const run = <A, E>(self: Effect.Effect<A, E, Ports | Scope.Scope>) =>
    Effect.scoped(Effect.provide(self, makeLayer()))

  describe(`${name}: Researches`, () => {
    it.live("inserts, reads and lists active researches oldest first", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        yield* researches.insert(research("op_a", { createdAt: 1 }))
        yield* researches.insert(research("op_b", { createdAt: 2, status: "running" }))
        yield* researches.insert(research("op_c", { createdAt: 3, status: "completed" }))
        assert.deepStrictEqual(Option.getOrThrow(yield* researches.get("op_a" as Domain.ResearchId)), research("op_a", { createdAt: 1 }))
        assert.isTrue(Option.isNone(yield* researches.get("op_zzz" as Domain.ResearchId)))
        assert.deepStrictEqual((yield* researches.listActive).map((entry) => entry.research.id), ["op_a", "op_b"])
        assert.strictEqual(yield* researches.countActive, 2)
        const among = yield* researches.activeAmong(["op_c", "op_b", "op_zzz"] as Array<Domain.ResearchId>)
        assert.deepStrictEqual([...among], ["op_b"])
        assert.strictEqual((yield* researches.activeAmong([])).size, 0)
        const duplicate = yield* Effect.flip(researches.insert(research("op_a")))
        assert.strictEqual(duplicate._tag, "StorageError")
        assert.strictEqual(duplicate.reason, "research op_a already exists")
      })))

    it.live("lists active researches, in full and by what changed since a mark, after every kind of change", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const jobStore = yield* Jobs.Jobs
        const w1 = "w-1" as Domain.WorkerId
        // A leader's active set, kept from what changed since its last read.
        const kept = ActiveSet.make()
        const expectActive = (expected: ReadonlyArray<[string, Domain.Job | null]>) =>
          Effect.gen(function*() {
            const active = yield* researches.listActive
            assert.deepStrictEqual(active.map((e): [string, Domain.Job | null] => [e.research.id, e.job]), [...expected])
            assert.deepStrictEqual(yield* ActiveSet.refresh(kept, researches.activeChangedSince), active)
            for (const { research: r } of active) {
              assert.deepStrictEqual(r, Option.getOrThrow(yield* researches.get(r.id)))
            }
          })
        yield* researches.insert(research("op_a", { createdAt: 1 }))
        yield* researches.insert(research("op_b", { createdAt: 2 }))
        yield* expectActive([["op_a", null], ["op_b", null]])
        // A transition of the research with a new job.
        const running = job("job_a", "op_a", { status: "pending", workerId: w1 })
        yield* researches.commit({
          research: research("op_a", { createdAt: 1, version: 1, status: "running", activeJobId: running.id }),
          expectedVersion: 0,
          epoch: null,
          jobs: [{ job: running, expected: null }]
        })
        yield* expectActive([["op_a", running], ["op_b", null]])
        // A change of the job alone: a worker's report.
        const progress = { status: "running", progress: 0.5, updatedAt: 7 } as const
        yield* jobStore.patchJob(running.id, w1, progress, ["pending"])
        yield* expectActive([["op_a", { ...running, ...progress }], ["op_b", null]])
        // A newer research, and an older one finishing.
        yield* researches.insert(research("op_c", { createdAt: 3 }))
        yield* researches.commit({
          research: research("op_b", { createdAt: 2, version: 1, status: "cancelled" }),
          expectedVersion: 0,
          epoch: null,
          jobs: []
        })
        yield* expectActive([["op_a", { ...running, ...progress }], ["op_c", null]])
      })))

    it.live("lists newest first with status filters and paging", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        for (let i = 0; i < 5; i++) {
          yield* researches.insert(research(`op_${i}`, { createdAt: i, status: i % 2 === 0 ? "completed" : "pending" }))
        }
        assert.deepStrictEqual((yield* researches.list({ limit: 2, offset: 1 })).map((r) => r.id), ["op_3", "op_2"])
        assert.deepStrictEqual(
          (yield* researches.list({ limit: 10, offset: 0, statuses: ["completed"] })).map((r) => r.id),
          ["op_4", "op_2", "op_0"]
        )
      })))

    it.live("filters by status, creation time, strategy, verdict and parent, and totals what a filter selects", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const strategy = (name: string) => ({ name, spec: {} })
        const assessed = (verdict: string) => ({ assessment: { verdict, summary: "" } })
        const rows = [
          research("op_1", { createdAt: 1000, status: "completed", costUsd: 0.25, strategy: strategy("rsi_a"), results: assessed("promising") }),
          research("op_2", { createdAt: 2000, status: "completed", costUsd: 0.5, strategy: strategy("rsi_a"), results: assessed("rejected") }),
          research("op_3", { createdAt: 3000, status: "failed", costUsd: 0.125, strategy: strategy("macd_b"), parentId: "op_1" as Domain.ResearchId }),
          research("op_4", { createdAt: 4000, status: "running", costUsd: 0, strategy: null, parentId: "op_1" as Domain.ResearchId })
        ]
        for (const r of rows) yield* researches.insert(r)
        assert.deepStrictEqual(Option.getOrThrow(yield* researches.get("op_4" as Domain.ResearchId)), rows[3], "the parent is kept")
        const ids = (filter: Researches.ResearchFilter) =>
          Effect.map(researches.list({ ...filter, limit: 10, offset: 0 }), (list) => list.map((r) => r.id))
        const cases: ReadonlyArray<readonly [Researches.ResearchFilter, ReadonlyArray<string>]> = [
          [{}, ["op_4", "op_3", "op_2", "op_1"]],
          [{ statuses: ["completed", "failed"] }, ["op_3", "op_2", "op_1"]],
          [{ since: 2000 }, ["op_4", "op_3", "op_2"]],
          [{ since: 2000, until: 4000 }, ["op_3", "op_2"]],
          [{ strategy: "rsi_a" }, ["op_2", "op_1"]],
          [{ verdict: "promising" }, ["op_1"]],
          [{ strategy: "rsi_a", verdict: "rejected", since: 1500 }, ["op_2"]],
          [{ strategy: "nope" }, []],
          [{ parentId: "op_1" as Domain.ResearchId }, ["op_4", "op_3"]],
          [{ parentId: "op_3" as Domain.ResearchId }, []]
        ]
        for (const [filter, expected] of cases) {
          assert.deepStrictEqual(yield* ids(filter), expected, JSON.stringify(filter))
          assert.deepStrictEqual(
            yield* researches.totals(filter),
            {
              count: expected.length,
              costUsd: rows.filter((r) => expected.includes(r.id)).reduce((sum, r) => sum + r.costUsd, 0)
            },
            JSON.stringify(filter)
          )
          assert.deepStrictEqual(
            yield* ids(filter),
            rows.filter((r) => Researches.matches(filter, r)).map((r) => r.id).reverse(),
            "the adapter agrees with Researches.matches"
          )
        }
      })))

    it.live("commits conditionally on the version", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        yield* researches.insert(research("op_a"))
        yield* researches.commit({
          research: research("op_a", { version: 1, phase: "training" }),
          expectedVersion: 0,
          epoch: null,
          jobs: []
        })
        const stale = yield* Effect.flip(researches.commit({
          research: research("op_a", { version: 1, phase: "assessing" }),
          expectedVersion: 0,
          epoch: null,
          jobs: []
        }))
        assert.strictEqual(stale._tag, "StaleWrite")
        assert.strictEqual(Option.getOrThrow(yield* researches.get("op_a" as Domain.ResearchId)).phase, "training")
      })))

    it.live("fences writes of a superseded epoch", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const lease = yield* CoordinatorLease.CoordinatorLease
        const first = yield* Scope.make()
        const old = yield* Scope.extend(lease.acquire, first)
        yield* Scope.close(first, Exit.void)
        const current = yield* lease.acquire
        assert.isTrue(current.epoch > old.epoch)
        assert.strictEqual(yield* lease.current, current.epoch)
        yield* researches.insert(research("op_a"))
        const fenced = yield* Effect.flip(researches.commit({
          research: research("op_a", { version: 1 }),
          expectedVersion: 0,
          epoch: old.epoch,
          jobs: []
        }))
        assert.strictEqual(fenced._tag, "StaleWrite")
        yield* researches.commit({ research: research("op_a", { version: 1 }), expectedVersion: 0, epoch: current.epoch, jobs: [] })
      })))

    it.live("writes a transition's research and jobs atomically", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const jobStore = yield* Jobs.Jobs
        yield* researches.insert(research("op_a"))
        yield* researches.insert(research("op_b"))
        yield* researches.commit({
          research: research("op_a", { version: 1, activeJobId: "job_1" as Domain.JobId }),
          expectedVersion: 0,
          epoch: null,
          jobs: [{ job: job("job_1", "op_a"), expected: null }]
        })
        // The second job write conflicts, so neither the research nor the first job changes.
        const conflict = yield* Effect.flip(researches.commit({
          research: research("op_a", { version: 2, phase: "assessing" }),
          expectedVersion: 1,
          epoch: null,
          jobs: [
            { job: job("job_2", "op_a"), expected: null },
            { job: job("job_1", "op_a", { status: "lost" }), expected: "pending" }
          ]
        }))
        assert.strictEqual(conflict._tag, "StaleWrite")
        assert.strictEqual(Option.getOrThrow(yield* researches.get("op_a" as Domain.ResearchId)).version, 1)
        assert.isTrue(Option.isNone(yield* jobStore.getJob("job_2" as Domain.JobId)))
        assert.strictEqual(Option.getOrThrow(yield* jobStore.getJob("job_1" as Domain.JobId)).status, "running")
        const duplicate = yield* Effect.flip(researches.commit({
          research: research("op_a", { version: 2 }),
          expectedVersion: 1,
          epoch: null,
          jobs: [{ job: job("job_1", "op_a"), expected: null }]
        }))
        assert.strictEqual(duplicate._tag, "StaleWrite")
      })))

    it.live("commits a batch, each transition on its own", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const jobStore = yield* Jobs.Jobs
        yield* researches.insert(research("op_a"))
        yield* researches.insert(research("op_b"))
        yield* researches.insert(research("op_c"))
        const written = yield* researches.commitAll([
          {
            research: research("op_a", { version: 1, phase: "training" }),
            expectedVersion: 0,
            epoch: null,
            jobs: [{ job: job("job_a", "op_a"), expected: null }]
          },
          {
            research: research("op_b", { version: 2 }),
            expectedVersion: 1,
            epoch: null,
            jobs: [{ job: job("job_b", "op_b"), expected: null }]
          },
          { research: research("op_c", { version: 1, status: "running" }), expectedVersion: 0, epoch: null, jobs: [] }
        ])
        assert.deepStrictEqual(written, [true, false, true])
        assert.strictEqual(Option.getOrThrow(yield* researches.get("op_a" as Domain.ResearchId)).phase, "training")
        assert.strictEqual(Option.getOrThrow(yield* researches.get("op_b" as Domain.ResearchId)).version, 0)
        assert.isTrue(Option.isNone(yield* jobStore.getJob("job_b" as Domain.JobId)), "a stale transition writes nothing")
        assert.isTrue(Option.isSome(yield* jobStore.getJob("job_a" as Domain.JobId)))
        assert.deepStrictEqual(yield* researches.commitAll([]), [])
      })))

    it.live("claims slots and commits in one step: a granted slot's job gets its worker, one not granted writes its alternative", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const jobStore = yield* Jobs.Jobs
        const workers = yield* WorkerStore.WorkerStore
        yield* workers.register(worker("w-1", { capacity: 1 }), [], null, null)
        for (const id of ["op_a", "op_b", "op_c"]) yield* researches.insert(research(id))
        // A job written before its slot is known: the store gives it the granted worker.
        const started = (id: string, jobId: string): Researches.Transition => ({
          research: research(id, { version: 1, status: "running", activeJobId: jobId as Domain.JobId }),
          expectedVersion: 0,
          epoch: null,
          jobs: [{ job: job(jobId, id, { status: "pending", workerType: "training", workerId: null }), expected: null }]
        })
        const waiting = (id: string): Researches.Transition => ({
          research: research(id, { version: 1, waitingFor: { workerType: "training", since: 0 } }),
          expectedVersion: 0,
          epoch: null,
          jobs: []
        })
        const result = yield* researches.commitClaiming({
          claims: [{ workerType: "training", jobIds: ["job_a", "job_b"] as Array<Domain.JobId> }],
          at: 0,
          transitions: [
            { workerType: "training", slot: 0, claimed: started("op_a", "job_a"), otherwise: waiting("op_a") },
            { workerType: "training", slot: 1, claimed: started("op_b", "job_b"), otherwise: waiting("op_b") },
            { research: research("op_c", { version: 2 }), expectedVersion: 1, epoch: null, jobs: [] }
          ]
        })
        assert.deepStrictEqual(result.granted.map((ws) => ws.map((w) => [w.id, ...w.currentJobs])), [[["w-1", "job_a"]]])
        assert.deepStrictEqual(result.written, [true, true, false], "op_a started, op_b left waiting, op_c stale")
        assert.strictEqual(Option.getOrThrow(yield* jobStore.getJob("job_a" as Domain.JobId)).workerId, "w-1")
        assert.isTrue(Option.isNone(yield* jobStore.getJob("job_b" as Domain.JobId)))
        assert.strictEqual(Option.getOrThrow(yield* researches.get("op_b" as Domain.ResearchId)).waitingFor?.workerType, "training")
        // A granted slot whose transition is stale stays claimed: the caller releases it.
        yield* workers.register(worker("w-2", { capacity: 1 }), [], null, null)
        const stale = yield* researches.commitClaiming({
          claims: [{ workerType: "training", jobIds: ["job_c"] as Array<Domain.JobId> }],
          at: 0,
          transitions: [{ workerType: "training", slot: 0, claimed: { ...started("op_c", "job_c"), expectedVersion: 5 }, otherwise: null }]
        })
        assert.deepStrictEqual(stale.granted[0]?.map((w) => w.id), ["w-2" as Domain.WorkerId])
        assert.deepStrictEqual(stale.written, [false])
        assert.deepStrictEqual(Option.getOrThrow(yield* workers.get("w-2" as Domain.WorkerId)).currentJobs, ["job_c" as Domain.JobId])
        assert.isTrue(Option.isNone(yield* jobStore.getJob("job_c" as Domain.JobId)))
      })))

    it.live("stores odd text verbatim", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const odd = research("op_odd", {
          brief: ODD.replace("\u0000", ""),
          strategy: { name: "名前 'x'", spec: { "weird key \"": ["$1", null, 1e-9] } },
          results: { design: { text: "line1\nline2\t'; --" } }
        })
        yield* researches.insert(odd)
        assert.deepStrictEqual(Option.getOrThrow(yield* researches.get(odd.id)), odd)
      })))

    it.live("inserts once per request id: the same id again answers the first research", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        assert.isTrue(Option.isNone(yield* researches.findByRequestId("key-1")))
        assert.strictEqual((yield* researches.insert(research("op_a", { createdAt: 1 }), key("key-1", 1))).id, "op_a")
        const again = yield* researches.insert(research("op_b", { createdAt: 2, brief: "other" }), key("key-1", 2, "other"))
        assert.deepStrictEqual(again, research("op_a", { createdAt: 1 }))
        assert.strictEqual((yield* researches.insert(research("op_c", { createdAt: 3 }), key("key-2", 3))).id, "op_c")
        assert.strictEqual((yield* researches.insert(research("op_d", { createdAt: 4 }))).id, "op_d")
        assert.strictEqual((yield* researches.insert(research("op_e", { createdAt: 5 }))).id, "op_e")
        assert.deepStrictEqual((yield* researches.list({ limit: 10, offset: 0 })).map((r) => r.id), ["op_e", "op_d", "op_c", "op_a"])
        assert.deepStrictEqual(
          Option.getOrThrow(yield* researches.findByRequestId("key-1")),
          { research: research("op_a", { createdAt: 1 }), key: key("key-1", 1) },
          "the key as the first insert recorded it"
        )
        assert.strictEqual(Option.getOrThrow(yield* researches.findByRequestId("key-2")).research.id, "op_c")
        const moved = research("op_a", { createdAt: 1, version: 1, status: "running" })
        yield* researches.commit({ research: moved, expectedVersion: 0, epoch: null, jobs: [] })
        assert.deepStrictEqual(
          Option.getOrThrow(yield* researches.findByRequestId("key-1")).research,
          moved,
          "answers it as it is now"
        )
        const taken = yield* Effect.flip(researches.insert(research("op_a"), key("key-3", 6)))
        assert.strictEqual(taken._tag, "StorageError")
      })))

    it.live("an expired request key passes to the next research inserted with it", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        yield* researches.insert(research("op_a", { createdAt: 1000 }), key("key-1", 1000))
        const alive = yield* researches.insert(research("op_b", { createdAt: 2000 }), key("key-1", 2000, "other"), 1000)
        assert.strictEqual(alive.id, "op_a", "recorded at the moment keys expire before: still alive")
        const next = yield* researches.insert(research("op_c", { createdAt: 3000 }), key("key-1", 3000, "other"), 1001)
        assert.strictEqual(next.id, "op_c", "expired: the key starts a new research")
        assert.deepStrictEqual(Option.getOrThrow(yield* researches.findByRequestId("key-1")), {
          research: research("op_c", { createdAt: 3000 }),
          key: key("key-1", 3000, "other")
        })
        assert.deepStrictEqual(
          (yield* researches.list({ limit: 10, offset: 0 })).map((r) => r.id),
          ["op_c", "op_a"],
          "the old research stays"
        )
      })))

    it.live("concurrent inserts with one request id store one research", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const answers = yield* Effect.forEach(
          Array.from({ length: 8 }, (_, i) => research(`op_${i}`, { createdAt: i })),
          (r) => researches.insert(r, key("same-key", r.createdAt)),
          { concurrency: "unbounded" }
        )
        const stored = yield* researches.list({ limit: 10, offset: 0 })
        assert.strictEqual(stored.length, 1)
        assert.deepStrictEqual(new Set(answers.map((r) => r.id)), new Set([stored[0]!.id]))
      })))

    it.live("insertAll writes a batch with its keys, or nothing when more are active than it was decided on", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const ids = (rs: ReadonlyArray<Domain.Research>) => rs.map((r) => r.id)
        const batch = [
          { research: research("op_a", { createdAt: 1 }), key: key("key-a", 1) },
          { research: research("op_b", { createdAt: 2 }) },
          { research: research("op_c", { createdAt: 3 }), key: key("key-c", 3) }
        ]
        assert.isTrue(yield* researches.insertAll({ researches: batch, activeAtMost: 0, expiredBefore: 0 }))
        assert.deepStrictEqual(ids(yield* researches.list({ limit: 10, offset: 0 })), ["op_c", "op_b", "op_a"])
        assert.deepStrictEqual(
          [...(yield* researches.findByRequestIds(["key-c", "key-none", "key-a"]))].sort((x, y) => x.key.id < y.key.id ? -1 : 1),
          [{ research: batch[0]!.research, key: key("key-a", 1) }, { research: batch[2]!.research, key: key("key-c", 3) }]
        )
        assert.deepStrictEqual(yield* researches.findByRequestIds([]), [])

        const next = [{ research: research("op_d", { createdAt: 4 }) }, { research: research("op_e", { createdAt: 5 }) }]
        assert.isFalse(
          yield* researches.insertAll({ researches: next, activeAtMost: 2, expiredBefore: 0 }),
          "three are active, the batch was decided on two"
        )
        assert.deepStrictEqual(ids(yield* researches.listActive.pipe(Effect.map((es) => es.map((e) => e.research)))), [
          "op_a",
          "op_b",
          "op_c"
        ])
        yield* researches.commit({
          research: research("op_a", { createdAt: 1, version: 1, status: "completed" }),
          expectedVersion: 0,
          epoch: null,
          jobs: []
        })
        assert.isTrue(
          yield* researches.insertAll({ researches: next, activeAtMost: 3, expiredBefore: 0 }),
          "two are active: fewer than it was decided on"
        )
        assert.strictEqual(yield* researches.countActive, 4)
        const taken = yield* Effect.flip(
          researches.insertAll({ researches: [{ research: research("op_a") }], activeAtMost: 10, expiredBefore: 0 })
        )
        assert.strictEqual(taken._tag, "StorageError", "a research id already taken")
      })))

    it.live("insertAll writes nothing when a key of the batch is held alive; an expired one passes to the new research", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        yield* researches.insert(research("op_a", { createdAt: 1000 }), key("key-1", 1000))
        const batch = [
          { research: research("op_b", { createdAt: 2000 }) },
          { research: research("op_c", { createdAt: 2000 }), key: key("key-1", 2000, "other") }
        ]
        assert.isFalse(yield* researches.insertAll({ researches: batch, activeAtMost: 1, expiredBefore: 1000 }))
        assert.deepStrictEqual((yield* researches.list({ limit: 10, offset: 0 })).map((r) => r.id), ["op_a"], "none of the batch")
        assert.strictEqual(Option.getOrThrow(yield* researches.findByRequestId("key-1")).research.id, "op_a")

        assert.isTrue(yield* researches.insertAll({ researches: batch, activeAtMost: 1, expiredBefore: 1001 }))
        assert.deepStrictEqual(Option.getOrThrow(yield* researches.findByRequestId("key-1")), {
          research: research("op_c", { createdAt: 2000 }),
          key: key("key-1", 2000, "other")
        })
        assert.strictEqual((yield* researches.list({ limit: 10, offset: 0 })).length, 3, "the old research stays")
      })))
  })

  describe(`${name}: Jobs`, () => {
    it.live("reads and updates jobs conditionally", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const jobStore = yield* Jobs.Jobs
        yield* researches.insert(research("op_a"))
        const jobs = [
          job("job_1", "op_a", { status: "completed", createdAt: 1, result: { testAccuracy: 0.5 } }),
          job("job_2", "op_a", { status: "running", createdAt: 2 }),
          job("job_3", "op_a", { status: "pending", createdAt: 3, workerId: "w-2" as Domain.WorkerId })
        ]
        yield* researches.commit({
          research: research("op_a", { version: 1, status: "running", activeJobId: "job_2" as Domain.JobId }),
          expectedVersion: 0,
          epoch: null,
          jobs: jobs.map((j) => ({ job: j, expected: null }))
        })
        assert.deepStrictEqual(yield* jobStore.jobsOf("op_a" as Domain.ResearchId), jobs)
        // Active researches come with their active job, or null when it is missing.
        yield* researches.insert(research("op_b", { createdAt: 2000, activeJobId: "job_404" as Domain.JobId }))
        assert.deepStrictEqual(
          (yield* researches.listActive).map((entry) => [entry.research.id, entry.job?.id ?? null]),
          [["op_a", "job_2"], ["op_b", null]]
        )
        assert.deepStrictEqual((yield* researches.listActive)[0]!.job, jobs[1])
        assert.deepStrictEqual((yield* jobStore.jobsOnWorker("w-1" as Domain.WorkerId)).map((j) => j.id), ["job_2"])
        assert.isFalse(yield* jobStore.updateJob({ ...jobs[0]!, status: "failed" }, ["running"]))
        assert.isTrue(yield* jobStore.updateJob({ ...jobs[1]!, status: "completed", progress: 1, result: [1, "two"] }, [
          "pending",
          "running"
        ]))
        assert.deepStrictEqual(Option.getOrThrow(yield* jobStore.getJob("job_2" as Domain.JobId)).result, [1, "two"])
        assert.isFalse(yield* jobStore.updateJob(job("job_404", "op_a"), ["running"]))
        // A patch applies only to a job assigned to that worker, in an expected status.
        const done = { status: "completed", progress: 1, result: { a: [1] }, updatedAt: 5, finishedAt: 5 } as const
        const w2 = "w-2" as Domain.WorkerId
        assert.isTrue(Option.isNone(yield* jobStore.patchJob("job_3" as Domain.JobId, "w-1" as Domain.WorkerId, done, ["pending"])))
        assert.isTrue(Option.isNone(yield* jobStore.patchJob("job_3" as Domain.JobId, w2, done, ["running"])))
        assert.isTrue(Option.isNone(yield* jobStore.patchJob("job_404" as Domain.JobId, w2, done, ["pending"])))
        assert.deepStrictEqual(Option.getOrThrow(yield* jobStore.getJob("job_3" as Domain.JobId)), jobs[2])
        const patched = yield* jobStore.patchJob("job_3" as Domain.JobId, w2, done, ["pending", "running"])
        assert.deepStrictEqual(Option.getOrThrow(patched), { ...jobs[2]!, ...done })
        assert.deepStrictEqual(Option.getOrThrow(yield* jobStore.getJob("job_3" as Domain.JobId)), { ...jobs[2]!, ...done })
        assert.deepStrictEqual(yield* jobStore.jobsOnWorker(w2), [])
      })))

    it.live("counts each worker's completed and failed jobs", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const jobStore = yield* Jobs.Jobs
        yield* researches.insert(research("op_a"))
        const on = (id: string, workerId: string | null, status: Domain.JobStatus) =>
          ({ job: job(id, "op_a", { workerId: workerId as Domain.WorkerId | null, status }), expected: null })
        yield* researches.commit({
          research: research("op_a", { version: 1 }),
          expectedVersion: 0,
          epoch: null,
          jobs: [
            on("job_1", "w-1", "completed"),
            on("job_2", "w-1", "completed"),
            on("job_3", "w-1", "failed"),
            on("job_4", "w-2", "lost"),
            on("job_5", "w-2", "running"),
            on("job_6", null, "completed")
          ]
        })
        const counts = [...(yield* jobStore.jobCountsByWorker)].sort((a, b) => a.workerId.localeCompare(b.workerId))
        assert.deepStrictEqual(counts, [
          { workerId: "w-1" as Domain.WorkerId, completed: 2, failed: 1 },
          { workerId: "w-2" as Domain.WorkerId, completed: 0, failed: 1 }
        ])
      })))
    it.live("reads the jobs of the researches created in a window, oldest first", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const jobStore = yield* Jobs.Jobs
        for (const [id, createdAt] of [["op_early", 1000], ["op_in", 5000], ["op_late", 9000]] as const) {
          yield* researches.insert(research(id, { createdAt }))
        }
        const commitJobs = (researchId: string, jobs: ReadonlyArray<Domain.Job>) =>
          researches.commit({
            research: research(researchId, { version: 1, createdAt: { op_early: 1000, op_in: 5000 }[researchId] ?? 9000 }),
            expectedVersion: 0,
            epoch: null,
            jobs: jobs.map((j) => ({ job: j, expected: null }))
          })
        yield* commitJobs("op_early", [job("job_e", "op_early", { createdAt: 6000 })])
        yield* commitJobs("op_in", [
          job("job_in2", "op_in", { createdAt: 7000, status: "failed", queuedSince: 6500 }),
          job("job_in1", "op_in", { createdAt: 5500, kind: "design", workerType: null, workerId: null })
        ])
        yield* commitJobs("op_late", [job("job_l", "op_late", { createdAt: 9500 })])
        const between = yield* jobStore.jobsOfResearchesBetween(5000, 9000)
        assert.deepStrictEqual(between.map((j) => j.id), ["job_in1", "job_in2"])
        assert.strictEqual(between[1]!.queuedSince, 6500)
        assert.deepStrictEqual(yield* jobStore.jobsOfResearchesBetween(9001, 20_000), [])
      })))
  })

  describe(`${name}: Strategies`, () => {
    const rsi: Domain.Strategy = { name: "rsi_variant_29", spec: { indicators: [{ name: "rsi", period: 14 }] } }
    /** The transition recording `design` on a fresh research `id`, at `at`. */
    const designing = (id: string, design: Domain.Strategy, at: number): Researches.Transition => ({
      research: research(id, { version: 1, phase: "training", strategy: design, updatedAt: at }),
      expectedVersion: 0,
      epoch: null,
      jobs: [],
      design
    })

    it.live("stores a design with its transition, under a name no other design has", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const strategies = yield* Strategies.Strategies
        for (const id of ["op_a", "op_b", "op_c"]) yield* researches.insert(research(id))
        yield* researches.commit(designing("op_a", rsi, 2000))
        assert.deepStrictEqual(Option.getOrThrow(yield* strategies.getStrategy(rsi.name)), {
          strategy: rsi,
          researchId: "op_a" as Domain.ResearchId,
          createdAt: 2000
        })
        // The name is taken: the whole transition is stale, the research stays as it was.
        const taken = yield* Effect.flip(researches.commit(designing("op_b", { ...rsi, spec: { other: true } }, 3000)))
        assert.strictEqual(taken._tag, "StaleWrite")
        assert.strictEqual(Option.getOrThrow(yield* researches.get("op_b" as Domain.ResearchId)).version, 0)
        assert.deepStrictEqual(Option.getOrThrow(yield* strategies.getStrategy(rsi.name)).strategy, rsi)
        const second = { name: `${rsi.name}_2`, spec: { other: true } }
        yield* researches.commit(designing("op_b", second, 3000))
        // A stale research writes no design.
        const stale = yield* Effect.flip(researches.commit({ ...designing("op_c", { name: "macd_1", spec: {} }, 4000), expectedVersion: 5 }))
        assert.strictEqual(stale._tag, "StaleWrite")
        assert.isTrue(Option.isNone(yield* strategies.getStrategy("macd_1")))
        assert.isTrue(Option.isNone(yield* strategies.getStrategy("rsi_variant")))

        assert.deepStrictEqual((yield* strategies.listStrategies).map((s) => [s.strategy.name, s.researchId]), [
          [second.name, "op_b"],
          [rsi.name, "op_a"]
        ])
        assert.deepStrictEqual([...(yield* strategies.strategyNames("rsi_variant_2"))].sort(), [rsi.name, second.name])
        assert.deepStrictEqual([...(yield* strategies.strategyNames(""))].sort(), [rsi.name, second.name])
        assert.deepStrictEqual(yield* strategies.strategyNames("macd"), [])
        assert.deepStrictEqual((yield* researches.researchesUsing([second.name])).map((r) => r.id), ["op_b"])
        assert.deepStrictEqual(yield* researches.researchesUsing([]), [])
      })))

    it.live("one batch stores a name once", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const strategies = yield* Strategies.Strategies
        yield* researches.insert(research("op_a"))
        yield* researches.insert(research("op_b"))
        assert.deepStrictEqual(
          yield* researches.commitAll([designing("op_a", rsi, 2000), designing("op_b", rsi, 2000)]),
          [true, false]
        )
        assert.strictEqual(Option.getOrThrow(yield* strategies.getStrategy(rsi.name)).researchId, "op_a")
        assert.strictEqual(Option.getOrThrow(yield* researches.get("op_b" as Domain.ResearchId)).version, 0)
      })))

    it.live("concurrent designs of one name store it once", () =>
      run(Effect.gen(function*() {
        const researches = yield* Researches.Researches
        const strategies = yield* Strategies.Strategies
        const ids = Array.from({ length: 8 }, (_, i) => `op_${i}`)
        for (const id of ids) yield* researches.insert(research(id))
        const written = yield* Effect.forEach(
          ids,
          (id) => researches.commit(designing(id, rsi, 2000)).pipe(Effect.as(true), Effect.catchTag("StaleWrite", () => Effect.succeed(false))),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(written.filter((w) => w).length, 1)
        const designer = ids[written.indexOf(true)]
        assert.strictEqual(Option.getOrThrow(yield* strategies.getStrategy(rsi.name)).researchId, designer)
        assert.deepStrictEqual((yield* strategies.listStrategies).length, 1)
      })))
  })

  describe(`${name}: ResearchStore (deprecated)`, () => {
    it.live("is the three ports together", () =>
      run(Effect.gen(function*() {
        const store = yield* ResearchStore.ResearchStore
        yield* store.insert(research("op_a", { createdAt: 1 }))
        const researches = yield* Researches.Researches
        assert.deepStrictEqual(yield* store.get("op_a" as Domain.ResearchId), yield* researches.get("op_a" as Domain.ResearchId))
        assert.deepStrictEqual(yield* store.jobsOf("op_a" as Domain.ResearchId), [])
        assert.deepStrictEqual(yield* store.strategyNames(""), [])
      })))

    it.live("layerPorts gives the three ports from a store of the old shape", () =>
      run(Effect.gen(function*() {
        const store = yield* ResearchStore.ResearchStore
        yield* store.insert(research("op_a", { createdAt: 1 }))
        const ports = yield* Layer.build(ResearchStore.layerPorts)
        const researches = Context.get(ports, Researches.Researches)
        assert.deepStrictEqual((yield* researches.listActive).map((e) => e.research.id), ["op_a"])
        assert.deepStrictEqual(yield* Context.get(ports, Jobs.Jobs).jobsOf("op_a" as Domain.ResearchId), [])
        assert.deepStrictEqual(yield* Context.get(ports, Strategies.Strategies).listStrategies, [])
      })))
  })

  describe(`${name}: WorkerStore`, () => {
    it.live("registers, reads and lists workers by id", () =>
      run(Effect.gen(function*() {
        const store = yield* WorkerStore.WorkerStore
        yield* store.register(worker("w-2"), [], null, null)
        yield* store.register(worker("w-1"), [], null, null)
        yield* store.register(worker("w-1", { endpoint: "http://127.0.0.1:6000" }), [], null, null)
        assert.deepStrictEqual((yield* store.list).map((w) => [w.id, w.endpoint]), [
          ["w-1", "http://127.0.0.1:6000"],
          ["w-2", "http://127.0.0.1:5005/w-2"]
        ])
        assert.deepStrictEqual(Option.getOrThrow(yield* store.get("w-2" as Domain.WorkerId)), worker("w-2"))
        assert.isTrue(yield* store.remove("w-2" as Domain.WorkerId))
        assert.isFalse(yield* store.remove("w-2" as Domain.WorkerId))
        assert.isTrue(Option.isNone(yield* store.get("w-2" as Domain.WorkerId)))
      })))

    it.live("claims a pull worker only while its poll waits", () =>
      run(Effect.gen(function*() {
        const store = yield* WorkerStore.WorkerStore
        const pull = worker("p-1", { endpoint: "", protocol: "pull", runtime: "python 3.11" })
        const stored = Option.getOrThrow(yield* store.register(pull, [], null, null))
        assert.deepStrictEqual(stored, pull)
        assert.deepStrictEqual(yield* store.claim("training", ["job_1"] as Array<Domain.JobId>, 5000), [], "not asking")
        const asking = Option.getOrThrow(yield* store.heartbeat("p-1" as Domain.WorkerId, 5000, true, 25_000)).worker
        assert.strictEqual(asking.pollingUntil, 25_000)
        assert.deepStrictEqual(yield* store.claim("training", ["job_1"] as Array<Domain.JobId>, 25_001), [], "its wait is over")
        const [claimed] = yield* store.claim("training", ["job_1"] as Array<Domain.JobId>, 24_000)
        assert.deepStrictEqual(claimed?.currentJobs, ["job_1" as Domain.JobId])
        const kept = Option.getOrThrow(yield* store.heartbeat("p-1" as Domain.WorkerId, 6000, true)).worker
        assert.strictEqual(kept.pollingUntil, 25_000, "a plain heartbeat leaves the poll's wait as it is")
        const stopped = Option.getOrThrow(yield* store.heartbeat("p-1" as Domain.WorkerId, 7000, true, null)).worker
        assert.strictEqual(stopped.pollingUntil, null)
        yield* store.heartbeat("p-1" as Domain.WorkerId, 8000, true, 30_000)
        yield* store.forgetPolls
        assert.strictEqual(Option.getOrThrow(yield* store.get("p-1" as Domain.WorkerId)).pollingUntil, null, "forgotten")
      })))

    it.live("claims the least-loaded live worker of a type, within capacity", () =>
      run(Effect.gen(function*() {
        const store = yield* WorkerStore.WorkerStore
        yield* store.register(worker("w-1", { capacity: 2 }), [], null, null)
        yield* store.register(worker("w-2", { capacity: 1 }), [], null, null)
        yield* store.register(worker("w-3", { status: "offline" }), [], null, null)
        yield* store.register(worker("b-1", { type: "backtest" }), [], null, null)
        const first = yield* store.claim("training", ["job_1", "job_2"] as Array<Domain.JobId>, 0)
        assert.deepStrictEqual(first.map((w) => w.id), ["w-1", "w-2"])
        const second = yield* store.claim("training", ["job_3", "job_4"] as Array<Domain.JobId>, 0)
        assert.deepStrictEqual(second.map((w) => w.id), ["w-1"], "only one slot was left")
        assert.deepStrictEqual(yield* store.claim("training", ["job_5"] as Array<Domain.JobId>, 0), [])
        assert.deepStrictEqual(yield* store.claim("training", [], 0), [])
        const w1 = Option.getOrThrow(yield* store.get("w-1" as Domain.WorkerId))
        assert.deepStrictEqual([w1.status, w1.currentJobs], ["busy", ["job_1", "job_3"]])
        yield* store.release("w-1" as Domain.WorkerId, "job_1" as Domain.JobId)
        yield* store.release("w-1" as Domain.WorkerId, "job_404" as Domain.JobId)
        const freed = Option.getOrThrow(yield* store.get("w-1" as Domain.WorkerId))
        assert.deepStrictEqual([freed.status, freed.currentJobs], ["available", ["job_3"]])
      })))

    it.live("a registration merges job slots: a claim made meanwhile is kept, lost jobs go", () =>
      run(Effect.gen(function*() {
        const store = yield* WorkerStore.WorkerStore
        yield* store.register(worker("w-1", { capacity: 3 }), [], null, null)
        yield* store.claim("training", ["job_1", "job_2"] as Array<Domain.JobId>, 0)
        // The worker registers again running job_1 and job_3, and job_2 declared lost;
        // job_4 is claimed while the registration is read, before it is written.
        yield* store.claim("training", ["job_4"] as Array<Domain.JobId>, 0)
        const again = Option.getOrThrow(yield* store.register(
          worker("w-1", { capacity: 3, currentJobs: ["job_1", "job_3"] as Array<Domain.JobId> }),
          ["job_2"] as Array<Domain.JobId>,
          "digest-2",
          null
        ))
        assert.deepStrictEqual([...again.currentJobs].sort(), ["job_1", "job_3", "job_4"])
        assert.strictEqual(again.status, "busy")
        assert.deepStrictEqual(Option.getOrThrow(yield* store.get("w-1" as Domain.WorkerId)), again)
        assert.deepStrictEqual(yield* store.secretHash("w-1" as Domain.WorkerId), Option.some("digest-2"))
        assert.deepStrictEqual(yield* store.secretHash("w-9" as Domain.WorkerId), Option.none())
        yield* store.register(worker("w-2"), [], null, null)
        assert.deepStrictEqual(yield* store.secretHash("w-2" as Domain.WorkerId), Option.some(null))
      })))

    it.live("a registration older than the worker's latest writes nothing", () =>
      run(Effect.gen(function*() {
        const store = yield* WorkerStore.WorkerStore
        assert.isTrue(Option.isSome(yield* store.register(worker("w-1"), [], "digest-a", 2000)))
        const late = yield* store.register(worker("w-1", { endpoint: "http://stale" }), [], "digest-late", 1000)
        assert.isTrue(Option.isNone(late))
        assert.isTrue(Option.isNone(yield* store.register(worker("w-1", { endpoint: "http://stale" }), [], "x", 2000)))
        assert.strictEqual(Option.getOrThrow(yield* store.get("w-1" as Domain.WorkerId)).endpoint, "http://127.0.0.1:5005/w-1")
        assert.deepStrictEqual(yield* store.secretHash("w-1" as Domain.WorkerId), Option.some("digest-a"))
        const next = yield* store.register(worker("w-1", { endpoint: "http://new" }), [], "digest-b", 3000)
        assert.strictEqual(Option.getOrThrow(next).endpoint, "http://new")
        assert.isTrue(Option.isSome(yield* store.register(worker("w-1"), [], null, null)), "no sequence: always applied")
        assert.isTrue(Option.isNone(yield* store.register(worker("w-1"), [], null, 2500)), "the latest sequence is kept")
      })))

    it.live("a worker that refused a job gets none until it says otherwise", () =>
      run(Effect.gen(function*() {
        const store = yield* WorkerStore.WorkerStore
        yield* store.register(worker("w-1", { capacity: 2, lastHeartbeatAt: 1000 }), [], null, null)
        yield* store.claim("training", ["job_0"] as Array<Domain.JobId>, 0)
        yield* store.markRefusing("w-1" as Domain.WorkerId, "job_0" as Domain.JobId, "busy")
        assert.deepStrictEqual(Option.getOrThrow(yield* store.get("w-1" as Domain.WorkerId)).currentJobs, [], "its slot is freed")
        assert.deepStrictEqual(yield* store.claim("training", ["job_1"] as Array<Domain.JobId>, 0), [], "full: no claim")
        const back = Option.getOrThrow(yield* store.heartbeat("w-1" as Domain.WorkerId, 2000, true))
        assert.deepStrictEqual([back.before, back.worker.status], ["busy", "available"], "a heartbeat tells its load again")
        assert.strictEqual((yield* store.claim("training", ["job_1"] as Array<Domain.JobId>, 0)).length, 1)
        yield* store.markRefusing("w-1" as Domain.WorkerId, "job_none" as Domain.JobId, "draining")
        assert.strictEqual(Option.getOrThrow(yield* store.heartbeat("w-1" as Domain.WorkerId, 3000, true)).worker.status, "draining")
        assert.deepStrictEqual(yield* store.claim("training", ["job_2"] as Array<Domain.JobId>, 0), [], "draining: no claim")
        yield* store.release("w-1" as Domain.WorkerId, "job_1" as Domain.JobId)
        assert.strictEqual(Option.getOrThrow(yield* store.get("w-1" as Domain.WorkerId)).status, "draining")
        const fresh = Option.getOrThrow(yield* store.register(worker("w-1", { capacity: 2 }), [], null, null))
        assert.strictEqual(fresh.status, "available", "a new registration takes jobs again")
      })))

    it.live("a worker a job could not reach gets none until it is heard from again", () =>
      run(Effect.gen(function*() {
        const store = yield* WorkerStore.WorkerStore
        const id = "w-1" as Domain.WorkerId
        yield* store.register(worker("w-1", { capacity: 2, lastHeartbeatAt: 1000 }), [], null, null)
        yield* store.claim("training", ["job_0", "job_1"] as Array<Domain.JobId>, 0)
        yield* store.markUnreachable(id, "job_0" as Domain.JobId)
        const out = Option.getOrThrow(yield* store.get(id))
        assert.deepStrictEqual([out.status, out.currentJobs], ["error", ["job_1"]], "its slot is freed, it is out")
        assert.deepStrictEqual(yield* store.claim("training", ["job_2"] as Array<Domain.JobId>, 0), [], "in error: no claim")
        yield* store.markUnreachable("w-9" as Domain.WorkerId, "job_0" as Domain.JobId)
        assert.isTrue(Option.isNone(yield* store.get("w-9" as Domain.WorkerId)), "an unknown worker: nothing written")
        const back = Option.getOrThrow(yield* store.heartbeat(id, 2000, true))
        assert.deepStrictEqual([back.before, back.worker.status], ["error", "available"], "a healthy heartbeat brings it back, by load")
        assert.strictEqual((yield* store.claim("training", ["job_2"] as Array<Domain.JobId>, 0)).length, 1)
        yield* store.markRefusing(id, "job_none" as Domain.JobId, "draining")
        yield* store.markUnreachable(id, "job_2" as Domain.JobId)
        assert.strictEqual(Option.getOrThrow(yield* store.get(id)).status, "draining", "a draining worker stays draining")
      })))

    it.live("never gives one slot to two concurrent claims", () =>
      run(Effect.gen(function*() {
        const store = yield* WorkerStore.WorkerStore
        yield* store.register(worker("w-1"), [], null, null)
        yield* store.register(worker("w-2", { capacity: 2 }), [], null, null)
        const claims = yield* Effect.all(
          Array.from({ length: 8 }, (_, i) => store.claim("training", [`job_${i}a`, `job_${i}b`] as Array<Domain.JobId>, 0)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(claims.flat().length, 3, "three slots, three claims")
        assert.strictEqual(Option.getOrThrow(yield* store.get("w-1" as Domain.WorkerId)).currentJobs.length, 1)
        assert.strictEqual(Option.getOrThrow(yield* store.get("w-2" as Domain.WorkerId)).currentJobs.length, 2)
      })))

    it.live("records heartbeats, health, expiry and removal", () =>
      run(Effect.gen(function*() {
        const store = yield* WorkerStore.WorkerStore
        yield* store.register(worker("w-1", { lastHeartbeatAt: 1000 }), [], null, null)
        yield* store.register(worker("w-2", { lastHeartbeatAt: 5000 }), [], null, null)
        yield* store.register(worker("w-3", { lastHeartbeatAt: 9000 }), [], null, null)
        assert.isTrue(Option.isNone(yield* store.heartbeat("w-9" as Domain.WorkerId, 9500, true)))
        // A cutoff of minus infinity (silence not yet heard long enough, after an outage) expires nobody.
        const none = { offline: [], removed: [] }
        assert.deepStrictEqual(yield* store.expire(Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY), none)
        assert.deepStrictEqual(yield* store.expire(2000, Number.NEGATIVE_INFINITY), { offline: ["w-1" as Domain.WorkerId], removed: [] })
        yield* store.heartbeat("w-1" as Domain.WorkerId, 1000, true)
        const expired = yield* store.expire(6000, 2000)
        assert.deepStrictEqual(expired, { offline: ["w-2" as Domain.WorkerId], removed: ["w-1" as Domain.WorkerId] })
        assert.strictEqual(Option.getOrThrow(yield* store.get("w-2" as Domain.WorkerId)).status, "offline")
        yield* store.claim("training", ["job_x"] as Array<Domain.JobId>, 0)
        yield* store.register(worker("w-3", { status: "error", lastHeartbeatAt: 9000 }), [], null, null)
        assert.deepStrictEqual(yield* store.claim("training", ["job_y"] as Array<Domain.JobId>, 0), [], "offline and error workers get no jobs")
        const revived = Option.getOrThrow(yield* store.heartbeat("w-2" as Domain.WorkerId, 9900, true))
        assert.deepStrictEqual(
          [revived.before, revived.worker.status, revived.worker.lastHeartbeatAt],
          ["offline", "available", 9900],
          "a heartbeat answers the status it replaced"
        )
        const sick = Option.getOrThrow(yield* store.heartbeat("w-2" as Domain.WorkerId, 9950, false))
        assert.deepStrictEqual([sick.before, sick.worker.status], ["available", "error"])
      })))
  })

  describe(`${name}: BudgetLedger`, () => {
    /** A charge of one call. */
    const charge = (researchId: string, jobId: string, at: number, costUsd: number, call = 0): Domain.BudgetEntry => ({
      researchId: researchId as Domain.ResearchId,
      jobId: jobId as Domain.JobId,
      call,
      model: "sonnet-class",
      inputTokens: 2000,
      outputTokens: 800,
      cachedInputTokens: 500,
      costUsd,
      latencyMs: 1234.5,
      error: call === 0 ? null : "anthropic answered HTTP 529: Overloaded",
      at
    })

    it.live("sums charges in a window, once per job and call", () =>
      run(Effect.gen(function*() {
        const ledger = yield* BudgetLedger.BudgetLedger
        const entry = (jobId: string, at: number, costUsd: number) => charge("op_a", jobId, at, costUsd)
        yield* ledger.record(entry("job_1", 100, 0.25))
        yield* ledger.record(entry("job_1", 100, 0.25))
        yield* ledger.record(entry("job_3", 300, 0.5))
        yield* ledger.record(entry("job_2", 200, 0.125))
        assert.strictEqual(yield* ledger.spentBetween(0, 1000), 0.875)
        assert.strictEqual(yield* ledger.spentBetween(100, 300), 0.375)
        assert.strictEqual(yield* ledger.spentBetween(301, 1000), 0)
      })))

    it.live("keeps which calls were simulated (the offline agents'), and what they were charged", () =>
      run(Effect.gen(function*() {
        const ledger = yield* BudgetLedger.BudgetLedger
        const real = charge("op_s", "job_1", 100, 0.25)
        const simulated: Domain.BudgetEntry = { ...charge("op_s", "job_2", 200, 0.125), model: "offline", simulated: true }
        yield* ledger.record(real)
        yield* ledger.record(simulated)
        assert.deepStrictEqual(yield* ledger.entriesOf("op_s" as Domain.ResearchId), [real, simulated])
        assert.deepStrictEqual(yield* ledger.entriesBetween(0, 1000), [real, simulated])
        assert.strictEqual(yield* ledger.spentBetween(0, 1000), 0.375, "simulated calls count against the budget")
        assert.strictEqual(yield* ledger.simulatedBetween!(0, 1000), 0.125)
        assert.strictEqual(yield* ledger.simulatedBetween!(0, 150), 0)
      })))

    it.live("totals each research's charges, the most recently charged first", () =>
      run(Effect.gen(function*() {
        const ledger = yield* BudgetLedger.BudgetLedger
        const entry = charge
        assert.deepStrictEqual(yield* ledger.recentCycleCosts(5), [])
        yield* ledger.record(entry("op_a", "job_1", 100, 0.25))
        yield* ledger.record(entry("op_b", "job_2", 200, 0.125))
        yield* ledger.record(entry("op_a", "job_3", 300, 0.5))
        yield* ledger.record(entry("op_a", "job_3", 300, 0.5))
        yield* ledger.record(entry("op_c", "job_4", 250, 1))
        yield* ledger.record(entry("op_d", "job_5", 250, 2))
        const cost = (researchId: string, amountUsd: number) => ({ researchId: researchId as Domain.ResearchId, amountUsd })
        assert.deepStrictEqual(yield* ledger.recentCycleCosts(10), [
          cost("op_a", 0.75),
          cost("op_d", 2),
          cost("op_c", 1),
          cost("op_b", 0.125)
        ])
        assert.deepStrictEqual(yield* ledger.recentCycleCosts(2), [cost("op_a", 0.75), cost("op_d", 2)])
        assert.deepStrictEqual(yield* ledger.recentCycleCosts(0), [])
      })))

    it.live("learns a cycle's estimate from the finished researches charged last, however many active ones were charged since", () =>
      run(Effect.gen(function*() {
        const ledger = yield* BudgetLedger.BudgetLedger
        const researches = yield* Researches.Researches
        const id = (prefix: string, i: number) => `${prefix}${String(i).padStart(2, "0")}`
        // 25 finished researches, then one charged whose research is not stored (it counts as finished)...
        for (let i = 0; i < 25; i++) {
          yield* researches.insert(research(id("op_f", i), { createdAt: i, status: i % 2 === 0 ? "completed" : "failed" }))
          yield* ledger.record(charge(id("op_f", i), id("job_f", i), 100 + i, (i + 1) / 8))
        }
        yield* ledger.record(charge("op_gone", "job_gone", 130, 4))
        // ...then 45 active ones, each charged later than all of them (one of them earlier too).
        for (let i = 0; i < 45; i++) {
          yield* researches.insert(research(id("op_a", i), { createdAt: 100 + i, status: i % 3 === 0 ? "pending" : "running" }))
          yield* ledger.record(charge(id("op_a", i), id("job_a", i), 200 + i, 100))
        }
        yield* ledger.record(charge("op_a00", "job_early", 50, 100))
        const cost = (researchId: string, amountUsd: number) => ({ researchId: researchId as Domain.ResearchId, amountUsd })
        // The 20 most recent: op_gone, then op_f24 down to op_f06.
        const learned = [cost("op_gone", 4), ...Array.from({ length: 19 }, (_, k) => cost(id("op_f", 24 - k), (25 - k) / 8))]
        if (ledger.recentFinishedCycleCosts !== undefined) {
          assert.deepStrictEqual(yield* ledger.recentFinishedCycleCosts(Budget.LEARNED_CYCLES), learned)
          assert.strictEqual((yield* ledger.recentFinishedCycleCosts(100)).length, 26)
          assert.deepStrictEqual(yield* ledger.recentFinishedCycleCosts(0), [])
        }
        const budget = yield* Effect.provide(
          Budget.Budget,
          Budget.layer.pipe(Layer.provide(Layer.mergeAll(CoordinatorEvents.layer, ForemanConfig.layerWith({}))))
        )
        // (4 + (7 + 8 + … + 25) / 8) / 20
        assert.strictEqual((yield* budget.status()).estimateUsd, 2.1)
      })))

    it.live("keeps every call of a job, failed ones too, and lists a research's calls in order", () =>
      run(Effect.gen(function*() {
        const ledger = yield* BudgetLedger.BudgetLedger
        const [last, retried, first, third, other] = [
          charge("op_a", "job_2", 300, 0.5),
          charge("op_a", "job_1", 100, 0, 1),
          charge("op_a", "job_1", 100, 0.25),
          charge("op_a", "job_1", 100, 0.125, 2),
          charge("op_b", "job_3", 200, 1)
        ] as const
        for (const call of [last, retried, first, third, other]) yield* ledger.record(call)
        yield* ledger.record(charge("op_a", "job_1", 100, 9, 1))
        assert.deepStrictEqual(yield* ledger.entriesOf("op_a" as Domain.ResearchId), [first, retried, third, last])
        assert.deepStrictEqual(yield* ledger.entriesOf("op_none" as Domain.ResearchId), [])
        assert.deepStrictEqual(yield* ledger.entriesBetween(100, 300), [first, retried, third, other])
        assert.deepStrictEqual(yield* ledger.entriesBetween(101, 1000), [other, last])
        assert.strictEqual(yield* ledger.spentBetween(0, 1000), 1.875)
      })))
  })

  describe(`${name}: AutopilotStore`, () => {
    it.live("keeps one state, written only over the version expected", () =>
      run(Effect.gen(function*() {
        const store = yield* Autopilot.AutopilotStore
        assert.isTrue(Option.isNone(yield* store.get))
        // Text the API takes (`Storable`: no NUL), odd otherwise.
        const first = Autopilot.started({ brief: ODD.replaceAll("\u0000", ""), keep: 2, max: 5 }, 1000, 0)
        assert.isFalse(yield* store.save(first, 0), "nothing stored has version 0")
        assert.isTrue(yield* store.save(first, null))
        assert.isFalse(yield* store.save(first, null), "one is stored already")
        assert.deepStrictEqual(Option.getOrThrow(yield* store.get), first)
        const next = Autopilot.recorded(first, ["op_a", "op_b"] as Array<Domain.ResearchId>, 2000)
        assert.isTrue(yield* store.save(next, 0))
        assert.isFalse(yield* store.save(Autopilot.stopped(first, "operator", "x", 3000), 0), "a stale write is refused")
        const stopped = Autopilot.stopped(next, "budget", "today's budget cannot afford another cycle", 3000)
        assert.isTrue(yield* store.save(stopped, 1))
        assert.deepStrictEqual(Option.getOrThrow(yield* store.get), stopped)
      })))
  })

  describe(`${name}: CoordinatorLease`, () => {
    it.live("hands out one lease at a time with increasing epochs", () =>
      run(Effect.gen(function*() {
        const lease = yield* CoordinatorLease.CoordinatorLease
        const scope = yield* Scope.make()
        const first = yield* Scope.extend(lease.acquire, scope)
        const standby = yield* Effect.fork(Effect.scoped(Effect.map(lease.acquire, (l) => l.epoch)))
        yield* Effect.sleep(Duration.millis(300))
        assert.isTrue(Option.isNone(yield* Fiber.poll(standby)), "the standby waits while the lease is held")
        yield* Scope.close(scope, Exit.void)
        const second = yield* Fiber.join(standby).pipe(Effect.timeout(Duration.seconds(20)))
        assert.isTrue(second > first.epoch)
      })))
  })
}
