/**
 * Upgrading a database the previous release made: migrations 0001–0003 only,
 * filled through that release's SQL (each research and job whole in a `data`
 * blob beside a few columns, moments as epoch milliseconds in doubles), then
 * the remaining migrations. Every research, job, worker, ledger entry and the
 * lease read back through the stores equal what was written, and the stores
 * go on working on the upgraded tables. The upgraded schema, functions
 * included, is the one a fresh database gets, and its functions are the
 * current definitions (`src/functions/`).
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import {
  BudgetLedger,
  CoordinatorLease,
  type Domain,
  ResearchStore,
  WorkerStore
} from "@foreman/core"
import { Effect, Option } from "effect"
import { beforeAll } from "vitest"
import { createDatabase } from "@foreman/testing/PgDatabase"
import * as Migrations from "../src/Migrations.js"
import * as Postgres from "../src/Postgres.js"
import * as SqlFunctions from "../src/SqlFunctions.js"
import { schema } from "./fixtures/schema.js"

let url = ""
let freshUrl = ""
beforeAll(async () => {
  url = await createDatabase("foreman_migration_upgrade")
  freshUrl = await createDatabase("foreman_migration_fresh")
})

/** The migrations of the release before typed columns. */
const previousMigrations = Effect.map(Migrations.migrations, (all) => all.filter(([id]) => id <= 3))

/** 2026-11-30T09:15:00.123Z: moments below keep their milliseconds. */
const T = Date.UTC(2026, 10, 30, 9, 15, 0, 123)
const at = (seconds: number) => T + seconds * 1000 + (seconds % 7)

const researchId = (id: string) => id as Domain.ResearchId
const jobId = (id: string) => id as Domain.JobId
const workerId = (id: string) => id as Domain.WorkerId

const research = (id: string, fields: Partial<Domain.Research>): Domain.Research => ({
  id: researchId(id),
  // No release before lineage (0011) recorded a parent: every research reads back without one.
  parentId: null,
  brief: `Explore ${id}`,
  model: null,
  bypassGates: false,
  forced: false,
  phase: "designing",
  status: "running",
  strategy: null,
  results: {},
  gates: {},
  costUsd: 0,
  createdAt: at(0),
  updatedAt: at(0),
  finishedAt: null,
  waitingFor: null,
  activeJobId: null,
  attempt: 1,
  failures: 0,
  retryAt: null,
  error: null,
  version: 1,
  ...fields
})

const job = (id: string, of: string, fields: Partial<Domain.Job>): Domain.Job => ({
  id: jobId(id),
  researchId: researchId(of),
  kind: "design",
  phase: "designing",
  workerType: null,
  workerId: null,
  status: "completed",
  attempt: 1,
  progress: 1,
  message: null,
  input: { brief: `Explore ${of}` },
  result: null,
  usage: null,
  error: null,
  epoch: 2,
  createdAt: at(1),
  updatedAt: at(2),
  finishedAt: at(2),
  ...fields
})

const strategy = { name: "rsi-reversion", spec: { period: 14, thresholds: [30, 70], note: "quotes ' \" and ünïcödé 🚀" } }
const usage = { model: "claude-opus", inputTokens: 1200, outputTokens: 800, costUsd: 0.0375 }
const designed = job("job_d_waiting", "op_waiting", { result: { strategy }, usage, createdAt: at(10), updatedAt: at(12), finishedAt: at(12) })
const training = job("job_t_training", "op_training", {
  kind: "training",
  phase: "training",
  workerType: "training",
  workerId: workerId("w-train-1"),
  status: "running",
  progress: 0,
  input: { strategy },
  result: null,
  queuedSince: at(31),
  createdAt: at(32),
  updatedAt: at(32),
  finishedAt: null
})
/** What a progress report (the previous release's `patchJob`) makes of `training`. */
const trainingPatch = { status: "running", progress: 0.4, message: "epoch 4/10", updatedAt: at(40) } as const
const backtestRunning = job("job_b_done", "op_done", {
  kind: "backtest",
  phase: "backtesting",
  workerType: "backtest",
  workerId: workerId("w-back-1"),
  status: "running",
  progress: 0.5,
  input: { strategy },
  createdAt: at(60),
  updatedAt: at(61),
  finishedAt: null
})
const backtestResult = {
  sharpeRatio: 0.2,
  winRate: 0.45,
  totalReturn: -0.01,
  totalTrades: 12,
  maxDrawdown: 0.08,
  netReturn: -0.02,
  tradeCount: 12
}
const gates = {
  training: { passed: true, reason: null, bypassed: false },
  backtest: { passed: false, reason: "sharpe_below_threshold (0.20 < 0.50)", bypassed: false }
}

