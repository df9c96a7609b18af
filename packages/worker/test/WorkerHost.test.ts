/**
 * A push WorkerHost (the legacy protocol) over real HTTP against a fake
 * coordinator: registration, heartbeats, registering again after a 404,
 * idempotent submit, reports of progress, completion and failure, cancel,
 * refusals (503) when full or draining, graceful drain, results held while the
 * coordinator is down, and reports the coordinator refuses (400) turned into
 * failures. Then a pull worker against a real coordinator: a result storage
 * cannot keep ends as a failed job. (Pull against the fake: WorkerHostPull.test.ts.)
 */
import { HttpServer } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Memory } from "@foreman/adapter-memory"
import { OfflineAgents } from "@foreman/agents"
import { ApiServer, Server } from "@foreman/server"
import { Coordinator, type Domain, ForemanConfig, WorkerRegistry } from "@foreman/core"
import { Context, Deferred, Duration, Effect, Fiber, Layer, Option, Redacted } from "effect"
import type { WorkerHost } from "../src/index.js"
import { eventually as until, quiet, tokenConfig } from "@foreman/testing/ApiHarness"
import { eventually, jobSpec, startCoordinator, startPushWorker, startWorker } from "@foreman/testing/WorkerHarness"

/** Completes with `{ doubled }` for a numeric input. */
const double: WorkerHost.WorkerFunction = (job) => Effect.succeed({ doubled: Number(job.input) * 2 })

