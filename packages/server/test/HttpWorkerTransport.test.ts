/**
 * The HTTP worker transport against a real (push) WorkerHost: dispatch, idempotent
 * repeat dispatch, status, cancel, a worker's refusal (503) and an unreachable
 * endpoint both becoming `DispatchError` (saying whether the job may have
 * reached the worker), and the shared token.
 */
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import type { Domain } from "@foreman/core"
import { WorkerTransport } from "@foreman/core"
import { ConfigProvider, Context, Deferred, Duration, Effect, Layer, Option, Redacted } from "effect"
import * as http from "node:http"
import * as HttpWorkerTransport from "../src/HttpWorkerTransport.js"
import { eventually, jobSpec, startCoordinator, startPushWorker } from "@foreman/testing/WorkerHarness"

const transportLayer = (options: HttpWorkerTransport.Options = {}) =>
  HttpWorkerTransport.layerWith({ backoff: Duration.millis(10), timeout: Duration.seconds(1), ...options }).pipe(
    Layer.provide(NodeHttpClient.layerUndici)
  )

/** The transport, built in the test's scope (no token in the environment). */
const transport = (options: HttpWorkerTransport.Options = {}) =>
  Effect.map(Layer.build(transportLayer(options)), Context.get(WorkerTransport.WorkerTransport)).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
  )

/** The coordinator's view of a worker at `endpoint`. */
const workerAt = (endpoint: string, id = "trainer-1"): Domain.Worker => ({
  id: id as Domain.WorkerId,
  type: "training",
  endpoint,
  status: "available",
  capacity: 1,
  currentJobs: [],
  capabilities: {},
  registeredAt: 0,
  lastHeartbeatAt: 0
})

/** A port that refuses every connection, whatever runs on this machine: nothing can listen on port 0. */
const refusingPort = 0