interface Scenario {
  /** The research as first inserted, with the request id of its trigger. */
  readonly inserted: Domain.Research
  readonly requestId: string | null
  /** Transitions committed after the insert, in order. */
  readonly commits: ReadonlyArray<ResearchStore.Transition>
  /** The research and its jobs as they stand at the end. */
  readonly research: Domain.Research
  readonly jobs: ReadonlyArray<Domain.Job>
}

const step = (
  from: Domain.Research,
  to: Partial<Domain.Research>,
  jobs: ReadonlyArray<ResearchStore.JobWrite> = [],
  epoch: number | null = 2
): ResearchStore.Transition => ({
  research: { ...from, ...to, version: from.version + 1 },
  expectedVersion: from.version,
  epoch,
  jobs
})

const scenarios: ReadonlyArray<Scenario> = (() => {
  const pending = research("op_pending", {
    status: "pending",
    attempt: 0,
    version: 0,
    model: "claude-opus",
    bypassGates: true,
    forced: true,
    createdAt: at(1)
  })

  const designing0 = research("op_designing", { status: "pending", attempt: 0, version: 0, createdAt: at(2) })
  const designJob = job("job_d_designing", "op_designing", { status: "running", progress: 0, result: null, finishedAt: null })
  const designing = step(designing0, { status: "running", activeJobId: designJob.id, updatedAt: at(3) }, [
    { job: designJob, expected: null }
  ])

  const waiting0 = research("op_waiting", { createdAt: at(3), version: 3 })
  const waiting = step(waiting0, {
    phase: "training",
    strategy,
    results: { design: { strategy } },
    costUsd: 0.0375,
    waitingFor: { workerType: "training", since: at(12) },
    attempt: 0,
    updatedAt: at(12)
  }, [{ job: designed, expected: null }])

  const training0 = research("op_training", { createdAt: at(4), version: 5, phase: "training", strategy })
  const trainingStep = step(training0, {
    activeJobId: training.id,
    updatedAt: at(32),
    results: { design: { strategy } }
  }, [{ job: training, expected: null }])

  const lost = job("job_b_lost", "op_retry", {
    kind: "backtest",
    phase: "backtesting",
    workerType: "backtest",
    workerId: workerId("w-old"),
    status: "lost",
    progress: 0.25,
    error: "worker w-old stopped answering",
    input: { strategy },
    createdAt: at(70),
    updatedAt: at(80),
    finishedAt: at(80)
  })
  const refused = job("job_b_refused", "op_retry", {
    kind: "backtest",
    phase: "backtesting",
    workerType: "backtest",
    workerId: workerId("w-back-1"),
    status: "refused",
    attempt: 2,
    progress: 0,
    input: { strategy },
    queuedSince: at(81),
    createdAt: at(82),
    updatedAt: at(83),
    finishedAt: at(83)
  })
  const retry0 = research("op_retry", { createdAt: at(5), version: 0, phase: "backtesting", strategy })
  const retry = step(retry0, {
    failures: 1,
    attempt: 2,
    retryAt: at(90),
    waitingFor: { workerType: "backtest", since: at(83) },
    updatedAt: at(83)
  }, [{ job: lost, expected: null }, { job: refused, expected: null }])

  const done0 = research("op_done", { createdAt: at(6), version: 0, phase: "backtesting", strategy })
  const trained = job("job_t_done", "op_done", {
    kind: "training",
    phase: "training",
    workerType: "training",
    workerId: workerId("w-train-2"),
    input: { strategy },
    result: { kind: "classification", testAccuracy: 0.61, testLoss: 0.52, epochLosses: [0.9, 0.7, 0.52] },
    createdAt: at(50),
    updatedAt: at(55),
    finishedAt: at(55)
  })
  const done1 = step(done0, { activeJobId: backtestRunning.id, updatedAt: at(60) }, [
    { job: trained, expected: null },
    { job: backtestRunning, expected: null }
  ])
  const backtested: Domain.Job = {
    ...backtestRunning,
    status: "completed",
    progress: 1,
    result: [backtestResult, "a result may be any JSON"],
    updatedAt: at(65),
    finishedAt: at(65)
  }
  const assessed = job("job_a_done", "op_done", {
    kind: "assessment",
    phase: "assessing",
    input: { strategy, results: { backtest: backtestResult } },
    result: { verdict: "rejected", summary: "line1\nline2\t'; --" },
    usage: { ...usage, costUsd: 0.02 },
    createdAt: at(66),
    updatedAt: at(67),
    finishedAt: at(67)
  })
  const done2 = step(done1.research, {
    phase: "assessing",
    status: "completed",
    activeJobId: null,
    results: { training: trained.result, backtest: backtestResult, assessment: assessed.result },
    gates,
    costUsd: 0.0575,
    updatedAt: at(67),
    finishedAt: at(67)
  }, [{ job: backtested, expected: "running" }, { job: assessed, expected: null }])

  const failedJob = job("job_d_failed", "op_failed", {
    status: "failed",
    progress: 0,
    error: "designer failed: rate limited",
    createdAt: at(8),
    updatedAt: at(9),
    finishedAt: at(9)
  })
  const failed0 = research("op_failed", { createdAt: at(7), version: 0 })
  const failed = step(failed0, {
    status: "failed",
    error: "design failed after 3 attempts",
    updatedAt: at(9),
    finishedAt: at(9)
  }, [{ job: failedJob, expected: null }])

  const cancelledJob = job("job_d_cancelled", "op_cancelled", {
    status: "cancelled",
    progress: 0.1,
    createdAt: at(9),
    updatedAt: at(11),
    finishedAt: at(11)
  })
  const cancelled0 = research("op_cancelled", { createdAt: at(8), version: 0, brief: "Robert'); DROP TABLE foreman_jobs; -- 🚀" })
  const cancelled = step(cancelled0, { status: "cancelled", updatedAt: at(11), finishedAt: at(11) }, [
    { job: cancelledJob, expected: null }
  ], null)

  return [
    { inserted: pending, requestId: "trigger-1", commits: [], research: pending, jobs: [] },
    { inserted: designing0, requestId: null, commits: [designing], research: designing.research, jobs: [designJob] },
    { inserted: waiting0, requestId: "trigger-2", commits: [waiting], research: waiting.research, jobs: [designed] },
    {
      inserted: training0,
      requestId: null,
      commits: [trainingStep],
      research: trainingStep.research,
      jobs: [{ ...training, ...trainingPatch }]
    },
    { inserted: retry0, requestId: null, commits: [retry], research: retry.research, jobs: [lost, refused] },
    {
      inserted: done0,
      requestId: null,
      commits: [done1, done2],
      research: done2.research,
      jobs: [trained, backtested, assessed]
    },
    { inserted: failed0, requestId: null, commits: [failed], research: failed.research, jobs: [failedJob] },
    { inserted: cancelled0, requestId: null, commits: [cancelled], research: cancelled.research, jobs: [cancelledJob] }
  ]
})()

