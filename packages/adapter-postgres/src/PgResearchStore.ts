/**
 * Researches and jobs in PostgreSQL. Each row keeps the whole object as jsonb
 * beside the columns queries filter on. A transition is one call of the
 * `foreman_commit` function: one round trip, one transaction, that checks the
 * coordinator epoch (holding the lease row in share mode, so a new leader
 * cannot bump the epoch mid-commit), the research's version and every job's
 * expected status, or writes nothing.
 */
import { PgClient } from "@effect/sql-pg"
import { type Domain, Errors, ResearchStore } from "@foreman/core"
import { Effect, Layer, Option } from "effect"
import { storage } from "./internal/storage.js"

/** Advisory lock key that serialises triggers across processes. */
const TRIGGER_LOCK = 0x666f72656d6174

interface DataRow<A> {
  readonly data: A
}

const ACTIVE = ["pending", "running"] as const

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient

  /** One round trip: the `foreman_commit` function does every check and write, or none. */
  const commit = (t: ResearchStore.Transition) =>
    sql`SELECT foreman_commit(${sql.json(t)})`.pipe(
      Effect.catchIf(
        (e) => (e.cause as { code?: string } | undefined)?.code === "FMSTL",
        (e) =>
          Effect.fail(
            new Errors.StaleWrite({
              researchId: t.research.id,
              reason: (e.cause as { message?: string }).message ?? "stale write"
            })
          )
      )
    )

  return ResearchStore.ResearchStore.of({
    insert: (r, requestId) =>
      storage(Effect.gen(function*() {
        // A research with this request id, committed even by a concurrent transaction,
        // makes the insert do nothing (the unique constraint waits for that transaction).
        const inserted = yield* sql`
          INSERT INTO foreman_researches (id, status, created_at, version, data, request_id)
          VALUES (${r.id}, ${r.status}, ${r.createdAt}, ${r.version}, ${sql.json(r)}, ${requestId ?? null})
          ON CONFLICT (request_id) DO NOTHING RETURNING id`
        if (inserted.length > 0 || requestId === undefined) return r
        // A statement of its own: its snapshot sees the row the insert conflicted with.
        const [existing] = yield* sql<DataRow<Domain.Research>>`
          SELECT data FROM foreman_researches WHERE request_id = ${requestId}`
        if (existing === undefined) {
          return yield* new Errors.StorageError({ reason: `request id ${requestId} is taken by no research` })
        }
        return existing.data
      })).pipe(
        Effect.catchTag("StorageError", (e) =>
          Effect.fail(
            e.reason.includes("duplicate key")
              ? new Errors.StorageError({ reason: `research ${r.id} already exists` })
              : e
          ))
      ),
    get: (id) =>
      storage(Effect.map(
        sql<DataRow<Domain.Research>>`SELECT data FROM foreman_researches WHERE id = ${id}`,
        (rows) => Option.fromNullable(rows[0]?.data)
      )),
    findByRequestId: (requestId) =>
      storage(Effect.map(
        sql<DataRow<Domain.Research>>`SELECT data FROM foreman_researches WHERE request_id = ${requestId}`,
        (rows) => Option.fromNullable(rows[0]?.data)
      )),
    list: ({ limit, offset, statuses }) =>
      storage(Effect.map(
        sql<DataRow<Domain.Research>>`
          SELECT data FROM foreman_researches
          ${statuses === undefined ? sql`` : sql`WHERE status IN ${sql.in(statuses.length === 0 ? [""] : statuses)}`}
          ORDER BY created_at DESC, id DESC LIMIT ${limit} OFFSET ${offset}`,
        (rows) => rows.map((row) => row.data)
      )),
    listActive: storage(Effect.map(
      sql<{ readonly research: Domain.Research; readonly job: Domain.Job | null }>`
        SELECT r.data AS research, j.data AS job
        FROM foreman_researches r LEFT JOIN foreman_jobs j ON j.id = r.data->>'activeJobId'
        WHERE r.status IN ${sql.in(ACTIVE)} ORDER BY r.created_at, r.id`,
      (rows) => rows.map(({ job, research }) => ({ research, job }))
    )),
    countActive: storage(Effect.map(
      sql<{ n: number }>`SELECT count(*)::int AS n FROM foreman_researches WHERE status IN ${sql.in(ACTIVE)}`,
      (rows) => rows[0]?.n ?? 0
    )),
    commit: (t) => storage(commit(t)),
    commitAll: (ts) =>
      storage(Effect.map(
        // A top-level array would be sent as a PostgreSQL array, not JSON: send the text.
        sql<{ written: ReadonlyArray<boolean> }>`SELECT foreman_commit_all(${JSON.stringify(ts)}::jsonb) AS written`,
        (rows) => rows[0]?.written ?? ts.map(() => false)
      )),
    serializeTriggers: (self) =>
      storage(sql.withTransaction(Effect.zipRight(sql`SELECT pg_advisory_xact_lock(${TRIGGER_LOCK})`, self))),
    getJob: (id) =>
      storage(Effect.map(
        sql<DataRow<Domain.Job>>`SELECT data FROM foreman_jobs WHERE id = ${id}`,
        (rows) => Option.fromNullable(rows[0]?.data)
      )),
    jobsOf: (researchId) =>
      storage(Effect.map(
        sql<DataRow<Domain.Job>>`SELECT data FROM foreman_jobs WHERE research_id = ${researchId} ORDER BY created_at, id`,
        (rows) => rows.map((row) => row.data)
      )),
    jobsOnWorker: (workerId) =>
      storage(Effect.map(
        sql<DataRow<Domain.Job>>`
          SELECT data FROM foreman_jobs WHERE worker_id = ${workerId} AND status IN ${sql.in(ACTIVE)}
          ORDER BY created_at, id`,
        (rows) => rows.map((row) => row.data)
      )),
    patchJob: (id, workerId, patch, expected) =>
      expected.length === 0
        ? Effect.succeed(Option.none())
        : storage(Effect.map(
          sql<DataRow<Domain.Job>>`
            UPDATE foreman_jobs SET status = ${patch.status}, data = data || ${sql.json(patch)}
            WHERE id = ${id} AND worker_id = ${workerId} AND status IN ${sql.in(expected)} RETURNING data`,
          (rows) => Option.fromNullable(rows[0]?.data)
        )),
    updateJob: (job, expected) =>
      expected.length === 0
        ? Effect.succeed(false)
        : storage(Effect.map(
          sql`
            UPDATE foreman_jobs SET worker_id = ${job.workerId}, status = ${job.status}, data = ${sql.json(job)}
            WHERE id = ${job.id} AND status IN ${sql.in(expected)} RETURNING id`,
          (rows) => rows.length > 0
        ))
  })
})

export const layer: Layer.Layer<ResearchStore.ResearchStore, never, PgClient.PgClient> = Layer.effect(
  ResearchStore.ResearchStore,
  make
)
