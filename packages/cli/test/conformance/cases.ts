/**
 * The pull worker protocol (docs/worker-protocol.md), one list of cases run
 * against both SDKs — Python `foreman_worker` and TypeScript `@foreman/worker`
 * — on real processes: each case starts `foreman server` (no local workers) on
 * a PostgreSQL database of its own and the SDK's controllable worker
 * (`python_worker.py`, `typescript_worker.ts`), which logs `start`/`done`/
 * `cancelled` lines per job. Every wait polls the API or a log file.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  type Lab,
  lossyProxy,
  quickRecovery,
  registerRaw,
  results,
  type Sdk,
  sdks,
  startLab,
  starts,
  type WorkerProcess
} from "./harness.js"

/** Waits until the worker's log has a `start` line, answering its job id. */
const started = (l: Lab, worker: WorkerProcess) =>
  l.until(`${worker.id} to start a job`, () => starts(worker.lines())[0]?.[0])

/** A log's lines without the attempt: `start <jobId>`, `done <jobId>`, `cancelled <jobId>`. */
const events = (worker: WorkerProcess) => worker.lines().map((line) => line.split(" ").slice(0, 2).join(" "))

const timeout = 120_000

/**
 * The conformance list against the SDK named `name`, in the calling test file
 * (one file per SDK, so the two run side by side).
 */
export const conformance = (name: Sdk["name"]): void => {
  const sdk = sdks.find((s) => s.name === name)!
  if (!sdk.available) process.stderr.write(`skipping the ${sdk.name} SDK's conformance: ${sdk.missing}\n`)
  // Each case has a coordinator and database of its own, and mostly waits (on jobs that take
  // seconds, on heartbeats and graces): the cases run side by side.
  describe(`the ${sdk.name} SDK`, { concurrent: true }, () => cases(sdk))
}

/** What a case gets: labs and other things that are closed when it ends, however it ends. */
interface Case {
  readonly lab: (...args: Parameters<typeof startLab>) => Promise<Lab>
  readonly onEnd: (close: () => Promise<void>) => void
}

