/**
 * A pull WorkerHost (the default protocol) over real HTTP against the fake
 * coordinator: registration without an endpoint, polls only while a slot is
 * free, a job with progress, the final report carrying the next poll (a
 * handover in one round trip), cancel by a heartbeat's `stop` or a progress
 * answer, registering again after a 404, a job handed over twice running once,
 * and the drain (no new job, the running one reported, deregistered; a report
 * waiting for its next job cut short).
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, FiberId, Option } from "effect"
import type { WorkerHost } from "../src/index.js"
import { eventually, jobSpec, startCoordinator, startWorker } from "@foreman/testing/WorkerHarness"

/** A job function that waits for its gate and tells when it started. */
const gated = () =>
  Effect.gen(function*() {
    const started = new Set<string>()
    const gates = new Map<string, Deferred.Deferred<void>>()
    const gateOf = (jobId: string) => {
      const existing = gates.get(jobId)
      if (existing !== undefined) return existing
      const gate = Deferred.unsafeMake<void>(FiberId.none)
      gates.set(jobId, gate)
      return gate
    }
    let runs = 0
    const fn: WorkerHost.WorkerFunction = (job) =>
      Effect.gen(function*() {
        runs++
        started.add(job.jobId)
        yield* Deferred.await(gateOf(job.jobId))
        return { done: job.input }
      })
    return {
      fn,
      started: (jobId: string) => started.has(jobId),
      open: (jobId: string) => Deferred.succeed(gateOf(jobId), undefined),
      runs: () => runs
    }
  })

/** A job's status in the worker's queue, if it knows the job. */
const statusOf = (worker: { readonly host: WorkerHost.WorkerHostShape }, jobId: string) =>
  Option.getOrUndefined(Effect.runSync(worker.host.queue.get(jobId)))?.status

