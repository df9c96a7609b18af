/**
 * The `Researches`, `Jobs` and `Strategies` ports in PostgreSQL: researches and jobs, a column per field (structured results as
 * `jsonb`, moments as `timestamptz`), every row decoded with its Schema on read.
 * A transition is one call of the `foreman_commit` function: one round trip,
 * one transaction, that checks the coordinator epoch (holding the lease row in
 * share mode, so a new leader cannot bump the epoch mid-commit), the research's
 * version and every job's expected status, or writes nothing.
 */
import type { Statement } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Domain, Errors, Jobs, Researches, ResearchStore, Strategies } from "@foreman/core"
import { Effect, Layer, Option, Schema } from "effect"
import { decode, Timestamp, TimestampText, toDate } from "./internal/rows.js"
import { ACTIVE, jobColumns, JobColumns, jobRow, ResearchColumns, researchRow, toJob, toResearch } from "./internal/researchRows.js"
import { hasSqlState, SqlState, storage } from "./internal/storage.js"
import { workersOf } from "./internal/workerRows.js"

/** A research's row with the request key it records (migrations 0003 and 0009). */
const newResearchRow = ({ key, research }: Researches.NewResearch) => ({
  ...researchRow(research),
  request_id: key?.id ?? null,
  request_fingerprint: key?.fingerprint ?? null,
  request_recorded_at: key === undefined ? null : toDate(key.recordedAt)
})

/** A transition as `foreman_commit` reads it: rows in place of the research and its jobs. */
const transitionRows = (t: Researches.Transition) => ({
  epoch: t.epoch,
  expectedVersion: t.expectedVersion,
  research: researchRow(t.research),
  jobs: t.jobs.map((w) => ({ expected: w.expected, job: jobRow(w.job) })),
  design: t.design ?? null
})

/** A batch as `foreman_commit_claiming` reads it: a slotted transition names its claim by index. */
const claimingRows = ({ claims, transitions }: Researches.ClaimingBatch) =>
  transitions.map((t) => {
    if (!Researches.isSlotted(t)) return transitionRows(t)
    return {
      claim: claims.findIndex((c) => c.workerType === t.workerType),
      slot: t.slot,
      claimed: transitionRows(t.claimed),
      otherwise: t.otherwise === null ? null : transitionRows(t.otherwise)
    }
  })

/** What `foreman_commit_claiming` answers: worker rows as JSON, per claim, and a flag per transition. */
const decodeClaiming = decode(Schema.Struct({
  granted: Schema.Array(Schema.Array(Schema.Unknown)),
  written: Schema.Array(Schema.Boolean)
}))
const workersFromJson = workersOf(TimestampText)

/** A row of `foreman_strategies`, checked with the catalogue's own field schemas. */
const StrategyColumns = Schema.Struct({
  name: Domain.Strategy.fields.name,
  strategy: Domain.StoredStrategy.fields.strategy,
  research_id: Domain.StoredStrategy.fields.researchId,
  created_at: Timestamp
})

const decodeStrategies = decode(Schema.Array(StrategyColumns))
const strategies = (rows: unknown) =>
  Effect.map(decodeStrategies(rows), (rows) =>
    rows.map((row): Domain.StoredStrategy => ({
      strategy: row.strategy,
      researchId: row.research_id,
      createdAt: row.created_at.getTime()
    })))

const decodeResearches = decode(Schema.Array(ResearchColumns))
const decodeJobs = decode(Schema.Array(JobColumns))
/**
 * A research's row, with its active job's row as JSON (`to_jsonb`) so their
 * columns do not collide, and the horizon of the read (see `activeChangedSince`).
 */
const decodeActive = decode(Schema.Array(Schema.Struct({
  ...ResearchColumns.fields,
  active_job: Schema.NullOr(jobColumns(TimestampText)),
  horizon: Schema.String
})))

const researches = (rows: unknown) => Effect.map(decodeResearches(rows), (rows) => rows.map(toResearch))

/** A research's row with the request key it holds (migrations 0003 and 0009). */
const decodeRequested = decode(Schema.Array(Schema.Struct({
  ...ResearchColumns.fields,
  request_id: Schema.String,
  request_fingerprint: Schema.NullOr(Schema.String),
  request_recorded_at: Schema.NullOr(Timestamp)
})))
const requested = (rows: unknown) =>
  Effect.map(decodeRequested(rows), (rows) =>
    rows.map((row): Researches.Requested => ({
      research: toResearch(row),
      key: {
        id: row.request_id,
        fingerprint: row.request_fingerprint,
        recordedAt: (row.request_recorded_at ?? row.created_at).getTime()
      }
    })))