describe("WorkerHost, push", () => {
  it.scopedLive("registers with its endpoint, type and capacity, then heartbeats", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startPushWorker(double, { apiUrl: coordinator.url, capacity: 2, capabilities: { gpu: true } })
      yield* eventually(() => coordinator.calls.heartbeats.length >= 2)
      const [registration] = coordinator.calls.registrations
      assert.strictEqual(registration?.id, "trainer-1")
      assert.strictEqual(registration?.type, "training")
      assert.strictEqual(registration?.endpoint, worker.endpoint)
      assert.match(worker.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.strictEqual(registration?.capacity, 2)
      assert.deepStrictEqual(registration?.capabilities, { gpu: true, devices: ["slot-0", "slot-1"] })
      assert.deepStrictEqual(registration?.runningJobs, [])
      assert.strictEqual(coordinator.calls.registrations.length, 1)
      assert.isTrue(coordinator.calls.heartbeats.every((id) => id === "trainer-1"))
      const health = yield* worker.client.health.health()
      assert.deepStrictEqual(health, { status: "ok", workerId: "trainer-1", type: "training", running: 0, capacity: 2 })
    }))

  it.scopedLive("sends its registration's secret with heartbeats", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      yield* startPushWorker(double, { apiUrl: coordinator.url })
      const beats = () => coordinator.calls.contacts.filter((c) => c.kind === "heartbeat")
      yield* eventually(() => beats().length >= 2)
      assert.isTrue(beats().every((h) => h.secret === "secret-1"))
    }))

  it.scopedLive("keeps its retries within what the coordinator tolerates while it cannot be reached", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      // Alone, its backoff would double 0.2 → 0.4 → 0.8 → 1.6 → 3.2 s; the coordinator tolerates 0.4 s.
      coordinator.tolerate(0.4)
      yield* startPushWorker(double, {
        apiUrl: coordinator.url,
        heartbeatIntervalSeconds: 0.05,
        registerBackoffSeconds: 0.2,
        registerBackoffMaxSeconds: 30
      })
      yield* eventually(() => coordinator.calls.registrations.length >= 1)
      coordinator.unavailable(true)
      const from = coordinator.calls.contacts.length
      yield* eventually(() => coordinator.calls.contacts.length >= from + 6, Duration.seconds(30))
      const at = coordinator.calls.contacts.slice(from).map((c) => c.at)
      const gaps = at.slice(1).map((t, i) => t - at[i]!)
      // Uncapped, the last gap would be 3.2 s; capped it is 0.4 s plus a loaded machine's delay.
      assert.isBelow(Math.max(...gaps.slice(2)), 1500, `gaps ${gaps.join(", ")} ms`)
    }))

  it.scopedLive("registers again, with its running jobs, when the coordinator forgets it (404)", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startPushWorker(() => Effect.never, { apiUrl: coordinator.url })
      yield* eventually(() => coordinator.calls.heartbeats.length >= 1)
      const spec = jobSpec()
      yield* worker.client.jobs.submit({ payload: spec })
      coordinator.forget("trainer-1")
      yield* eventually(() => coordinator.calls.registrations.length === 2)
      assert.deepStrictEqual(coordinator.calls.registrations[1]?.runningJobs, [spec.jobId])
      const before = coordinator.calls.heartbeats.length
      yield* eventually(() => coordinator.calls.heartbeats.length > before)
    }))

  it.scopedLive("submit is idempotent by job id: a repeat returns the same job and runs nothing", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const gate = yield* Deferred.make<void>()
      let runs = 0
      const worker = yield* startPushWorker(
        (job) => Effect.sync(() => runs++).pipe(Effect.zipRight(Deferred.await(gate)), Effect.as(job.input)),
        { apiUrl: coordinator.url }
      )
      const spec = jobSpec("result")
      const first = yield* worker.client.jobs.submit({ payload: spec })
      const second = yield* worker.client.jobs.submit({ payload: spec })
      assert.strictEqual(first.jobId, spec.jobId)
      assert.strictEqual(second.jobId, spec.jobId)
      assert.include(["pending", "running"], second.status)
      yield* Deferred.succeed(gate, undefined)
      yield* eventually(() => coordinator.calls.reports.some((r) => r.jobId === spec.jobId && r.body._tag === "Completed"))
      const third = yield* worker.client.jobs.submit({ payload: spec })
      assert.strictEqual(third.status, "completed")
      assert.strictEqual(third.result, "result")
      assert.strictEqual(runs, 1)
      const completed = coordinator.calls.reports.filter((r) => r.body._tag === "Completed")
      assert.strictEqual(completed.length, 1)
    }))

  it.scopedLive("sends a job's final report only once its progress report in flight is answered", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      // A slow coordinator: the progress report is still unanswered when the job ends.
      coordinator.delayReports(300)
      const worker = yield* startPushWorker(
        (job, ctx) => Effect.as(ctx.progress(0.5, "half way"), Number(job.input) * 2),
        { apiUrl: coordinator.url }
      )
      const spec = jobSpec(21)
      yield* worker.client.jobs.submit({ payload: spec })
      yield* eventually(() => coordinator.calls.reports.some((r) => r.body._tag === "Completed"))
      const reports = coordinator.calls.reports.filter((r) => r.jobId === spec.jobId)
      assert.deepStrictEqual(reports.map((r) => [r.body._tag, r.overlapped]), [["Progress", false], ["Completed", false]])
    }))

  it.scopedLive("reports progress and completion with the result", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startPushWorker(
        (job, ctx) =>
          Effect.gen(function*() {
            yield* ctx.progress(0.5, "half way")
            yield* Effect.sleep(Duration.millis(30))
            return { doubled: Number(job.input) * 2, device: ctx.device }
          }),
        { apiUrl: coordinator.url }
      )
      const spec = jobSpec(21)
      const accepted = yield* worker.client.jobs.submit({ payload: spec })
      assert.include(["pending", "running"], accepted.status)
      yield* eventually(() => coordinator.calls.reports.some((r) => r.body._tag === "Completed"))
      const bodies = coordinator.calls.reports.filter((r) => r.jobId === spec.jobId).map((r) => r.body)
      assert.deepStrictEqual(bodies, [
        { _tag: "Progress", progress: 0.5, message: "half way" },
        { _tag: "Completed", result: { doubled: 42, device: "slot-0" } }
      ])
      const state = yield* worker.client.jobs.get({ path: { jobId: spec.jobId } })
      assert.deepStrictEqual(state, {
        jobId: spec.jobId,
        status: "completed",
        progress: 1,
        message: "half way",
        attempts: 1,
        result: { doubled: 42, device: "slot-0" }
      })
      assert.deepStrictEqual(yield* worker.host.unreported, [])
    }))

  it.scopedLive("retries a failing job at the queue level, then reports the failure", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const attempts: Array<number> = []
      const worker = yield* startPushWorker(
        (_job, ctx) => Effect.sync(() => attempts.push(ctx.attempt)).pipe(Effect.zipRight(Effect.fail(new Error("out of memory")))),
        { apiUrl: coordinator.url, maxRetries: 2 }
      )
      const spec = jobSpec()
      yield* worker.client.jobs.submit({ payload: spec })
      yield* eventually(() => coordinator.calls.reports.some((r) => r.body._tag === "Failed"))
      assert.deepStrictEqual(attempts, [1, 2, 3])
      assert.deepStrictEqual(coordinator.calls.reports.map((r) => r.body), [{ _tag: "Failed", error: "out of memory" }])
      const state = yield* worker.client.jobs.get({ path: { jobId: spec.jobId } })
      assert.strictEqual(state.status, "failed")
      assert.strictEqual(state.attempts, 3)
    }))

  it.scopedLive("answers 404 for an unknown job", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startPushWorker(double, { apiUrl: coordinator.url })
      const missing = jobSpec().jobId
      const got = yield* Effect.flip(worker.client.jobs.get({ path: { jobId: missing } }))
      assert.strictEqual(got._tag, "UnknownJob")
      const cancelled = yield* Effect.flip(worker.client.jobs.cancel({ path: { jobId: missing } }))
      assert.strictEqual(cancelled._tag, "UnknownJob")
    }))

  it.scopedLive("cancel stops a running job, which is not reported", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const started = yield* Deferred.make<void>()
      const stopped = yield* Deferred.make<void>()
      const worker = yield* startPushWorker(
        () => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never).pipe(Effect.onInterrupt(() => Deferred.succeed(stopped, undefined))),
        { apiUrl: coordinator.url }
      )
      const spec = jobSpec()
      yield* worker.client.jobs.submit({ payload: spec })
      yield* Deferred.await(started)
      const state = yield* worker.client.jobs.cancel({ path: { jobId: spec.jobId } })
      assert.strictEqual(state.status, "cancelled")
      assert.strictEqual(state.error, "cancelled by the coordinator")
      assert.isTrue(Option.isSome(yield* Deferred.poll(stopped)))
      // The freed slot takes the next job.
      const next = jobSpec()
      yield* worker.client.jobs.submit({ payload: next })
      yield* Effect.sleep(Duration.millis(150))
      assert.deepStrictEqual(coordinator.calls.reports.filter((r) => r.body._tag !== "Progress"), [])
    }))

  it.scopedLive("stops a job the coordinator says is not its own", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startPushWorker(() => Effect.never, { apiUrl: coordinator.url })
      yield* eventually(() => coordinator.calls.heartbeats.length >= 1)
      const spec = jobSpec()
      yield* worker.client.jobs.submit({ payload: spec })
      coordinator.disown(spec.jobId)
      coordinator.forget("trainer-1")
      yield* eventually(() => coordinator.calls.registrations.length === 2)
      const state = yield* Effect.gen(function*() {
        for (let i = 0; i < 200; i++) {
          const s = yield* worker.client.jobs.get({ path: { jobId: spec.jobId } })
          if (s.status === "cancelled") return s
          yield* Effect.sleep(Duration.millis(5))
        }
        return yield* worker.client.jobs.get({ path: { jobId: spec.jobId } })
      })
      assert.strictEqual(state.status, "cancelled")
      assert.strictEqual(state.error, "the coordinator assigned this job elsewhere")
    }))

  it.scopedLive("refuses a job its registration answer declared lost (a dispatch that crossed the registration)", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startPushWorker(() => Effect.succeed({ done: true }), { apiUrl: coordinator.url })
      yield* eventually(() => coordinator.calls.heartbeats.length >= 1)
      const spec = jobSpec()
      coordinator.loseOnRegistration(spec.jobId)
      coordinator.forget("trainer-1")
      yield* eventually(() => coordinator.calls.registrations.length === 2)
      const refused = yield* Effect.flip(worker.client.jobs.submit({ payload: spec }))
      assert.strictEqual(refused._tag, "WorkerUnavailable")
      assert.include(refused.message, "runs elsewhere")
      // Other jobs are still welcome.
      const other = yield* worker.client.jobs.submit({ payload: jobSpec() })
      assert.oneOf(other.status, ["pending", "running", "completed"])
    }))

  it.scopedLive("refuses with 503 when its queue is full", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startPushWorker(() => Effect.never, { apiUrl: coordinator.url, capacity: 1, queueLimit: 2 })
      yield* worker.client.jobs.submit({ payload: jobSpec() })
      yield* worker.client.jobs.submit({ payload: jobSpec() })
      const refused = yield* Effect.flip(worker.client.jobs.submit({ payload: jobSpec() }))
      assert.strictEqual(refused._tag, "WorkerUnavailable")
      assert.include(refused.message, "is full")
    }))

  it.scopedLive("runs at most `capacity` jobs at once", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      let current = 0
      let peak = 0
      const worker = yield* startPushWorker(
        () =>
          Effect.acquireUseRelease(
            Effect.sync(() => (peak = Math.max(peak, ++current))),
            () => Effect.sleep(Duration.millis(30)),
            () => Effect.sync(() => current--)
          ),
        { apiUrl: coordinator.url, capacity: 2, queueLimit: 6 }
      )
      for (let i = 0; i < 6; i++) yield* worker.client.jobs.submit({ payload: jobSpec() })
      yield* eventually(() => coordinator.calls.reports.filter((r) => r.body._tag === "Completed").length === 6)
      assert.strictEqual(peak, 2)
    }))

  it.scopedLive("drains on shutdown: refuses with 503, lets the running job finish and report, then deregisters", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const worker = yield* startPushWorker(
        (job) => Effect.zipRight(Deferred.succeed(started, undefined), Effect.as(Deferred.await(gate), job.input)),
        { apiUrl: coordinator.url, capacity: 1, queueLimit: 2, drainDeadlineSeconds: 5 }
      )
      const running = jobSpec("finished during the drain")
      const waiting = jobSpec("never started")
      yield* worker.client.jobs.submit({ payload: running })
      yield* worker.client.jobs.submit({ payload: waiting })
      yield* Deferred.await(started)
      const stopping = yield* Effect.fork(worker.stop)
      yield* eventually(() => Effect.runSync(worker.host.draining))
      const refused = yield* Effect.flip(worker.client.jobs.submit({ payload: jobSpec() }))
      assert.strictEqual(refused._tag, "WorkerUnavailable")
      assert.include(refused.message, "shutting down")
      // A repeat of a known job still answers with its state.
      const repeat = yield* worker.client.jobs.submit({ payload: running })
      assert.strictEqual(repeat.status, "running")
      assert.strictEqual((yield* worker.client.health.health()).status, "draining")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(stopping)
      assert.deepStrictEqual(
        coordinator.calls.reports.map((r) => [r.jobId, r.body]),
        [[running.jobId, { _tag: "Completed", result: "finished during the drain" }]]
      )
      const last = coordinator.calls.registrations.at(-1)
      assert.deepStrictEqual(last?.runningJobs, [])
      assert.deepStrictEqual(coordinator.calls.deregistrations, ["trainer-1"])
      const closed = yield* Effect.either(worker.client.health.health())
      assert.isTrue(closed._tag === "Left")
    }))

  it.scopedLive("drains on shutdown: interrupts what is still running at the deadline, and reports no failure", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const started = yield* Deferred.make<void>()
      const interrupted = yield* Deferred.make<void>()
      const worker = yield* startPushWorker(
        () => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never).pipe(Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))),
        { apiUrl: coordinator.url, drainDeadlineSeconds: 0.2 }
      )
      const spec = jobSpec()
      yield* worker.client.jobs.submit({ payload: spec })
      yield* Deferred.await(started)
      const began = Date.now()
      yield* worker.stop
      assert.isBelow(Date.now() - began, 2000)
      assert.isTrue(Option.isSome(yield* Deferred.poll(interrupted)))
      assert.deepStrictEqual(coordinator.calls.reports, [])
      const last = coordinator.calls.registrations.at(-1)
      assert.deepStrictEqual(last?.runningJobs, [])
      assert.deepStrictEqual(coordinator.calls.deregistrations, ["trainer-1"])
    }))

  it.scopedLive("a registration while a result is being delivered lists that job as running, not lost", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startPushWorker(double, { apiUrl: coordinator.url })
      yield* eventually(() => coordinator.calls.heartbeats.length >= 1)
      coordinator.delayReports(800)
      const spec = jobSpec(21)
      yield* worker.client.jobs.submit({ payload: spec })
      yield* eventually(() => coordinator.calls.reports.some((r) => r.jobId === spec.jobId && r.body._tag === "Completed"))
      // The coordinator forgets the worker while the report is still on its way.
      const before = coordinator.calls.registrations.length
      coordinator.forget("trainer-1")
      yield* eventually(() => coordinator.calls.registrations.length > before)
      const again = coordinator.calls.registrations[before]!
      assert.deepStrictEqual(again.runningJobs, [spec.jobId], "its report follows: not lost")
      assert.deepStrictEqual(again.finishedJobs, [])
    }))

  it.scopedLive("holds results while the coordinator is down and sends them with the next registration", () =>
    Effect.gen(function*() {
      const first = yield* startCoordinator()
      const gate = yield* Deferred.make<void>()
      const worker = yield* startPushWorker((job) => Effect.as(Deferred.await(gate), job.input), { apiUrl: first.url })
      yield* eventually(() => first.calls.heartbeats.length >= 1)
      const ok = jobSpec("trained")
      yield* worker.client.jobs.submit({ payload: ok })
      yield* first.stop
      yield* Deferred.succeed(gate, undefined)
      yield* eventually(() => Effect.runSync(worker.host.unreported).length === 1)
      const held = Effect.runSync(worker.host.unreported)
      assert.deepStrictEqual(held, [{ _tag: "Completed", jobId: ok.jobId, workerId: "trainer-1" as Domain.WorkerId, result: "trained" }])
      // The coordinator comes back on the same port.
      const second = yield* startCoordinator({ port: first.port })
      yield* eventually(() => second.calls.registrations.length >= 1)
      assert.deepStrictEqual(second.calls.registrations[0]?.finishedJobs, held)
      assert.deepStrictEqual(second.calls.reports, [])
      yield* eventually(() => second.calls.heartbeats.length >= 1)
      assert.deepStrictEqual(yield* worker.host.unreported, [])
    }))

  it.scopedLive("with FOREMAN_WORKER_TOKEN: sends it to the coordinator and requires it from callers", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startPushWorker(double, { apiUrl: coordinator.url, token: Option.some(Redacted.make("s3cret")) })
      yield* eventually(() => coordinator.calls.heartbeats.length >= 1)
      assert.isTrue(coordinator.calls.tokens.length >= 2 && coordinator.calls.tokens.every((t) => t === "s3cret"))
      const refused = yield* Effect.flip(worker.client.jobs.submit({ payload: jobSpec(1) }))
      assert.strictEqual(refused._tag, "Unauthorized")
      assert.strictEqual((yield* worker.client.health.health()).status, "ok")
    }))

  it.scopedLive("reports a result the coordinator refuses (400) as a failure with its reason, and holds nothing", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      coordinator.refuseReports((body) => body._tag === "Completed" ? "Request body nests deeper than 64 levels" : undefined)
      const worker = yield* startPushWorker(double, { apiUrl: coordinator.url })
      yield* eventually(() => coordinator.calls.heartbeats.length >= 1)
      const spec = jobSpec(21)
      yield* worker.client.jobs.submit({ payload: spec })
      yield* eventually(() => coordinator.calls.reports.some((r) => r.body._tag === "Failed"))
      assert.deepStrictEqual(coordinator.calls.reports.map((r) => [r.jobId, r.body]), [
        [spec.jobId, { _tag: "Completed", result: { doubled: 42 } }],
        [spec.jobId, {
          _tag: "Failed",
          error: "the coordinator refused the job's result: Request body nests deeper than 64 levels"
        }]
      ])
      assert.deepStrictEqual(yield* worker.host.unreported, [])
      // Nothing is sent again, and the worker carries on heartbeating without registering again.
      const beats = coordinator.calls.heartbeats.length
      yield* eventually(() => coordinator.calls.heartbeats.length >= beats + 3)
      assert.strictEqual(coordinator.calls.reports.length, 2)
      assert.strictEqual(coordinator.calls.registrations.length, 1)
    }))

  it.scopedLive("gives up on a job whose failure report is refused too, instead of sending it forever", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      coordinator.refuseReports(() => "no reports today")
      const worker = yield* startPushWorker(double, { apiUrl: coordinator.url })
      yield* eventually(() => coordinator.calls.heartbeats.length >= 1)
      yield* worker.client.jobs.submit({ payload: jobSpec(1) })
      yield* eventually(() => coordinator.calls.reports.length >= 2)
      const beats = coordinator.calls.heartbeats.length
      yield* eventually(() => coordinator.calls.heartbeats.length >= beats + 3)
      assert.deepStrictEqual(coordinator.calls.reports.map((r) => r.body._tag), ["Completed", "Failed"])
      assert.deepStrictEqual(yield* worker.host.unreported, [])
      assert.strictEqual(coordinator.calls.registrations.length, 1)
    }))

  it.scopedLive("reports a result or an error storage cannot keep (NUL, lone surrogate, not JSON) as a failure in clean text", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startPushWorker(
        (job) =>
          job.input === "result"
            ? Effect.succeed({ log: "loss\u0000" })
            : job.input === "bigint"
            ? Effect.succeed({ trades: 10n })
            : Effect.fail(new Error("out of\u0000 memory \ud800")),
        { apiUrl: coordinator.url, capacity: 3 }
      )
      yield* eventually(() => coordinator.calls.heartbeats.length >= 1)
      const result = jobSpec("result")
      const bigint = jobSpec("bigint")
      const error = jobSpec("error")
      yield* worker.client.jobs.submit({ payload: result })
      yield* worker.client.jobs.submit({ payload: bigint })
      yield* worker.client.jobs.submit({ payload: error })
      yield* eventually(() => coordinator.calls.reports.filter((r) => r.body._tag === "Failed").length === 3)
      const bodyOf = (jobId: string) => coordinator.calls.reports.filter((r) => r.jobId === jobId).map((r) => r.body)
      assert.deepStrictEqual(bodyOf(result.jobId), [{
        _tag: "Failed",
        error: "the coordinator refused the job's result: result: text must be valid Unicode without NUL characters"
      }])
      assert.deepStrictEqual(bodyOf(bigint.jobId), [{
        _tag: "Failed",
        error: "the coordinator refused the job's result: result: not JSON (Do not know how to serialize a BigInt)"
      }])
      assert.deepStrictEqual(bodyOf(error.jobId), [{
        _tag: "Failed",
        error: "the coordinator refused the job's report (error: text must be valid Unicode without NUL characters); " +
          "the job failed: out of\ufffd memory \ufffd"
      }])
      assert.deepStrictEqual(yield* worker.host.unreported, [])
      assert.strictEqual(coordinator.calls.registrations.length, 1)
    }))
})