describe("HttpWorkerTransport", () => {
  it.scopedLive("dispatches a job, and a repeat dispatch starts nothing new", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      let runs = 0
      const worker = yield* startPushWorker((job) => Effect.sync(() => ++runs).pipe(Effect.as({ echoed: job.input })), {
        apiUrl: coordinator.url
      })
      const workers = yield* transport()
      const spec = jobSpec("hello")
      yield* workers.dispatch(workerAt(worker.endpoint), spec)
      yield* eventually(() => coordinator.calls.reports.some((r) => r.body._tag === "Completed"))
      yield* workers.dispatch(workerAt(worker.endpoint), spec)
      yield* workers.dispatch(workerAt(worker.endpoint), spec)
      yield* Effect.sleep(Duration.millis(50))
      assert.strictEqual(runs, 1)
      const status = yield* workers.status(workerAt(worker.endpoint), spec.jobId)
      assert.deepStrictEqual(status, Option.some({
        _tag: "Completed" as const,
        jobId: spec.jobId,
        workerId: "trainer-1" as Domain.WorkerId,
        result: { echoed: "hello" }
      }))
    }))

  it.scopedLive("reads a running job's progress, a failure, and nothing for an unknown job", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const gate = yield* Deferred.make<void>()
      const worker = yield* startPushWorker(
        (job, ctx) =>
          job.input === "fail"
            ? Effect.fail("bad data")
            : Effect.zipRight(ctx.progress(0.3, "epoch 3/10"), Deferred.await(gate)),
        { apiUrl: coordinator.url, capacity: 2 }
      )
      const workers = yield* transport()
      const target = workerAt(worker.endpoint)
      const running = jobSpec("run")
      yield* workers.dispatch(target, running)
      yield* eventually(() => coordinator.calls.reports.some((r) => r.body._tag === "Progress"))
      assert.deepStrictEqual(yield* workers.status(target, running.jobId), Option.some({
        _tag: "Progress" as const,
        jobId: running.jobId,
        workerId: target.id,
        progress: 0.3,
        message: "epoch 3/10"
      }))
      const failing = jobSpec("fail")
      yield* workers.dispatch(target, failing)
      yield* eventually(() => coordinator.calls.reports.some((r) => r.body._tag === "Failed"))
      assert.deepStrictEqual(
        yield* workers.status(target, failing.jobId),
        Option.some({ _tag: "Failed" as const, jobId: failing.jobId, workerId: target.id, error: "bad data" })
      )
      assert.isTrue(Option.isNone(yield* workers.status(target, jobSpec().jobId)))
      yield* Deferred.succeed(gate, undefined)
    }))

  it.scopedLive("cancels a running job; cancelling an unknown job is not an error", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const started = yield* Deferred.make<void>()
      const stopped = yield* Deferred.make<void>()
      const worker = yield* startPushWorker(
        () => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never).pipe(Effect.onInterrupt(() => Deferred.succeed(stopped, undefined))),
        { apiUrl: coordinator.url }
      )
      const workers = yield* transport()
      const target = workerAt(worker.endpoint)
      const spec = jobSpec()
      yield* workers.dispatch(target, spec)
      yield* Deferred.await(started)
      yield* workers.cancel(target, spec.jobId)
      assert.isTrue(Option.isSome(yield* Deferred.poll(stopped)))
      const status = yield* workers.status(target, spec.jobId)
      assert.isTrue(Option.isSome(status) && status.value._tag === "Failed" && status.value.error.includes("cancelled"))
      yield* workers.cancel(target, jobSpec().jobId)
    }))

  it.scopedLive("a worker's refusal (503) fails at once with a DispatchError", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startPushWorker(() => Effect.never, { apiUrl: coordinator.url, capacity: 1 })
      const workers = yield* transport()
      const target = workerAt(worker.endpoint)
      yield* workers.dispatch(target, jobSpec())
      const began = Date.now()
      const error = yield* Effect.flip(workers.dispatch(target, jobSpec()))
      assert.strictEqual(error._tag, "DispatchError")
      assert.strictEqual(error.workerId, "trainer-1")
      assert.include(error.reason, "worker refused the job (503)")
      assert.include(error.reason, "is full")
      assert.deepStrictEqual([error.refused, error.unreachable], ["full", undefined])
      assert.isBelow(Date.now() - began, 500)
    }))

  it.scopedLive("an unreachable endpoint becomes a DispatchError after the retries", () =>
    Effect.gen(function*() {
      const port = refusingPort
      const attempts: Array<string> = []
      const counting = Layer.effect(
        HttpClient.HttpClient,
        Effect.map(HttpClient.HttpClient, HttpClient.tapRequest((request) => Effect.sync(() => attempts.push(request.url))))
      ).pipe(Layer.provide(NodeHttpClient.layerUndici))
      const workers = yield* Layer.build(
        HttpWorkerTransport.layerWith({ backoff: Duration.millis(10), retries: 2, token: Redacted.make("t") }).pipe(Layer.provide(counting))
      ).pipe(Effect.map(Context.get(WorkerTransport.WorkerTransport)))
      const target = workerAt(`http://127.0.0.1:${port}`)
      const dispatch = yield* Effect.flip(workers.dispatch(target, jobSpec()))
      assert.strictEqual(dispatch._tag, "DispatchError")
      assert.include(dispatch.reason, `cannot reach http://127.0.0.1:${port}`)
      assert.include(dispatch.reason, "(3 attempts)")
      assert.strictEqual(dispatch.unreachable, "unsent", "no connection was made: the worker cannot have the job")
      assert.strictEqual(attempts.length, 3)
      const cancel = yield* Effect.flip(workers.cancel(target, jobSpec().jobId))
      assert.include(cancel.message, "Dispatch to trainer-1 failed: cannot reach")
      const status = yield* Effect.flip(workers.status(target, jobSpec().jobId))
      assert.strictEqual(status._tag, "DispatchError")
    }))

  it.scopedLive("a worker that does not answer in time becomes a DispatchError", () =>
    Effect.gen(function*() {
      // Accepts connections and never answers.
      const silent = http.createServer(() => {})
      const port = yield* Effect.async<number>((resume) => {
        silent.listen(0, "127.0.0.1", () => {
          const address = silent.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      })
      yield* Effect.addFinalizer(() =>
        Effect.async<void>((resume) => {
          silent.closeAllConnections()
          silent.close(() => resume(Effect.void))
        })
      )
      const workers = yield* transport({ timeout: Duration.millis(100), retries: 1 })
      const error = yield* Effect.flip(workers.dispatch(workerAt(`http://127.0.0.1:${port}`), jobSpec()))
      assert.include(error.reason, "no answer from")
      assert.include(error.reason, "(2 attempts)")
      assert.strictEqual(error.unreachable, "unanswered", "the request went out: the worker may have the job")
    }))

  it.scopedLive("a worker that drops the connection once the request is in may have the job", () =>
    Effect.gen(function*() {
      const dropping = http.createServer((request) => {
        request.socket.destroy()
      })
      const port = yield* Effect.async<number>((resume) => {
        dropping.listen(0, "127.0.0.1", () => {
          const address = dropping.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      })
      yield* Effect.addFinalizer(() =>
        Effect.async<void>((resume) => {
          dropping.close(() => resume(Effect.void))
        })
      )
      const workers = yield* transport({ retries: 1 })
      const error = yield* Effect.flip(workers.dispatch(workerAt(`http://127.0.0.1:${port}`), jobSpec()))
      assert.include(error.reason, "cannot reach")
      assert.strictEqual(error.unreachable, "unanswered")
    }))

  it.scopedLive("sends the shared token; a wrong token is refused without retries", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startPushWorker((job) => Effect.succeed(job.input), {
        apiUrl: coordinator.url,
        token: Option.some(Redacted.make("s3cret"))
      })
      const target = workerAt(worker.endpoint)
      const right = yield* transport({ token: Redacted.make("s3cret") })
      yield* right.dispatch(target, jobSpec(1))
      const wrong = yield* transport({ token: Redacted.make("guess") })
      const error = yield* Effect.flip(wrong.dispatch(target, jobSpec(2)))
      assert.include(error.reason, "rejected the token (401)")
      assert.strictEqual(error.unreachable, undefined, "it answered")
    }))

  it.scopedLive("reads FOREMAN_WORKER_TOKEN from the configuration", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startPushWorker((job) => Effect.succeed(job.input), {
        apiUrl: coordinator.url,
        token: Option.some(Redacted.make("from-env"))
      })
      const context = yield* Layer.build(HttpWorkerTransport.layer.pipe(Layer.provide(NodeHttpClient.layerUndici))).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["FOREMAN_WORKER_TOKEN", "from-env"]])))
      )
      const workers = Context.get(context, WorkerTransport.WorkerTransport)
      yield* workers.dispatch(workerAt(worker.endpoint), jobSpec(1))
    }))
})