describe("WorkerHost, pull", () => {
  it.scopedLive("registers without an endpoint, with its runtime, and polls listing what it holds", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startWorker(() => Effect.never, { apiUrl: coordinator.url, capacity: 2 })
      assert.strictEqual(worker.host.protocol, "pull")
      assert.isNull(worker.host.endpoint)
      yield* eventually(() => coordinator.calls.polls.length >= 1)
      const [registration] = coordinator.calls.registrations
      assert.isUndefined(registration?.endpoint)
      assert.match(registration?.runtime ?? "", /^node \d+\./)
      assert.strictEqual(registration?.capacity, 2)
      assert.deepStrictEqual(coordinator.calls.polls[0], { workerId: "trainer-1", running: [], waitSeconds: 1, via: "poll" })
      const spec = jobSpec()
      coordinator.offer(spec)
      // One slot is still free: it polls again, listing the job it holds; heartbeats list it too.
      yield* eventually(() => coordinator.calls.polls.some((p) => p.running.includes(spec.jobId)))
      yield* eventually(() => coordinator.calls.contacts.some((c) => c.kind === "heartbeat" && c.running?.includes(spec.jobId)))
    }))

  it.scopedLive("runs a polled job with its progress; the final report carries the next poll", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      yield* startWorker(
        (job, ctx) => Effect.as(ctx.progress(0.5, "half way"), { doubled: Number(job.input) * 2, device: ctx.device }),
        { apiUrl: coordinator.url }
      )
      yield* eventually(() => coordinator.calls.polls.length >= 1)
      const spec = jobSpec(21)
      coordinator.offer(spec)
      yield* eventually(() => coordinator.calls.reports.some((r) => r.body._tag === "Completed"))
      assert.deepStrictEqual(coordinator.calls.reports.map((r) => [r.jobId, r.body]), [
        [spec.jobId, { _tag: "Progress", progress: 0.5, message: "half way" }],
        [spec.jobId, {
          _tag: "Completed",
          result: { doubled: 42, device: "slot-0" },
          next: { waitSeconds: 1, running: [] }
        }]
      ])
    }))

  it.scopedLive("a full worker does not poll; the final report's answer starts the next job, with no poll between", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const jobs = yield* gated()
      yield* startWorker(jobs.fn, { apiUrl: coordinator.url, capacity: 1 })
      yield* eventually(() => coordinator.calls.polls.length >= 1)
      const first = jobSpec("first")
      const second = jobSpec("second")
      coordinator.offer(first)
      yield* eventually(() => jobs.started(first.jobId))
      const pollsWhileFull = coordinator.calls.polls.length
      // Assigned while the worker is busy: only the report of the first job can pick it up.
      coordinator.offer(second)
      yield* jobs.open(first.jobId)
      yield* eventually(() => jobs.started(second.jobId))
      assert.strictEqual(coordinator.calls.polls.length, pollsWhileFull + 1)
      assert.deepStrictEqual(coordinator.calls.polls.at(-1), {
        workerId: "trainer-1",
        running: [],
        waitSeconds: 1,
        via: "report"
      })
      assert.deepStrictEqual(coordinator.calls.handovers, [
        { jobId: first.jobId, via: "poll" },
        { jobId: second.jobId, via: "report" }
      ])
      yield* jobs.open(second.jobId)
      yield* eventually(() => coordinator.calls.reports.filter((r) => r.body._tag === "Completed").length === 2)
    }))

  it.scopedLive("stops a job a heartbeat's `stop` names, reporting nothing, and takes the next one", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const started = yield* Deferred.make<void>()
      const stopped = yield* Deferred.make<void>()
      const worker = yield* startWorker(
        (job) =>
          job.input === "forever"
            ? Effect.zipRight(Deferred.succeed(started, undefined), Effect.never).pipe(
              Effect.onInterrupt(() => Deferred.succeed(stopped, undefined))
            )
            : Effect.succeed("next"),
        { apiUrl: coordinator.url, capacity: 1 }
      )
      yield* eventually(() => coordinator.calls.polls.length >= 1)
      const spec = jobSpec("forever")
      coordinator.offer(spec)
      yield* Deferred.await(started)
      coordinator.cancel(spec.jobId)
      yield* Deferred.await(stopped)
      yield* eventually(() => statusOf(worker, spec.jobId) === "cancelled")
      // The only call that could tell it: capacity 1, so no poll was waiting.
      assert.isTrue(coordinator.calls.polls.every((p) => !p.running.includes(spec.jobId)))
      const next = jobSpec("next")
      coordinator.offer(next)
      yield* eventually(() => coordinator.calls.reports.some((r) => r.jobId === next.jobId && r.body._tag === "Completed"))
      assert.deepStrictEqual(coordinator.calls.reports.filter((r) => r.jobId === spec.jobId), [])
    }))

  it.scopedLive("stops a job whose progress report is answered with another status than running", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const stopped = yield* Deferred.make<void>()
      const worker = yield* startWorker(
        (_job, ctx) =>
          Effect.forever(Effect.zipRight(ctx.progress(0.5), Effect.sleep("20 millis"))).pipe(
            Effect.onInterrupt(() => Deferred.succeed(stopped, undefined))
          ),
        // No heartbeat in the test's time: only a progress answer can stop the job.
        { apiUrl: coordinator.url, heartbeatIntervalSeconds: 60 }
      )
      yield* eventually(() => coordinator.calls.polls.length >= 1)
      const spec = jobSpec()
      coordinator.offer(spec)
      yield* eventually(() => coordinator.calls.reports.some((r) => r.jobId === spec.jobId))
      coordinator.cancel(spec.jobId)
      yield* Deferred.await(stopped)
      yield* eventually(() => statusOf(worker, spec.jobId) === "cancelled")
      assert.isTrue(coordinator.calls.reports.every((r) => r.body._tag === "Progress"))
    }))

  it.scopedLive("registers again, listing its running job, when a poll is answered 404, then polls again", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      // Short polls and no heartbeat in the test's time: the 404 comes to a poll.
      yield* startWorker(() => Effect.never, {
        apiUrl: coordinator.url,
        capacity: 2,
        pollWaitSeconds: 0.1,
        heartbeatIntervalSeconds: 60
      })
      yield* eventually(() => coordinator.calls.polls.length >= 1)
      const spec = jobSpec()
      coordinator.offer(spec)
      yield* eventually(() => coordinator.calls.polls.some((p) => p.running.includes(spec.jobId)))
      coordinator.forget("trainer-1")
      yield* eventually(() => coordinator.calls.registrations.length === 2)
      assert.deepStrictEqual(coordinator.calls.registrations[1]?.runningJobs, [spec.jobId])
      const after = coordinator.calls.contacts.length
      yield* eventually(() => coordinator.calls.contacts.slice(after).some((c) => c.kind === "poll"))
      assert.strictEqual(coordinator.calls.heartbeats.length, 0)
    }))

  it.scopedLive("a job handed over again (twice in one answer, and while it runs) runs once", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const jobs = yield* gated()
      yield* startWorker(jobs.fn, { apiUrl: coordinator.url, capacity: 2 })
      yield* eventually(() => coordinator.calls.polls.length >= 1)
      const spec = jobSpec("once")
      coordinator.offer(spec)
      coordinator.offer(spec)
      yield* eventually(() => jobs.started(spec.jobId))
      const handed = coordinator.calls.handovers.length
      coordinator.offer(spec)
      yield* eventually(() => coordinator.calls.handovers.length > handed)
      yield* jobs.open(spec.jobId)
      yield* eventually(() => coordinator.calls.reports.some((r) => r.jobId === spec.jobId && r.body._tag === "Completed"))
      assert.strictEqual(jobs.runs(), 1)
      assert.strictEqual(coordinator.calls.handovers.filter((h) => h.jobId === spec.jobId).length, 3)
      assert.strictEqual(coordinator.calls.reports.filter((r) => r.jobId === spec.jobId).length, 1)
    }))

  it.scopedLive("drains: stops polling, takes no new job, reports the running one, then deregisters", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const jobs = yield* gated()
      const worker = yield* startWorker(jobs.fn, { apiUrl: coordinator.url, capacity: 2, drainDeadlineSeconds: 5 })
      yield* eventually(() => coordinator.calls.polls.length >= 1)
      const running = jobSpec("finished during the drain")
      coordinator.offer(running)
      yield* eventually(() => jobs.started(running.jobId))
      // With a slot free it polls again.
      yield* eventually(() => coordinator.calls.polls.some((p) => p.running.includes(running.jobId)))
      const stopping = yield* Effect.fork(worker.stop)
      yield* eventually(() => Effect.runSync(worker.host.draining))
      const polls = coordinator.calls.polls.length
      const late = jobSpec("never taken")
      coordinator.offer(late)
      yield* jobs.open(running.jobId)
      yield* Fiber.join(stopping)
      assert.isFalse(jobs.started(late.jobId))
      assert.strictEqual(coordinator.calls.polls.length, polls, "no poll once draining")
      assert.deepStrictEqual(
        coordinator.calls.reports.map((r) => [r.jobId, r.body]),
        [[running.jobId, { _tag: "Completed", result: { done: "finished during the drain" } }]]
      )
      assert.deepStrictEqual(coordinator.calls.registrations.at(-1)?.runningJobs, [])
      assert.deepStrictEqual(coordinator.calls.deregistrations, ["trainer-1"])
    }))

  it.scopedLive("a drain cuts short a final report waiting for the next job: the report goes again without asking", () =>
    Effect.gen(function*() {
      const coordinator = yield* startCoordinator()
      const worker = yield* startWorker((job) => Effect.succeed(job.input), { apiUrl: coordinator.url, pollWaitSeconds: 30 })
      yield* eventually(() => coordinator.calls.polls.length >= 1)
      const spec = jobSpec("done")
      coordinator.offer(spec)
      // Its report now waits (up to 30 s) for a next job that never comes.
      yield* eventually(() => coordinator.calls.polls.some((p) => p.via === "report"))
      const began = Date.now()
      yield* worker.stop
      assert.isBelow(Date.now() - began, 5000)
      assert.deepStrictEqual(coordinator.calls.reports.map((r) => r.body), [
        { _tag: "Completed", result: "done", next: { waitSeconds: 30, running: [] } },
        { _tag: "Completed", result: "done" }
      ])
      assert.deepStrictEqual(coordinator.calls.deregistrations, ["trainer-1"])
    }))
})
