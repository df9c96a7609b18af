/**
 * `runWorker` over real HTTP against the fake coordinator: a pull worker by
 * default, running the jobs its polls are handed; then push workers:
 * registration with the type, capabilities and token given (or read from the
 * environment), jobs dispatched through the worker's own API (`WorkerApi`)
 * running the handler of their kind, progress, failures after the queue's
 * retries, a kind with no handler, cancel and stop aborting the handler's
 * signal, deregistration, and the configuration errors it rejects with.
 *
 * The machine's `FOREMAN_*`, `WORKER_*` and `KTRDR_*` variables are set aside
 * around every test, so only what a test sets is read.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { WorkerApi } from "@foreman/api"
import { Effect } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { afterEach, beforeEach } from "vitest"
import { RunWorker, runWorker } from "../src/index.js"
import { eventually, jobSpec, startCoordinator } from "@foreman/testing/WorkerHarness"

const settingName = /^(FOREMAN_|WORKER_|KTRDR_)/
let saved: Record<string, string> = {}

beforeEach(() => {
  saved = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (settingName.test(name) && value !== undefined) {
      saved[name] = value
      delete process.env[name]
    }
  }
  // Running jobs get this long at stop before their signal aborts.
  process.env["FOREMAN_WORKER_DRAIN_SECONDS"] = "0.2"
})

afterEach(() => {
  for (const name of Object.keys(process.env)) {
    if (settingName.test(name)) delete process.env[name]
  }
  Object.assign(process.env, saved)
})

/** A push worker on 127.0.0.1 (free port), stopped with the test's scope. */
const start = (options: Omit<RunWorker.RunWorkerOptions, "host" | "port"> & Partial<RunWorker.RunWorkerOptions>) =>
  Effect.acquireRelease(
    Effect.promise(() => runWorker({ type: "training", protocol: "push", host: "127.0.0.1", port: 0, ...options })),
    (worker) => Effect.promise(() => worker.stop())
  )

/** A client of the worker's API, as the coordinator reaches it. */
const workerClient = (endpoint: string | null, token?: string) =>
  HttpApiClient.make(WorkerApi.WorkerApi, {
    baseUrl: endpoint ?? undefined,
    transformClient: token === undefined ? undefined : HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
  }).pipe(Effect.provide(FetchHttpClient.layer))

/** What `runWorker` rejects with (fails the test when it resolves). */
const startFailure = (options: RunWorker.RunWorkerOptions) =>
  Effect.flip(Effect.tryPromise({ try: () => runWorker(options), catch: (error) => error }))

/** Resolves when `signal` aborts. */
const aborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason as unknown), { once: true }))

/** A gate a handler waits on. */
const gate = () => {
  let open: () => void = () => {}
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { open, opened }
}