const worker = (id: string, fields: Partial<Domain.Worker>): Domain.Worker => ({
  id: workerId(id),
  type: "training",
  endpoint: `http://127.0.0.1:5005/${id}`,
  status: "available",
  capacity: 1,
  currentJobs: [],
  capabilities: {},
  registeredAt: at(20),
  lastHeartbeatAt: at(100),
  ...fields
})

const workers: ReadonlyArray<{ worker: Domain.Worker; secretHash: string | null; sequence: number | null }> = [
  {
    worker: worker("w-back-1", { type: "backtest", status: "draining", capacity: 2, registeredAt: at(21) }),
    secretHash: null,
    sequence: null
  },
  {
    worker: worker("w-old", { type: "backtest", status: "offline", lastHeartbeatAt: at(30) }),
    secretHash: "sha256:0ld",
    sequence: 3
  },
  {
    worker: worker("w-train-1", {
      status: "busy",
      currentJobs: [training.id],
      capabilities: { gpu: true, memoryGb: 24, labels: ["a100"] }
    }),
    secretHash: "sha256:5ecret",
    sequence: T + 0.5
  },
  { worker: worker("w-train-2", { capacity: 2, lastHeartbeatAt: at(101) }), secretHash: "sha256:7wo", sequence: 1 }
]