describe("WorkerHost with a real coordinator", () => {
  it.scopedLive("a result storage cannot keep ends the job failed with a clear message; the worker holds nothing, stays registered", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(
        ApiServer.serve({ host: "127.0.0.1", port: 0 }).pipe(
          Layer.provideMerge(Server.engine({
            storage: Memory.storage,
            agents: OfflineAgents.layer(),
            config: ForemanConfig.layerWith({ dailyBudgetUsd: 0, pollIntervalSeconds: 0.2, heartbeatIntervalSeconds: 1 })
          }))
        )
      ).pipe(Effect.withConfigProvider(tokenConfig()), quiet)
      const coordinator = Context.get(context, Coordinator.Coordinator)
      const registry = Context.get(context, WorkerRegistry.WorkerRegistry)
      yield* Effect.forkScoped(quiet(coordinator.run))
      const address = Context.get(context, HttpServer.HttpServer).address
      const apiUrl = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
      const worker = yield* startWorker(
        () => Effect.succeed({ testAccuracy: 0.6, log: "epoch 1\u0000" }),
        { apiUrl, id: "trainer-nul", heartbeatIntervalSeconds: 0.2 }
      )
      const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      const detail = yield* until(
        coordinator.show(research.id),
        (shown) => shown.jobs.some((j) => j.kind === "training" && j.status === "failed"),
        60
      )
      const training = detail.jobs.find((j) => j.kind === "training" && j.status === "failed")!
      assert.strictEqual(training.workerId, "trainer-nul")
      assert.strictEqual(
        training.error,
        "the coordinator refused the job's result: result: text must be valid Unicode without NUL characters"
      )
      assert.deepStrictEqual(yield* worker.host.unreported, [])
      const registered = yield* registry.get("trainer-nul" as Domain.WorkerId)
      assert.include(["available", "busy"], registered.status)
      // It keeps heartbeating.
      yield* until(registry.get("trainer-nul" as Domain.WorkerId), (w) => w.lastHeartbeatAt > registered.lastHeartbeatAt, 30)
    }).pipe(quiet), 120_000)
})