describe("runWorker", () => {
  it.scopedLive("pulls by default: registers without an endpoint and runs the jobs its polls are handed", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      process.env["FOREMAN_POLL_WAIT_SECONDS"] = "1"
      const worker = yield* Effect.acquireRelease(
        Effect.promise(() =>
          runWorker({
            type: "training",
            apiUrl: coordinator.url,
            handlers: {
              training: async (input, job) => {
                await job.progress(0.5, "half way")
                return { doubled: Number(input) * 2 }
              }
            }
          })
        ),
        (worker) => Effect.promise(() => worker.stop())
      )
      assert.strictEqual(worker.protocol, "pull")
      assert.isNull(worker.endpoint)
      yield* eventually(() => coordinator.calls.polls.length >= 1)
      const [registration] = coordinator.calls.registrations
      assert.isUndefined(registration?.endpoint)
      assert.match(registration?.runtime ?? "", /^node \d+\./)
      const spec = jobSpec(21)
      coordinator.offer(spec, worker.id)
      yield* eventually(() => coordinator.calls.reports.some((r) => r.jobId === spec.jobId && r.body._tag === "Completed"))
      assert.deepStrictEqual(coordinator.calls.reports.filter((r) => r.jobId === spec.jobId).map((r) => r.body), [
        { _tag: "Progress", progress: 0.5, message: "half way" },
        { _tag: "Completed", result: { doubled: 42 }, next: { waitSeconds: 1, running: [] } }
      ])
    }))

  it.scopedLive("registers with the type, capabilities and token given, which win over the environment", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      process.env["FOREMAN_WORKER_TYPE"] = "backtest"
      process.env["FOREMAN_WORKER_TOKEN"] = "from-the-environment"
      const worker = yield* start({
        type: "training",
        apiUrl: coordinator.url,
        token: "worker-secret",
        capabilities: { gpu: true, memoryGb: 16 },
        handlers: { training: async () => null }
      })
      assert.strictEqual(worker.type, "training")
      assert.match(worker.id, /^training-worker-[0-9a-f]{8}$/)
      assert.match(worker.endpoint ?? "", /^http:\/\/127\.0\.0\.1:\d+$/)
      yield* eventually(() => coordinator.calls.registrations.length >= 1)
      const [registration] = coordinator.calls.registrations
      assert.strictEqual(registration?.id, worker.id)
      assert.strictEqual(registration?.type, "training")
      assert.strictEqual(registration?.endpoint, worker.endpoint)
      assert.deepStrictEqual(registration?.capabilities, { gpu: true, memoryGb: 16, devices: ["slot-0"] })
      assert.deepStrictEqual(Array.from(new Set(coordinator.calls.tokens)), ["worker-secret"])

      // The worker's API asks the coordinator for the same token.
      const anonymous = yield* workerClient(worker.endpoint)
      assert.strictEqual((yield* Effect.flip(anonymous.jobs.get({ path: { jobId: jobSpec().jobId } })))._tag, "Unauthorized")
      const authorized = yield* workerClient(worker.endpoint, "worker-secret")
      assert.strictEqual((yield* Effect.flip(authorized.jobs.get({ path: { jobId: jobSpec().jobId } })))._tag, "UnknownJob")
      const health = yield* anonymous.health.health()
      assert.deepInclude(health, { status: "ok", workerId: worker.id, type: "training" })
    }))

  it.scopedLive("reads what is not given from the environment (FOREMAN_API_URL, id, capacity, retries)", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      process.env["FOREMAN_API_URL"] = `${coordinator.url}/api/v1`
      process.env["FOREMAN_WORKER_ID"] = "gpu-box-7"
      process.env["FOREMAN_WORKER_CAPACITY"] = "2"
      process.env["FOREMAN_WORKER_MAX_RETRIES"] = "0"
      let runs = 0
      const worker = yield* start({
        handlers: {
          training: async () => {
            runs++
            throw new Error("out of memory")
          }
        }
      })
      assert.strictEqual(worker.id, "gpu-box-7")
      yield* eventually(() => coordinator.calls.registrations.length >= 1)
      const [registration] = coordinator.calls.registrations
      assert.strictEqual(registration?.id, "gpu-box-7")
      assert.strictEqual(registration?.capacity, 2)
      const client = yield* workerClient(worker.endpoint)
      const spec = jobSpec(1)
      yield* client.jobs.submit({ payload: spec })
      yield* eventually(() => coordinator.calls.reports.some((r) => r.jobId === spec.jobId && r.body._tag === "Failed"))
      assert.strictEqual(runs, 1, "FOREMAN_WORKER_MAX_RETRIES=0: no retry")
    }))

  it.scopedLive("runs the handler of the job's kind with its input and reports the result Completed", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const seen: Array<{ readonly input: unknown; readonly job: RunWorker.JobInfo; readonly abortedThen: boolean }> = []
      const worker = yield* start({
        apiUrl: coordinator.url,
        handlers: {
          training: async (input, job) => {
            seen.push({ input, job, abortedThen: job.signal.aborted })
            return { doubled: Number(input) * 2 }
          },
          backtest: async (input, job) => {
            seen.push({ input, job, abortedThen: job.signal.aborted })
            return { backtested: input }
          },
          assessment: async () => {}
        }
      })
      const client = yield* workerClient(worker.endpoint)
      const training = jobSpec(21, "training")
      const backtest = jobSpec({ instrument: "SPX" }, "backtest")
      yield* client.jobs.submit({ payload: training })
      yield* client.jobs.submit({ payload: backtest })
      const assessment = jobSpec(null, "assessment")
      yield* client.jobs.submit({ payload: assessment })
      const completed = () => coordinator.calls.reports.filter((r) => r.body._tag === "Completed")
      const resultOf = (jobId: string) => {
        const report = completed().find((r) => r.jobId === jobId)
        return report?.body._tag === "Completed" ? report.body.result : undefined
      }
      yield* eventually(() => completed().length === 3)
      assert.strictEqual(resultOf(assessment.jobId), undefined, "a handler that answers nothing completes")
      assert.deepStrictEqual(resultOf(training.jobId), { doubled: 42 })
      assert.deepStrictEqual(resultOf(backtest.jobId), { backtested: { instrument: "SPX" } })
      assert.isTrue(completed().every((r) => r.workerId === worker.id))

      const trainingRun = seen.find((s) => s.job.kind === "training")
      assert.strictEqual(trainingRun?.input, 21)
      assert.deepInclude(trainingRun?.job, {
        jobId: training.jobId,
        researchId: training.researchId,
        kind: "training",
        attempt: 1,
        device: "slot-0"
      })
      assert.isFalse(trainingRun?.abortedThen)
      assert.deepStrictEqual(seen.find((s) => s.job.kind === "backtest")?.input, { instrument: "SPX" })
      const state = yield* client.jobs.get({ path: { jobId: training.jobId } })
      assert.deepInclude(state, { status: "completed", result: { doubled: 42 }, attempts: 1 })
    }))

  it.scopedLive("reports the handler's progress to the coordinator", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const release = gate()
      const worker = yield* start({
        apiUrl: coordinator.url,
        handlers: {
          training: async (_, job) => {
            await job.progress(0.25, "epoch 1/4")
            await job.progress(0.5)
            await release.opened
            return "trained"
          }
        }
      })
      const client = yield* workerClient(worker.endpoint)
      const spec = jobSpec()
      yield* client.jobs.submit({ payload: spec })
      const progress = () =>
        coordinator.calls.reports.flatMap((r) => (r.jobId === spec.jobId && r.body._tag === "Progress" ? [r.body] : []))
      yield* eventually(() => progress().some((p) => p.progress === 0.5))
      assert.deepInclude(progress(), { _tag: "Progress", progress: 0.25, message: "epoch 1/4" })
      assert.deepInclude(yield* client.jobs.get({ path: { jobId: spec.jobId } }), { status: "running", progress: 0.5 })
      release.open()
      yield* eventually(() => coordinator.calls.reports.some((r) => r.jobId === spec.jobId && r.body._tag === "Completed"))
    }))

  it.scopedLive("reports a rejecting handler Failed with its message, after the queue's retries", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const attempts: Array<number> = []
      const worker = yield* start({
        apiUrl: coordinator.url,
        handlers: {
          training: async (_, job) => {
            attempts.push(job.attempt)
            throw new Error("bad data")
          },
          backtest: () => Promise.reject("no prices for SPX")
        }
      })
      const client = yield* workerClient(worker.endpoint)
      const training = jobSpec(null, "training")
      const backtest = jobSpec(null, "backtest")
      yield* client.jobs.submit({ payload: training })
      yield* client.jobs.submit({ payload: backtest })
      const failure = (jobId: string) => {
        const report = coordinator.calls.reports.find((r) => r.jobId === jobId && r.body._tag === "Failed")
        return report?.body._tag === "Failed" ? report.body.error : undefined
      }
      yield* eventually(() => failure(training.jobId) !== undefined && failure(backtest.jobId) !== undefined)
      assert.strictEqual(failure(training.jobId), "bad data")
      assert.strictEqual(failure(backtest.jobId), "no prices for SPX")
      // FOREMAN_WORKER_MAX_RETRIES defaults to 2: three runs in all.
      assert.deepStrictEqual(attempts, [1, 2, 3])
      assert.deepInclude(yield* client.jobs.get({ path: { jobId: training.jobId } }), { status: "failed", attempts: 3 })
    }))

  it.scopedLive("fails a job of a kind it has no handler for, naming the kinds it has", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      let calls = 0
      const handler: RunWorker.Handler = async () => ++calls
      const worker = yield* start({ apiUrl: coordinator.url, handlers: { training: handler, assessment: handler } })
      const client = yield* workerClient(worker.endpoint)
      const spec = jobSpec(null, "backtest")
      yield* client.jobs.submit({ payload: spec })
      yield* eventually(() => coordinator.calls.reports.some((r) => r.jobId === spec.jobId && r.body._tag === "Failed"))
      const report = coordinator.calls.reports.find((r) => r.jobId === spec.jobId)
      assert.deepStrictEqual(report?.body, {
        _tag: "Failed",
        error: "this worker has no handler for jobs of kind \"backtest\" (it has: training, assessment)"
      })
      assert.strictEqual(calls, 0)
    }))

  it.scopedLive("aborts the handler's signal when the job is cancelled", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const started = gate()
      let reason: unknown
      const worker = yield* start({
        apiUrl: coordinator.url,
        handlers: {
          training: async (_, job) => {
            started.open()
            try {
              return await aborted(job.signal)
            } catch (error) {
              reason = error
              throw error
            }
          }
        }
      })
      const client = yield* workerClient(worker.endpoint)
      const spec = jobSpec()
      yield* client.jobs.submit({ payload: spec })
      yield* Effect.promise(() => started.opened)
      const state = yield* client.jobs.cancel({ path: { jobId: spec.jobId } })
      assert.strictEqual(state.status, "cancelled")
      yield* eventually(() => reason !== undefined)
      assert.deepInclude(yield* client.jobs.get({ path: { jobId: spec.jobId } }), { status: "cancelled", attempts: 1 })
      assert.isFalse(coordinator.calls.reports.some((r) => r.jobId === spec.jobId && r.body._tag === "Completed"))
    }))

  it.scopedLive("stop aborts running handlers' signals after the drain deadline, deregisters and stops serving", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const started = gate()
      let abortedAt: number | undefined
      const worker = yield* Effect.promise(() =>
        runWorker({
          type: "training",
          protocol: "push",
          host: "127.0.0.1",
          port: 0,
          apiUrl: coordinator.url,
          handlers: {
            training: (_, job) => {
              started.open()
              job.signal.addEventListener("abort", () => (abortedAt = Date.now()))
              return aborted(job.signal)
            }
          }
        })
      )
      yield* eventually(() => coordinator.calls.registrations.length >= 1)
      const client = yield* workerClient(worker.endpoint)
      yield* client.jobs.submit({ payload: jobSpec() })
      yield* Effect.promise(() => started.opened)
      const stopping = Date.now()
      yield* Effect.promise(() => worker.stop())
      assert.isDefined(abortedAt, "the signal aborted")
      assert.isAtLeast((abortedAt ?? 0) - stopping, 150, "after the drain deadline (FOREMAN_WORKER_DRAIN_SECONDS=0.2)")
      assert.deepStrictEqual(coordinator.calls.deregistrations, [worker.id])
      const after = yield* Effect.promise(() =>
        fetch(`${worker.endpoint}/health`).then(() => "answered", () => "refused")
      )
      assert.strictEqual(after, "refused")
      // Stopping again is harmless.
      yield* Effect.promise(() => worker.stop())
    }))

  it.scopedLive("rejects without a coordinator URL, naming FOREMAN_API_URL", () =>
    Effect.gen(function*() {
      const error = yield* startFailure({ type: "training", handlers: {} })
      assert.instanceOf(error, Error)
      assert.include((error as Error).message, "FOREMAN_API_URL")
      const invalid = yield* startFailure({ type: "training", apiUrl: "coordinator:8000", port: 0, handlers: {} })
      assert.include((invalid as Error).message, "FOREMAN_API_URL must be an http(s) URL")
      const port = yield* startFailure({
        type: "training",
        protocol: "push",
        apiUrl: "http://127.0.0.1:1",
        port: 70_000,
        handlers: {}
      })
      assert.include((port as Error).message, "FOREMAN_WORKER_PORT")
    }))

  it.scopedLive("rejects when a push worker's port is taken", () =>
    Effect.gen(function*() {
      const taken = yield* Effect.acquireRelease(
        Effect.async<{ readonly port: number; readonly close: () => void }>((resume) => {
          const server = createServer()
          server.listen(0, "127.0.0.1", () =>
            resume(Effect.succeed({ port: (server.address() as AddressInfo).port, close: () => server.close() })))
        }),
        (server) => Effect.sync(server.close)
      )
      const error = yield* startFailure({
        type: "training",
        protocol: "push",
        apiUrl: "http://127.0.0.1:1",
        host: "127.0.0.1",
        port: taken.port,
        handlers: {}
      })
      assert.instanceOf(error, Error)
      assert.include((error as Error).message, "the worker could not start")
    }))
})
