/**
 * The pull worker protocol (docs/worker-protocol.md) over real HTTP, spoken
 * with raw fetch as a worker in another language would: register without an
 * endpoint, long-poll, report with `next`, heartbeats that list held jobs,
 * a lost poll answer, cancel, bound tokens (an assignment nobody picks up:
 * adapter-memory's PullWorkers test).
 */
import { assert, describe, it } from "@effect/vitest"
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import { ApiServer } from "@foreman/server"
import { ConfigProvider, Effect, Exit, Fiber, Scope } from "effect"
import { eventually, json, startServer } from "@foreman/testing/ApiHarness"

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies read as a worker in any language would
type Body = Record<string, any>

/** A pull worker speaking the protocol with nothing but fetch. */
const worker = (server: { readonly fetch: (path: string, init?: RequestInit) => Effect.Effect<Response> }, id: string, type: string, token?: string) => {
  let secret = ""
  const headers = () => ({
    "x-foreman-worker-secret": secret,
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` })
  })
  const call = (method: string, path: string, body?: unknown) =>
    Effect.gen(function*() {
      const response = yield* server.fetch(`/api/v1${path}`, json(method, body ?? {}, headers()))
      const text = yield* Effect.promise(() => response.text())
      return { status: response.status, body: (text === "" ? {} : JSON.parse(text)) as Body }
    })
  return {
    register: (extra: Body = {}) =>
      Effect.tap(call("POST", "/workers/register", { id, type, runtime: "test 1", ...extra }), (r) =>
        Effect.sync(() => {
          if (r.status === 200) secret = r.body["secret"]
        })),
    poll: (running: Array<string> = [], waitSeconds = 5) => call("POST", `/workers/${id}/poll`, { waitSeconds, running }),
    heartbeat: (running: Array<string>) => call("POST", `/workers/${id}/heartbeat`, { running }),
    report: (jobId: string, body: Body) => call("POST", `/workers/${id}/jobs/${jobId}/report`, body)
  }
}

describe("the pull protocol", () => {
  it.scopedLive("runs a research end to end with pull workers: a job per poll, the next one carried by the report", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: {} } })
      const training = worker(server, "py-train-1", "training")
      const backtest = worker(server, "py-back-1", "backtest")
      const registered = yield* training.register()
      assert.strictEqual(registered.status, 200)
      assert.strictEqual(registered.body["protocolVersion"], 1)
      assert.strictEqual(registered.body["worker"]["protocol"], "pull")
      assert.strictEqual(registered.body["worker"]["runtime"], "test 1")
      assert.strictEqual((yield* backtest.register()).status, 200)
      const api = yield* server.client()
      const { researchId } = yield* api.agent.trigger({ payload: { brief: "Pull me" } })
      const first = yield* training.poll()
      assert.strictEqual(first.status, 200)
      assert.lengthOf(first.body["jobs"], 1)
      const job = first.body["jobs"][0]
      assert.strictEqual(job["researchId"], researchId)
      assert.strictEqual(job["kind"], "training")
      const progress = yield* training.report(job["jobId"], { _tag: "Progress", progress: 0.5, message: "half" })
      assert.strictEqual(progress.body["status"], "running")
      const done = yield* training.report(job["jobId"], { _tag: "Completed", result: goodTraining, next: { waitSeconds: 0 } })
      assert.strictEqual(done.status, 200)
      assert.strictEqual(done.body["status"], "completed")
      assert.deepStrictEqual(done.body["next"], { jobs: [], stop: [] })
      // Still listed while the worker waits for that answer: finished here, nothing to stop.
      assert.deepStrictEqual((yield* training.heartbeat([job["jobId"]])).body["stop"], [])
      const bt = yield* backtest.poll()
      assert.strictEqual(bt.body["jobs"][0]["kind"], "backtest")
      assert.deepStrictEqual(bt.body["jobs"][0]["input"]["training"], goodTraining)
      yield* backtest.report(bt.body["jobs"][0]["jobId"], { _tag: "Completed", result: goodBacktest })
      const finished = yield* eventually(api.agent.show({ path: { id: researchId } }), (d) => d.research.status !== "running" && d.research.status !== "pending")
      assert.strictEqual(finished.research.status, "completed")
    }))

  it.scopedLive("a poll answer lost on the way is answered again by the next poll, and runs once", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: {} } })
      const training = worker(server, "w-lost", "training")
      yield* training.register()
      const api = yield* server.client()
      yield* api.agent.trigger({ payload: { brief: "Lost answer" } })
      const first = yield* training.poll()
      const jobId = first.body["jobs"][0]["jobId"]
      // The worker never saw that answer: it polls again holding nothing.
      const again = yield* training.poll([], 0)
      assert.deepStrictEqual(again.body["jobs"].map((j: Body) => j["jobId"]), [jobId])
      // Holding it now, it is not offered a third time.
      const holding = yield* training.poll([jobId], 0)
      assert.deepStrictEqual(holding.body, { jobs: [], stop: [] })
    }))

  it.scopedLive("a cancel reaches a waiting poll at once as `stop`, and a heartbeat says the same", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: {} } })
      const training = worker(server, "w-cancel", "training")
      yield* training.register()
      const api = yield* server.client()
      const { researchId } = yield* api.agent.trigger({ payload: { brief: "Cancel me" } })
      const jobId = (yield* training.poll()).body["jobs"][0]["jobId"]
      const waiting = yield* Effect.fork(training.poll([jobId], 30))
      yield* api.agent.cancel({ path: { id: researchId } })
      const answer = yield* waiting.await.pipe(Effect.flatten, Effect.timeout("5 seconds"))
      assert.deepStrictEqual(answer.body, { jobs: [], stop: [jobId] })
      const beat = yield* training.heartbeat([jobId])
      assert.deepStrictEqual(beat.body["stop"], [jobId])
      const progress = yield* training.report(jobId, { _tag: "Progress", progress: 0.9 })
      assert.strictEqual(progress.body["status"], "cancelled")
    }))

  it.scopedLive("a token bound to worker ids speaks only for them; the shared token for the rest", () =>
    Effect.gen(function*() {
      const server = yield* startServer({
        engine: { handlers: {} },
        tokens: { operator: "op", worker: "shared" },
        config: { FOREMAN_WORKER_TOKENS: "gpu-box-*=gpu-secret,backtest-1=bt-secret" }
      })
      assert.strictEqual((yield* worker(server, "gpu-box-7", "training", "gpu-secret").register()).status, 200)
      const foreign = yield* worker(server, "cpu-1", "training", "gpu-secret").register()
      assert.strictEqual(foreign.status, 403)
      assert.match(foreign.body["message"], /may not speak for worker cpu-1/)
      assert.strictEqual((yield* worker(server, "gpu-box-8", "training", "shared").register()).status, 403)
      assert.strictEqual((yield* worker(server, "cpu-1", "training", "shared").register()).status, 200)
      assert.strictEqual((yield* worker(server, "backtest-1", "backtest", "bt-secret").register()).status, 200)
      assert.strictEqual((yield* worker(server, "backtest-2", "backtest", "bt-secret").register()).status, 403)
    }))

  it.live("a server that stops answers its waiting polls at once instead of waiting for them", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const server = yield* Scope.extend(startServer({ engine: { handlers: {} } }), scope)
      const training = worker(server, "w-waiting", "training")
      yield* training.register()
      const waiting = yield* Effect.fork(training.poll([], 60))
      yield* Effect.sleep("200 millis")
      const began = Date.now()
      yield* Scope.close(scope, Exit.void)
      const answer = yield* Fiber.join(waiting)
      assert.isBelow(Date.now() - began, 10_000, "the server did not wait out the poll")
      assert.deepStrictEqual(answer.body, { jobs: [], stop: [] })
    }))

  it("refuses a malformed FOREMAN_WORKER_TOKENS naming the variable", () => {
    const read = Effect.runSyncExit(
      Effect.withConfigProvider(ApiServer.tokensConfig, ConfigProvider.fromMap(new Map([["FOREMAN_WORKER_TOKENS", "gpu-box-*"]])))
    )
    assert.isTrue(read._tag === "Failure" && String(read.cause).includes("FOREMAN_WORKER_TOKENS must be worker-id=token pairs"))
  })
})
