/**
 * The handover path on real PostgreSQL, over HTTP: a pull worker's final
 * report carrying `next`, answered with its next job. What it costs is
 * counted in SQL round trips (every query the server's client sends, counted
 * on node-postgres's `Client.prototype.query` in this process): the report's
 * writes and the worker asking go together before the loop wakes, and the
 * tick claims the worker's slot and commits the next research's start in one
 * statement. Before, the same handover sent 20 or more (the loop woke before
 * the worker asked and ticked twice, and a claim and a commit were two).
 */
import { HttpServer } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { goodTraining } from "@foreman/adapter-memory/TestEngine"
import { Coordinator } from "@foreman/core"
import { Context, Effect, Layer } from "effect"
import pg from "pg"
import { beforeAll } from "vitest"
import { eventually, json, quiet, tokenConfig } from "@foreman/testing/ApiHarness"
import { createDatabase } from "@foreman/testing/PgDatabase"
import { engine } from "@foreman/testing/PgEngine"
import { ApiServer } from "../src/index.js"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_handover")
})

/** Every query any node-postgres client of this process sends from now on, until the scope closes. */
const countQueries = Effect.acquireRelease(
  Effect.sync(() => {
    const counter = { queries: 0 }
    const original = pg.Client.prototype.query
    pg.Client.prototype.query = function(this: pg.Client, ...args: Array<unknown>) {
      counter.queries++
      return (original as (...args: Array<unknown>) => unknown).apply(this, args)
    } as typeof original
    return { counter, original }
  }),
  ({ original }) => Effect.sync(() => void (pg.Client.prototype.query = original))
)

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies read as a worker in any language would
type Body = Record<string, any>

describe("the handover on PostgreSQL", () => {
  it.scopedLive("a pull worker's report with `next` is answered with its next job in at most 16 SQL round trips", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(
        ApiServer.serve({ host: "127.0.0.1", port: 0 }).pipe(
          Layer.provideMerge(Layer.fresh(engine(url, { handlers: {} })))
        )
      ).pipe(Effect.withConfigProvider(tokenConfig()), quiet)
      const address = Context.get(context, HttpServer.HttpServer).address
      if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
      const coordinator = Context.get(context, Coordinator.Coordinator)
      yield* Effect.forkScoped(quiet(coordinator.run))
      let secret = ""
      const call = (path: string, body: unknown) =>
        Effect.gen(function*() {
          const response = yield* Effect.promise(() =>
            fetch(`http://127.0.0.1:${address.port}/api/v1${path}`, json("POST", body, { "x-foreman-worker-secret": secret }))
          )
          const text = yield* Effect.promise(() => response.text())
          assert.strictEqual(response.status, 200, text)
          return JSON.parse(text) as Body
        })
      secret = (yield* call("/workers/register", { id: "pull-train-1", type: "training" }))["secret"]
      const first = yield* coordinator.trigger({ brief: "first" })
      const second = yield* coordinator.trigger({ brief: "second" })
      const polled = yield* call("/workers/pull-train-1/poll", { waitSeconds: 5, running: [] })
      const job = polled["jobs"][0]
      assert.strictEqual(job["researchId"], first.id)
      // Nothing else left to do: the second research is designed and waits for the worker.
      yield* eventually(
        coordinator.status(),
        (s) => s.active.some((r) => r.id === second.id && r.waitingFor?.workerType === "training"),
        30
      )

      const { counter } = yield* countQueries
      const answer = yield* call(`/workers/pull-train-1/jobs/${job["jobId"]}/report`, {
        _tag: "Completed",
        result: goodTraining,
        next: { waitSeconds: 5, running: [] }
      })
      const queries = counter.queries
      assert.strictEqual(answer["status"], "completed")
      assert.lengthOf(answer["next"]["jobs"], 1)
      assert.strictEqual(answer["next"]["jobs"][0]["researchId"], second.id)
      assert.isAtMost(queries, 16, `${queries} SQL round trips from the report to the next job`)
    }))
})