const cases = (sdk: Sdk): void => {
  const test = (name: string, body: (c: Case) => Promise<void>) =>
    it.live.skipIf(!sdk.available)(name, () =>
      Effect.promise(async () => {
        const closes: Array<() => Promise<void>> = []
        const onEnd = (close: () => Promise<void>) => void closes.push(close)
        const lab = async (...args: Parameters<typeof startLab>) => {
          const started = await startLab(...args)
          onEnd(started.close)
          return started
        }
        try {
          await body({ lab, onEnd })
        } finally {
          for (const close of closes.reverse()) await close()
        }
      }), timeout)

  test("1. a job completes, its progress reaching the coordinator", async ({ lab }) => {
      const l = await lab(sdk, "progress")
      const training = await l.worker({ type: "training", seconds: 3 })
      const backtest = await l.worker({ type: "backtest" })
      const id = await l.trigger()

      const progressed = await l.until("progress of the training job", async () =>
        (await l.show(id)).jobs.find((j) =>
          j.kind === "training" && j.status === "running" && j.progress > 0 && /^step \d+\/10$/.test(j.message ?? "")
        ))
      assert.strictEqual(progressed.workerId, training.id)

      const shown = await l.finished(id)
      assert.strictEqual(shown.research.status, "completed", l.context())
      assert.deepStrictEqual(shown.jobs.map((j) => [j.kind, j.status]), [
        ["design", "completed"],
        ["training", "completed"],
        ["backtest", "completed"],
        ["assessment", "completed"]
      ])
      const [, trained, backtested] = shown.jobs
      assert.deepStrictEqual(trained!.result, results.training)
      assert.deepStrictEqual(backtested!.result, results.backtest)
      assert.strictEqual(backtested!.workerId, backtest.id)
      assert.deepStrictEqual(training.lines(), [`start ${trained!.id} 1`, `done ${trained!.id}`])
      assert.deepStrictEqual(backtest.lines(), [`start ${backtested!.id} 1`, `done ${backtested!.id}`])
  })

  test("2. a job cancelled mid-run stops within one heartbeat interval, with no result", async ({ lab }) => {
      const l = await lab(sdk, "cancel")
      const training = await l.worker({ type: "training", seconds: 30 })
      const id = await l.trigger()
      const jobId = await started(l, training)
      await l.job(id, "training")

      const cancelledAt = Date.now()
      const cancelled = await l.api("DELETE", `/agent/researches/${id}`)
      assert.strictEqual(cancelled.status, 200, JSON.stringify(cancelled.body))
      await l.until("the worker to stop the job", () => (training.lines().includes(`cancelled ${jobId}`) ? true : undefined), 15_000)
      const took = Date.now() - cancelledAt
      // One heartbeat interval (1 s), plus the time the loaded machine takes to notice the log line.
      assert.isBelow(took, 4_000, `the job stopped ${took} ms after the cancel`)

      const shown = await l.show(id)
      assert.strictEqual(shown.research.status, "cancelled")
      assert.strictEqual(shown.jobs.find((j) => j.kind === "training")?.status, "cancelled")
      // The worker is free again and asks for work; the job never finished.
      await l.polling(training)
      assert.deepStrictEqual(training.lines(), [`start ${jobId} 1`, `cancelled ${jobId}`])
  })

  test("3. a coordinator SIGKILLed mid-job and restarted keeps the result and does not run the job again", async ({ lab }) => {
      const l = await lab(sdk, "coordinator_kill", { FOREMAN_ORPHAN_GRACE_SECONDS: "2" })
      const training = await l.worker({ type: "training", seconds: 3 })
      await l.worker({ type: "backtest" })
      const id = await l.trigger()
      const jobId = await started(l, training)

      await l.killCoordinator()
      // The job finishes while no coordinator runs: its report waits for the next one.
      await l.until("the job to finish", () => (training.lines().includes(`done ${jobId}`) ? true : undefined))
      await l.startCoordinator()

      const shown = await l.finished(id)
      assert.strictEqual(shown.research.status, "completed", l.context())
      const trainingJobs = shown.jobs.filter((j) => j.kind === "training")
      assert.deepStrictEqual(trainingJobs.map((j) => [j.id, j.status, j.workerId]), [[jobId, "completed", training.id]])
      assert.deepStrictEqual(trainingJobs[0]!.result, results.training)
      assert.deepStrictEqual(training.lines(), [`start ${jobId} 1`, `done ${jobId}`])
  })

  test("4. a worker SIGKILLed mid-job: the job is lost and retried on another worker of its type", async ({ lab }) => {
      const l = await lab(sdk, "worker_kill", quickRecovery)
      const first = await l.worker({ type: "training", seconds: 30 })
      await l.worker({ type: "backtest" })
      const id = await l.trigger()
      const lostJob = await started(l, first)
      first.signal("SIGKILL")
      await first.exited
      const second = await l.worker({ type: "training" })

      const shown = await l.finished(id)
      assert.strictEqual(shown.research.status, "completed", l.context())
      const trainingJobs = shown.jobs.filter((j) => j.kind === "training")
      assert.deepStrictEqual(trainingJobs.map((j) => [j.status, j.workerId, j.attempt]), [
        ["lost", first.id, 1],
        ["completed", second.id, 2]
      ])
      assert.strictEqual(trainingJobs[0]!.id, lostJob)
      assert.deepStrictEqual(first.lines(), [`start ${lostJob} 1`])
      // The log's attempt is left out: Python's job.attempt is the coordinator's (2 here), while
      // runWorker's JobInfo.attempt counts the worker's own re-runs of the job (1).
      assert.deepStrictEqual(events(second), [`start ${trainingJobs[1]!.id}`, `done ${trainingJobs[1]!.id}`])
  })

  test("5. a final report sent twice is one outcome (a lost answer resent by the SDK; a raw client's repeat)", async ({ lab, onEnd }) => {
      const l = await lab(sdk, "report_twice")
      const proxy = await lossyProxy(l.url)
      onEnd(proxy.close)
      const training = await l.worker({ type: "training", apiUrl: proxy.url })
      const backtest = await registerRaw(l.url, `raw-${sdk.name}-backtest`, "backtest")
      const id = await l.trigger()

      // The SDK's final report reached the coordinator, its answer did not: the SDK sends it again.
      const jobId = await started(l, training)
      await l.until("the training report twice", () =>
        proxy.finalReports().filter((j) => j === jobId).length >= 2 ? true : undefined)

      // A raw client gets the backtest job and reports its result twice: the same answer each time.
      const job = await l.until("the backtest job on the raw worker", async () => {
        const answer = await backtest.poll(2)
        return (answer.body["jobs"] as ReadonlyArray<{ readonly jobId: string }> | undefined)?.[0]
      })
      const report = { _tag: "Completed", result: results.backtest }
      const once = await backtest.report(job.jobId, report)
      const twice = await backtest.report(job.jobId, report)
      assert.strictEqual(once.status, 200, JSON.stringify(once.body))
      assert.strictEqual(twice.status, 200, JSON.stringify(twice.body))
      assert.strictEqual(once.body["status"], "completed")
      assert.strictEqual(twice.body["status"], "completed")

      const shown = await l.finished(id)
      assert.strictEqual(shown.research.status, "completed", l.context())
      assert.deepStrictEqual(shown.jobs.map((j) => [j.kind, j.status]), [
        ["design", "completed"],
        ["training", "completed"],
        ["backtest", "completed"],
        ["assessment", "completed"]
      ])
      assert.deepStrictEqual(shown.jobs[1]!.result, results.training)
      assert.deepStrictEqual(shown.jobs[2]!.result, results.backtest)
      assert.deepStrictEqual(training.lines(), [`start ${jobId} 1`, `done ${jobId}`])
  })

  test("6. a report on another worker's job is refused with 403 JobNotAssigned", async ({ lab }) => {
      const l = await lab(sdk, "not_assigned")
      const training = await l.worker({ type: "training", seconds: 3 })
      await l.worker({ type: "backtest" })
      const id = await l.trigger()
      const jobId = await started(l, training)

      const intruder = await registerRaw(l.url, `raw-${sdk.name}-intruder`, "training")
      for (const body of [
        { _tag: "Progress", progress: 0.9, message: "not mine" },
        { _tag: "Completed", result: { ...results.training, testAccuracy: 0.99 } },
        { _tag: "Failed", error: "not mine either" }
      ]) {
        const refused = await intruder.report(jobId, body)
        assert.strictEqual(refused.status, 403, JSON.stringify(refused.body))
        assert.strictEqual(refused.body["_tag"], "JobNotAssigned")
      }

      const shown = await l.finished(id)
      assert.strictEqual(shown.research.status, "completed", l.context())
      const trained = shown.jobs.find((j) => j.kind === "training")!
      assert.deepStrictEqual([trained.id, trained.workerId], [jobId, training.id])
      assert.deepStrictEqual(trained.result, results.training)
      assert.deepStrictEqual(training.lines(), [`start ${jobId} 1`, `done ${jobId}`])
  })

  test("7. a wrong worker token is refused: the worker says so (and exits or retries), nothing is registered", async ({ lab }) => {
      const l = await lab(sdk, "token", { FOREMAN_API_TOKEN: "operator-secret", FOREMAN_WORKER_TOKEN: "worker-secret" })
      const wrong = await l.worker({ type: "training", env: { FOREMAN_WORKER_TOKEN: "not-the-token" } })
      if (sdk.badToken.does === "exit") {
        const code = await Promise.race([wrong.exited, new Promise<"running">((r) => setTimeout(() => r("running"), 30_000))])
        assert.notStrictEqual(code, "running", `the worker did not stop:\n${wrong.output()}`)
        assert.notStrictEqual(code, 0, wrong.output())
        assert.match(wrong.output(), sdk.badToken.says)
      } else {
        await l.until("the worker to be refused twice", () =>
          wrong.output().split("\n").filter((line) => sdk.badToken.says.test(line)).length >= 2 ? true : undefined)
        assert.strictEqual(wrong.child.exitCode, null, "the worker keeps trying")
      }
      assert.deepStrictEqual(await l.workers(), [])

      // The right token registers.
      const right = await l.worker({ type: "training", env: { FOREMAN_WORKER_TOKEN: "worker-secret" } })
      await l.polling(right)
      assert.deepStrictEqual((await l.workers()).map((w) => w.id), [right.id])
  })

  test("8. SIGTERM mid-job: the job finishes, no new job is taken, the worker deregisters and exits 0", async ({ lab }) => {
      const l = await lab(sdk, "sigterm")
      const training = await l.worker({ type: "training", seconds: 3 })
      await l.worker({ type: "backtest" })
      const first = await l.trigger("Explore RSI variations on EURUSD")
      const jobId = await started(l, training)
      const second = await l.trigger("Explore MACD variations on GBPUSD")
      await l.until("the second research to wait for a training worker", async () =>
        (await l.show(second)).research.waitingFor?.workerType === "training" ? true : undefined)

      training.signal("SIGTERM")
      const code = await training.exited
      assert.strictEqual(code, 0, training.output())
      assert.deepStrictEqual(training.lines(), [`start ${jobId} 1`, `done ${jobId}`])
      assert.notInclude((await l.workers()).map((w) => w.id), training.id)

      const shown = await l.finished(first)
      assert.strictEqual(shown.research.status, "completed", l.context())
      assert.strictEqual(shown.jobs.find((j) => j.kind === "training")?.workerId, training.id)
      const waiting = await l.show(second)
      assert.isFalse(waiting.jobs.some((j) => j.workerId === training.id), JSON.stringify(waiting.jobs))
      assert.strictEqual(waiting.research.waitingFor?.workerType, "training")

      // Another worker takes it.
      const next = await l.worker({ type: "training" })
      const done = await l.finished(second)
      assert.strictEqual(done.research.status, "completed", l.context())
      assert.strictEqual(done.jobs.find((j) => j.kind === "training")?.workerId, next.id)
  })

  test("9. a worker polling across a coordinator restart reconnects and takes the next job", async ({ lab }) => {
      const l = await lab(sdk, "poll_restart", { FOREMAN_ORPHAN_GRACE_SECONDS: "2" })
      const training = await l.worker({ type: "training", env: { FOREMAN_POLL_WAIT_SECONDS: "20" } })
      const backtest = await l.worker({ type: "backtest", env: { FOREMAN_POLL_WAIT_SECONDS: "20" } })
      await l.polling(training)
      await l.polling(backtest)

      await l.killCoordinator()
      await l.startCoordinator()
      const id = await l.trigger()

      const shown = await l.finished(id)
      assert.strictEqual(shown.research.status, "completed", l.context())
      const trained = shown.jobs.find((j) => j.kind === "training" && j.status === "completed")!
      assert.strictEqual(trained.workerId, training.id)
      assert.deepStrictEqual(events(training), [`start ${trained.id}`, `done ${trained.id}`])
      assert.strictEqual(training.child.exitCode, null, "the worker still runs")
  })
}