/** Day boundaries (UTC) around the charges below. */
const day1 = Date.UTC(2026, 10, 30)
const day2 = Date.UTC(2026, 11, 1)
const day3 = Date.UTC(2026, 11, 2)

/** Charges as the first schema stored them: one row per job, no call number. */
const charges = [
  { researchId: researchId("op_waiting"), jobId: designed.id, model: "claude-opus", inputTokens: 1200, outputTokens: 800, amountUsd: 0.25, at: day1 },
  { researchId: researchId("op_done"), jobId: jobId("job_a_done"), model: "claude-opus", inputTokens: 900, outputTokens: 300, amountUsd: 0.5, at: at(67) },
  { researchId: researchId("op_failed"), jobId: jobId("job_d_failed"), model: "gpt-5", inputTokens: 10, outputTokens: 0, amountUsd: 1.125, at: day2 - 1 },
  { researchId: researchId("op_retry"), jobId: jobId("job_x_next_day"), model: "gpt-5", inputTokens: 1, outputTokens: 1, amountUsd: 2, at: day2 }
]

/** Fills the database through the previous release's statements, verbatim. */
const fillAsPreviousRelease = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  // The coordinator of epoch 2 wrote what follows.
  yield* sql`UPDATE foreman_lease SET epoch = 2 WHERE id = 1`
  for (const s of scenarios) {
    yield* sql`
      INSERT INTO foreman_researches (id, status, created_at, version, data, request_id)
      VALUES (${s.inserted.id}, ${s.inserted.status}, ${s.inserted.createdAt}, ${s.inserted.version},
        ${sql.json(s.inserted)}, ${s.requestId})`
    for (const t of s.commits) yield* sql`SELECT foreman_commit(${sql.json(t)})`
  }
  const [patched] = yield* sql`
    UPDATE foreman_jobs SET status = ${trainingPatch.status}, data = data || ${sql.json(trainingPatch)}
    WHERE id = ${training.id} AND worker_id = ${training.workerId} AND status IN ${sql.in(["running"])} RETURNING data`
  assert.isDefined(patched)
  for (const { secretHash, sequence, worker: w } of workers) {
    yield* sql`
      INSERT INTO foreman_workers (id, type, endpoint, status, capacity, current_jobs, capabilities,
        registered_at, last_heartbeat_at, secret_hash, registration_sequence)
      VALUES (${w.id}, ${w.type}, ${w.endpoint}, ${w.status}, ${w.capacity},
        ${[...w.currentJobs] as Array<string>}::text[], ${sql.json(w.capabilities)}, ${w.registeredAt},
        ${w.lastHeartbeatAt}, ${secretHash}, ${sequence})`
  }
  for (const e of charges) {
    yield* sql`
      INSERT INTO foreman_budget (job_id, research_id, model, input_tokens, output_tokens, amount_usd, at)
      VALUES (${e.jobId}, ${e.researchId}, ${e.model}, ${e.inputTokens}, ${e.outputTokens}, ${e.amountUsd}, ${e.at})
      ON CONFLICT (job_id) DO NOTHING`
  }
})

const isActive = (r: Domain.Research) => r.status === "pending" || r.status === "running"
const byCreated = (a: Domain.Research, b: Domain.Research) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)

