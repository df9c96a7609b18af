/**
 * Restart recovery with real processes: a coordinator (with its simulated
 * workers) is SIGKILLed while researches are designing, waiting, training,
 * backtesting and assessing; a new one on the same database finishes them all.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Duration, Effect, Layer, Schedule } from "effect"
import { beforeAll } from "vitest"
import * as Postgres from "../src/Postgres.js"
import { bundled } from "@foreman/testing/Bundle"
import { createDatabase } from "@foreman/testing/PgDatabase"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_restart")
})

const fixture = fileURLToPath(new URL("./fixtures/lab.ts", import.meta.url))

/** The lab fixture, bundled from the current sources, as a child process. */
const startLab = (generation: number, researches: number) =>
  Effect.acquireRelease(
    Effect.map(Effect.promise(() => bundled(fixture)), (lab) => {
      const child = spawn(process.execPath, [lab, url, String(generation), String(researches)], {
        stdio: ["ignore", "ignore", "pipe"]
      })
      const errors: Array<string> = []
      child.stderr?.on("data", (chunk) => errors.push(String(chunk)))
      return { child, errors }
    }),
    ({ child }) => Effect.sync(() => kill(child))
  )

const kill = (child: ChildProcess) => {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
}

interface Snapshot {
  readonly design: number
  readonly training: number
  readonly backtest: number
  readonly assessment: number
  readonly waiting: number
}

describe("restart recovery", () => {
  it.live("a SIGKILLed coordinator's researches all complete under the next one", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const first = yield* startLab(1, 12)

      const snapshot = Effect.map(
        sql<Snapshot>`
          SELECT
            count(*) FILTER (WHERE j.status = 'running' AND j.kind = 'design')::int AS design,
            count(*) FILTER (WHERE j.status = 'running' AND j.kind = 'training')::int AS training,
            count(*) FILTER (WHERE j.status = 'running' AND j.kind = 'backtest')::int AS backtest,
            count(*) FILTER (WHERE j.status = 'running' AND j.kind = 'assessment')::int AS assessment,
            (SELECT count(*)::int FROM foreman_researches
              WHERE status IN ('pending', 'running') AND waiting_for IS NOT NULL) AS waiting
          FROM foreman_jobs j`,
        (rows) => rows[0]!
      )
      const everyPhase = (s: Snapshot) =>
        s.design > 0 && s.training > 0 && s.backtest > 0 && s.assessment > 0 && s.waiting > 0
      const seen = yield* snapshot.pipe(
        Effect.filterOrFail(everyPhase),
        Effect.retry(Schedule.spaced("50 millis")),
        Effect.timeout(Duration.seconds(60)),
        Effect.catchTag("TimeoutException", () =>
          Effect.dieMessage(`never saw every phase at once; child said: ${first.errors.join("")}`))
      )
      kill(first.child)
      yield* Effect.sleep(Duration.millis(200))
      const [triggered] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM foreman_researches`
      const running = yield* sql<{ id: string; kind: string }>`
        SELECT id, kind FROM foreman_jobs WHERE status = 'running'`
      assert.isTrue(everyPhase(seen))

      const second = yield* startLab(2, 0)
      const unfinished = sql<{ n: number }>`
        SELECT count(*)::int AS n FROM foreman_researches WHERE status IN ('pending', 'running')`
      yield* unfinished.pipe(
        Effect.repeat({ schedule: Schedule.spaced("200 millis"), until: ([row]) => row?.n === 0 }),
        Effect.timeout(Duration.seconds(120)),
        Effect.catchTag("TimeoutException", () =>
          Effect.dieMessage(`researches never finished; child said: ${second.errors.join("")}`))
      )

      const statuses = yield* sql<{ status: string; n: number }>`
        SELECT status, count(*)::int AS n FROM foreman_researches GROUP BY status`
      const notCompleted = yield* sql<{ id: string; status: string; error: string | null }>`
        SELECT id, status, error FROM foreman_researches WHERE status <> 'completed'`
      assert.deepStrictEqual(statuses, [{ status: "completed", n: triggered!.n }], `nothing lost, nothing failed: ${JSON.stringify(notCompleted)}`)
      for (const job of running) {
        const [after] = yield* sql<{ status: string; error: string | null; research_id: string }>`
          SELECT status, error, research_id FROM foreman_jobs WHERE id = ${job.id}`
        if (job.kind === "design" || job.kind === "assessment") {
          assert.strictEqual(after!.status, "failed", `${job.kind} ${job.id}`)
          assert.match(after!.error!, /^orphaned: coordinator epoch \d+ stopped while this \w+ job was running/)
        } else {
          assert.strictEqual(after!.status, "lost", `${job.kind} ${job.id}`)
          assert.match(after!.error!, /stopped answering/)
        }
        const [retry] = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM foreman_jobs
          WHERE research_id = ${after!.research_id} AND kind = ${job.kind} AND status = 'completed'`
        assert.strictEqual(retry!.n, 1, `${job.kind} of ${after!.research_id} was redone once`)
      }
      const retriedOnNewWorkers = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM foreman_jobs WHERE status = 'completed' AND worker_id LIKE '%-g2-%'`
      assert.isTrue(retriedOnNewWorkers[0]!.n > 0)
    }).pipe(
      Effect.scoped,
      Effect.provide(Postgres.migrated.pipe(Layer.provideMerge(Postgres.client({ url, maxConnections: 2 }))))
    ), { timeout: 240_000 })
})