const jobs = (rows: unknown) => Effect.map(decodeJobs(rows), (rows) => rows.map(toJob))
const first = <A>(rows: ReadonlyArray<A>): Option.Option<A> => Option.fromNullable(rows[0])

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient

  /** The conditions of a filter, as `Researches.matches` reads them. */
  const where = (filter: Researches.ResearchFilter) =>
    sql.and([
      sql`true`,
      ...(filter.statuses === undefined ? [] : [sql`status IN ${sql.in(filter.statuses.length === 0 ? [""] : filter.statuses)}`]),
      ...(filter.since === undefined ? [] : [sql`created_at >= ${toDate(filter.since)}`]),
      ...(filter.until === undefined ? [] : [sql`created_at < ${toDate(filter.until)}`]),
      ...(filter.strategy === undefined ? [] : [sql`strategy->>'name' = ${filter.strategy}`]),
      ...(filter.verdict === undefined ? [] : [sql`results->'assessment'->>'verdict' = ${filter.verdict}`]),
      ...(filter.parentId === undefined ? [] : [sql`parent_id = ${filter.parentId}`])
    ])

  /** One round trip: the `foreman_commit` function does every check and write, or none. */
  const commit = (t: Researches.Transition) =>
    // foreman_commit is defined in src/functions/foreman_commit.ts.
    sql`SELECT foreman_commit(${sql.json(transitionRows(t))})`.pipe(
      Effect.catchIf(
        hasSqlState(SqlState.staleWrite),
        (e) =>
          Effect.fail(
            new Errors.StaleWrite({
              researchId: t.research.id,
              reason: (e.cause as { message?: string }).message ?? "stale write"
            })
          )
      )
    )

  /** Researches with their active job, oldest first, and the horizon of the read. */
  const activeReads = (where: Statement.Fragment) =>
    Effect.map(
      Effect.flatMap(
        sql`
          SELECT r.*, to_jsonb(j) AS active_job, pg_snapshot_xmin(pg_current_snapshot())::text AS horizon
          FROM foreman_researches r LEFT JOIN foreman_jobs j ON j.id = r.active_job_id
          WHERE ${where} ORDER BY r.created_at, r.id`,
        decodeActive
      ),
      (rows) => ({
        horizon: rows[0]?.horizon ?? null,
        entries: rows.map((row): Researches.ActiveEntry => ({
          research: toResearch(row),
          job: row.active_job === null ? null : toJob(row.active_job)
        }))
      })
    )
  const activeResearches = sql`r.status IN ${sql.in(ACTIVE)}`

  /**
   * Every research and job row records the transaction that last wrote it
   * (`changed_xid`, migration 0007, set by `foreman_mark_changed`). A read
   * answers its snapshot's horizon as the mark: the oldest transaction still
   * running then. Every write the read could not see belongs to a transaction
   * at or past that horizon, so the next read asks for the researches whose
   * row, or one of whose jobs, was written by a transaction at or past it.
   */
  const activeChangedSince = (mark: Researches.ChangeMark | null) =>
    mark === null
      ? Effect.map(activeReads(activeResearches), ({ entries, horizon }): Researches.ActiveChanges => ({
        complete: true,
        entries,
        mark: horizon
      }))
      : Effect.map(
        activeReads(sql`r.id IN (
          SELECT id FROM foreman_researches WHERE changed_xid >= ${mark}::xid8
          UNION SELECT research_id FROM foreman_jobs WHERE changed_xid >= ${mark}::xid8)`),
        // No row, no horizon: nothing was written since, so reading from the same mark again is right.
        ({ entries, horizon }): Researches.ActiveChanges => ({ complete: false, entries, mark: horizon ?? mark })
      )

  const findByRequestIds = (requestIds: ReadonlyArray<string>) =>
    requestIds.length === 0 ? Effect.succeed([]) : Effect.flatMap(
      sql`SELECT * FROM foreman_researches WHERE request_id = ANY(${[...requestIds] as Array<string>}::text[])`,
      requested
    )

  const store: Researches.ResearchesShape & Jobs.JobsShape & Strategies.StrategiesShape = {
    insert: (r, key, expiredBefore) =>
      storage(sql.withTransaction(Effect.gen(function*() {
        if (key !== undefined && expiredBefore !== undefined) {
          // An expired key passes to the new research: the research that held it lets it go.
          yield* sql`
            UPDATE foreman_researches SET request_id = NULL, request_fingerprint = NULL, request_recorded_at = NULL
            WHERE request_id = ${key.id} AND request_recorded_at < ${toDate(expiredBefore)}`
        }
        // A research with this request id, committed even by a concurrent transaction,
        // makes the insert do nothing (the unique constraint waits for that transaction).
        const row = sql.json(newResearchRow({ research: r, key }))
        const inserted = yield* sql`
          INSERT INTO foreman_researches SELECT * FROM jsonb_populate_record(NULL::foreman_researches, ${row})
          ON CONFLICT (request_id) DO NOTHING RETURNING id`
        if (inserted.length > 0 || key === undefined) return r
        // A statement of its own: its snapshot sees the row the insert conflicted with.
        const existing = first(
          yield* Effect.flatMap(sql`SELECT * FROM foreman_researches WHERE request_id = ${key.id}`, researches)
        )
        if (Option.isNone(existing)) {
          return yield* new Errors.StorageError({ reason: `request id ${key.id} is taken by no research` })
        }
        return existing.value
      }))).pipe(
        // Another row with this id (the request id's conflict is handled above).
        Effect.catchIf(
          hasSqlState(SqlState.uniqueViolation),
          (e) => Effect.fail(new Errors.StorageError({ reason: `research ${r.id} already exists`, cause: e.cause }))
        )
      ),
    insertAll: ({ activeAtMost, expiredBefore, researches: batch }) =>
      storage(Effect.map(
        // A top-level array would be sent as a PostgreSQL array, not JSON: send the text.
        // foreman_admit is defined in src/functions/foreman_admit.ts.
        sql<{ written: boolean }>`
          SELECT foreman_admit(${JSON.stringify(batch.map(newResearchRow))}::jsonb, ${activeAtMost},
            ${toDate(expiredBefore)}) AS written`,
        (rows) => rows[0]?.written === true
      )).pipe(
        // A research id taken (a key held makes the function answer false).
        Effect.catchIf(
          hasSqlState(SqlState.uniqueViolation),
          (e) => Effect.fail(new Errors.StorageError({ reason: "a research of the batch already exists", cause: e.cause }))
        )
      ),
    get: (id) =>
      storage(Effect.map(Effect.flatMap(sql`SELECT * FROM foreman_researches WHERE id = ${id}`, researches), first)),
    findByRequestId: (requestId) => storage(Effect.map(findByRequestIds([requestId]), first)),
    findByRequestIds: (requestIds) => storage(findByRequestIds(requestIds)),
    list: ({ limit, offset, ...filter }) =>
      storage(Effect.flatMap(
        sql`
          SELECT * FROM foreman_researches WHERE ${where(filter)}
          ORDER BY created_at DESC, id DESC LIMIT ${limit} OFFSET ${offset}`,
        researches
      )),
    jobCountsByWorker: storage(Effect.map(
      sql<{ worker_id: Domain.WorkerId; completed: number; failed: number }>`
        SELECT worker_id, count(*) FILTER (WHERE status = 'completed')::int AS completed,
          count(*) FILTER (WHERE status IN ('failed', 'lost'))::int AS failed
        FROM foreman_jobs WHERE worker_id IS NOT NULL AND status IN ('completed', 'failed', 'lost')
        GROUP BY worker_id`,
      (rows) => rows.map((row) => ({ workerId: row.worker_id, completed: row.completed, failed: row.failed }))
    )),
    totals: (filter) =>
      storage(Effect.map(
        sql<{ count: number; cost_usd: number }>`
          SELECT count(*)::int AS count, coalesce(sum(cost_usd), 0)::float8 AS cost_usd
          FROM foreman_researches WHERE ${where(filter)}`,
        (rows) => ({ count: rows[0]?.count ?? 0, costUsd: rows[0]?.cost_usd ?? 0 })
      )),
    listActive: storage(Effect.map(activeReads(activeResearches), ({ entries }) => entries)),
    activeChangedSince: (mark) => storage(activeChangedSince(mark)),
    countActive: storage(Effect.map(
      sql<{ n: number }>`SELECT count(*)::int AS n FROM foreman_researches WHERE status IN ${sql.in(ACTIVE)}`,
      (rows) => rows[0]?.n ?? 0
    )),
    activeAmong: (ids) =>
      ids.length === 0 ? Effect.succeed(new Set()) : storage(Effect.map(
        sql<{ id: Domain.ResearchId }>`
          SELECT id FROM foreman_researches WHERE id = ANY(${[...ids] as Array<string>}::text[]) AND status IN ${sql.in(ACTIVE)}`,
        (rows) => new Set(rows.map((row) => row.id))
      )),
    commit: (t) => storage(commit(t)),
    commitAll: (ts) =>
      storage(Effect.map(
        // A top-level array would be sent as a PostgreSQL array, not JSON: send the text.
        // foreman_commit_all is defined in src/functions/foreman_commit_all.ts.
        sql<{ written: ReadonlyArray<boolean> }>`
          SELECT foreman_commit_all(${JSON.stringify(ts.map(transitionRows))}::jsonb) AS written`,
        (rows) => rows[0]?.written ?? ts.map(() => false)
      )),
    commitClaiming: (batch) =>
      storage(Effect.gen(function*() {
        // foreman_commit_claiming is defined in src/functions/foreman_commit_claiming.ts.
        const rows = yield* sql<{ answer: unknown }>`
          SELECT foreman_commit_claiming(${JSON.stringify(batch.claims)}::jsonb,
            ${JSON.stringify(claimingRows(batch))}::jsonb, ${toDate(batch.at)}) AS answer`
        const answer = yield* decodeClaiming(rows[0]?.answer)
        return { granted: yield* Effect.forEach(answer.granted, workersFromJson), written: answer.written }
      })),
    getJob: (id) => storage(Effect.map(Effect.flatMap(sql`SELECT * FROM foreman_jobs WHERE id = ${id}`, jobs), first)),
    jobsOf: (researchId) =>
      storage(Effect.flatMap(
        sql`SELECT * FROM foreman_jobs WHERE research_id = ${researchId} ORDER BY created_at, id`,
        jobs
      )),
    jobsOfResearchesBetween: (from, to) =>
      storage(Effect.flatMap(
        sql`
          SELECT j.* FROM foreman_jobs j JOIN foreman_researches r ON r.id = j.research_id
          WHERE r.created_at >= ${toDate(from)} AND r.created_at < ${toDate(to)}
          ORDER BY j.created_at, j.id`,
        jobs
      )),
    jobsOnWorker: (workerId) =>
      storage(Effect.flatMap(
        sql`
          SELECT * FROM foreman_jobs WHERE worker_id = ${workerId} AND status IN ${sql.in(ACTIVE)}
          ORDER BY created_at, id`,
        jobs
      )),
    patchJob: (id, workerId, patch, expected) => {
      if (expected.length === 0) return Effect.succeed(Option.none())
      const set = [sql`status = ${patch.status}`, sql`updated_at = ${toDate(patch.updatedAt)}`]
      if (patch.progress !== undefined) set.push(sql`progress = ${patch.progress}`)
      if (patch.message !== undefined) set.push(sql`message = ${patch.message}`)
      // Sent as JSON text: a string or an array would not be sent as JSON; a JSON null is stored as SQL null.
      if (patch.result !== undefined) set.push(sql`result = nullif(${JSON.stringify(patch.result)}::jsonb, 'null')`)
      if (patch.error !== undefined) set.push(sql`error = ${patch.error}`)
      if (patch.finishedAt !== undefined) {
        set.push(sql`finished_at = ${patch.finishedAt === null ? null : toDate(patch.finishedAt)}`)
      }
      return storage(Effect.map(
        Effect.flatMap(
          sql`
            UPDATE foreman_jobs SET ${sql.csv(set)}
            WHERE id = ${id} AND worker_id = ${workerId} AND status IN ${sql.in(expected)} RETURNING *`,
          jobs
        ),
        first
      ))
    },
    updateJob: (job, expected) =>
      expected.length === 0
        ? Effect.succeed(false)
        : storage(Effect.map(
          // foreman_update_job is defined in src/functions/foreman_update_job.ts.
          sql<{ written: boolean }>`
            SELECT foreman_update_job(${sql.json(jobRow(job))}, ${[...expected] as Array<string>}::text[]) AS written`,
          (rows) => rows[0]?.written === true
        )),
    getStrategy: (name) =>
      storage(Effect.map(
        Effect.flatMap(sql`SELECT * FROM foreman_strategies WHERE name = ${name}`, strategies),
        first
      )),
    listStrategies: storage(Effect.flatMap(
      sql`SELECT * FROM foreman_strategies ORDER BY created_at DESC, name DESC`,
      strategies
    )),
    strategyNames: (prefix) =>
      storage(Effect.map(
        sql<{ name: string }>`SELECT name FROM foreman_strategies WHERE starts_with(name, ${prefix}) ORDER BY name`,
        (rows) => rows.map((row) => row.name)
      )),
    researchesUsing: (names) =>
      names.length === 0 ? Effect.succeed([]) : storage(Effect.flatMap(
        sql`SELECT * FROM foreman_researches WHERE strategy->>'name' IN ${sql.in(names)} ORDER BY created_at, id`,
        researches
      ))
  }
  return store
})

/** The `Researches`, `Jobs` and `Strategies` ports on a PostgreSQL client (and, for one release, the deprecated `ResearchStore` made of them). */
export const layer: Layer.Layer<
  Researches.Researches | Jobs.Jobs | Strategies.Strategies | ResearchStore.ResearchStore,
  never,
  PgClient.PgClient
> =
  Layer.effectContext(Effect.map(make, ResearchStore.portsOf))