/** Reads everything back through the stores and compares it with what was written. */
const readBack = Effect.gen(function*() {
  const store = yield* ResearchStore.ResearchStore
  for (const s of scenarios) {
    assert.deepStrictEqual(yield* store.get(s.research.id), Option.some(s.research), s.research.id)
    assert.deepStrictEqual(yield* store.jobsOf(s.research.id), s.jobs, `jobs of ${s.research.id}`)
    for (const j of s.jobs) assert.deepStrictEqual(yield* store.getJob(j.id), Option.some(j), j.id)
    if (s.requestId !== null) {
      // A key recorded before fingerprints were matches any request, recorded when its research was created.
      assert.deepStrictEqual(
        yield* store.findByRequestId(s.requestId),
        Option.some({
          research: s.research,
          key: { id: s.requestId, fingerprint: null, recordedAt: s.inserted.createdAt }
        }),
        s.requestId
      )
    }
  }
  const all = scenarios.map((s) => s.research)
  const jobs = scenarios.flatMap((s) => s.jobs)
  assert.deepStrictEqual(
    yield* store.listActive,
    all.filter(isActive).sort(byCreated).map((r) => ({
      research: r,
      job: jobs.find((j) => j.id === r.activeJobId) ?? null
    }))
  )
  assert.strictEqual(yield* store.countActive, all.filter(isActive).length)
  assert.deepStrictEqual(yield* store.list({ limit: 100, offset: 0 }), [...all].sort(byCreated).reverse())
  assert.deepStrictEqual(
    yield* store.list({ limit: 100, offset: 0, statuses: ["completed", "cancelled"] }),
    all.filter((r) => r.status === "completed" || r.status === "cancelled").sort(byCreated).reverse()
  )
  assert.deepStrictEqual(yield* store.jobsOnWorker(workerId("w-train-1")), [{ ...training, ...trainingPatch }])

  const workerStore = yield* WorkerStore.WorkerStore
  // Workers from before the pull protocol are push workers, polling for nothing.
  const upgraded = (worker: Domain.Worker): Domain.Worker => ({ ...worker, protocol: "push", pollingUntil: null })
  assert.deepStrictEqual(yield* workerStore.list, workers.map((w) => upgraded(w.worker)))
  for (const w of workers) {
    assert.deepStrictEqual(yield* workerStore.get(w.worker.id), Option.some(upgraded(w.worker)))
    assert.deepStrictEqual(yield* workerStore.secretHash(w.worker.id), Option.some(w.secretHash))
  }

  const ledger = yield* BudgetLedger.BudgetLedger
  assert.strictEqual(yield* ledger.spentBetween(day1, day2), 0.25 + 0.5 + 1.125)
  assert.strictEqual(yield* ledger.spentBetween(day2, day3), 2)
  assert.strictEqual(yield* ledger.spentBetween(day1 + 1, day2 - 1), 0.5)
  // A job's charge from before is its call 0, with no cached tokens, latency or error.
  assert.deepStrictEqual(yield* ledger.entriesOf(researchId("op_done")), [{
    researchId: researchId("op_done"),
    jobId: jobId("job_a_done"),
    call: 0,
    model: "claude-opus",
    inputTokens: 900,
    outputTokens: 300,
    cachedInputTokens: 0,
    costUsd: 0.5,
    latencyMs: 0,
    error: null,
    at: at(67)
  }])

  assert.strictEqual(yield* (yield* CoordinatorLease.CoordinatorLease).current, 2)
})

/** The stores go on from the migrated rows: a transition, a claim, a heartbeat, a charge. */
const carryOn = Effect.gen(function*() {
  const store = yield* ResearchStore.ResearchStore
  const workerStore = yield* WorkerStore.WorkerStore
  const ledger = yield* BudgetLedger.BudgetLedger
  const waiting = scenarios[2]!.research
  const next = job("job_t_waiting", "op_waiting", {
    kind: "training",
    phase: "training",
    workerType: "training",
    workerId: workerId("w-train-2"),
    status: "pending",
    progress: 0,
    input: { strategy },
    queuedSince: at(12),
    createdAt: at(200),
    updatedAt: at(200),
    finishedAt: null
  })
  const claimed = yield* workerStore.claim("training", [next.id], 0)
  assert.deepStrictEqual(claimed.map((w) => ({ id: w.id, currentJobs: w.currentJobs })), [
    { id: workerId("w-train-2"), currentJobs: [next.id] }
  ])
  const t = step(waiting, { waitingFor: null, activeJobId: next.id, attempt: 1, updatedAt: at(200) }, [
    { job: next, expected: null }
  ])
  yield* store.commit(t)
  assert.deepStrictEqual(yield* store.get(waiting.id), Option.some(t.research))
  assert.deepStrictEqual(yield* store.jobsOf(waiting.id), [designed, next])
  assert.isTrue(yield* store.updateJob({ ...next, status: "running", updatedAt: at(201) }, ["pending"]))
  assert.deepStrictEqual(
    yield* store.patchJob(next.id, workerId("w-train-2"), {
      status: "completed",
      progress: 1,
      result: { testAccuracy: 0.7 },
      updatedAt: at(230),
      finishedAt: at(230)
    }, ["running"]),
    Option.some({
      ...next,
      status: "completed" as const,
      progress: 1,
      result: { testAccuracy: 0.7 },
      updatedAt: at(230),
      finishedAt: at(230)
    })
  )
  const beat = yield* workerStore.heartbeat(workerId("w-train-2"), at(240), true)
  assert.deepStrictEqual(Option.map(beat, (b) => b.worker.lastHeartbeatAt), Option.some(at(240)))
  yield* ledger.record({
    researchId: waiting.id,
    jobId: jobId("job_x_carry_on"),
    call: 0,
    model: "gpt-5",
    inputTokens: 5,
    outputTokens: 5,
    cachedInputTokens: 0,
    costUsd: 0.125,
    latencyMs: 0,
    error: null,
    at: at(250)
  })
  assert.strictEqual(yield* ledger.spentBetween(day1, day2), 0.25 + 0.5 + 1.125 + 0.125)
})

describe("upgrading a database made by the previous release", () => {
  it.live("keeps every value: researches, jobs, workers, ledger and lease read back equal", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      assert.deepStrictEqual(
        (yield* Migrations.runWith(previousMigrations)).map(([id]) => id),
        [1, 2, 3]
      )
      yield* fillAsPreviousRelease
      assert.deepStrictEqual(yield* Migrations.run, [[4, "typed_columns"], [5, "strategies"], [6, "llm_calls"], [7, "change_marks"], [8, "pull_workers"], [9, "idempotency_keys"], [10, "simulated_llm_calls"], [11, "research_lineage"], [12, "autopilot"]])

      const columns = yield* sql<{ table_name: string; column_name: string; data_type: string }>`
        SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name LIKE 'foreman_%'`
      assert.deepStrictEqual(columns.filter((c) => c.column_name === "data"), [], "no blob is left")
      assert.deepStrictEqual(
        columns.filter((c) => /(^|_)(at|since)$/.test(c.column_name) && c.table_name !== "foreman_migrations")
          .filter((c) => c.data_type !== "timestamp with time zone"),
        [],
        "every moment is a timestamptz"
      )

      const upgraded = yield* schema
      const fresh = yield* Effect.zipRight(Migrations.run, schema).pipe(
        Effect.provide(Postgres.client({ url: freshUrl, maxConnections: 1 }))
      )
      assert.deepStrictEqual(upgraded, fresh, "the upgraded schema is a fresh database's")
      assert.deepStrictEqual(
        [upgraded.columns, upgraded.constraints, upgraded.indexes, upgraded.triggers].map((lines) => lines.length > 1),
        [true, true, true, true],
        "the comparison reads the catalogue"
      )
      assert.deepStrictEqual(
        upgraded.functions.map((f) => [f.name, f.body]),
        [...SqlFunctions.all].sort((a, b) => (a.name < b.name ? -1 : 1)).map((f) => [f.name, f.body]),
        "the functions are the current definitions"
      )

      yield* Effect.scoped(Effect.gen(function*() {
        yield* readBack
        yield* carryOn
      })).pipe(Effect.provide(Postgres.ports()))
    }).pipe(Effect.provide(Postgres.client({ url, maxConnections: 4 }))))
})
