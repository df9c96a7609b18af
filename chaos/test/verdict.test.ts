/**
 * The chaos verdict's checks that do not take the coordinator's word for it,
 * each shown failing on a coordinator that misbehaves that way: fakes on
 * loopback (a coordinator that refuses every trigger, one that hangs or
 * resets, the proxy in front of them, the fuzzer's raw client), recorded data
 * (job rows, the lease's history, the workers' log, the API's account), and
 * the lease-history trigger on a real PostgreSQL database. Seconds, not a
 * chaos run.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { type JobRow, crossCheck, parseEvents, staleEpochCheck, startedMoreThanOnce, workloadCheck } from "../lib/checks.js"
import { failureCount, type Verdict } from "../lib/measure.js"
import * as Postgres from "../lib/postgres.js"
import { generate } from "../lib/fuzz.js"
import { Proxy } from "../lib/proxy.js"
import * as RawHttp from "../lib/rawHttp.js"
import { Recorder } from "../lib/recorder.js"
import { Rng } from "../lib/rng.js"
import { installLeaseHistory, readRows } from "../lib/rows.js"
import { freePort } from "../lib/wait.js"
import { Workload } from "../lib/workload.js"

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's PostgreSQL server (scripts/vitest-global-setup.ts). */
    databaseUrl: string
  }
}

/** A fake coordinator on loopback: `handler` decides each request. */
const fake = async (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ port: number; server: Server }> => {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  return { port: typeof address === "object" && address !== null ? address.port : 0, server }
}
const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })

const clean: Verdict = {
  lost: 0, duplicated: 0, stuck: 0, failedByUs: 0, fiveXX: 0, crashes: 0, refused: 0, unanswered: 0,
  staleEpoch: 0, unconfirmed: 0, dbMismatch: 0, underFloor: 0, accepted: 10, completed: 10, floor: 5, details: []
}

describe("the verdict", () => {
  it("fails on every new figure", () => {
    expect(failureCount(clean)).toBe(0)
    for (const figure of ["refused", "unanswered", "staleEpoch", "unconfirmed", "dbMismatch", "underFloor"] as const) {
      expect(failureCount({ ...clean, [figure]: 1 })).toBe(1)
    }
    // The informative counts are not failures.
    expect(failureCount({ ...clean, accepted: 0, completed: 0 })).toBe(0)
  })
})

describe("refused triggers and the floor", () => {
  const workload = (port: number, patienceMs = 2_000) =>
    new Workload({ scenario: "test", seed: 1, apiUrl: () => `http://127.0.0.1:${port}`, rng: Rng.derive(1, "test"), patienceMs })

  it("a coordinator that refuses every trigger (4xx) fails: refused and under the floor", async () => {
    const { port, server } = await fake((_req, res) => {
      res.writeHead(429, { "content-type": "application/json" })
      res.end(JSON.stringify({ _tag: "AtCapacity", message: "at capacity" }))
    })
    try {
      const w = workload(port)
      await w.burst(4, 2)
      const figures = workloadCheck(w.triggers, [], 3)
      expect(figures.refused.count).toBe(4)
      expect(figures.refused.details.join("\n")).toContain("429")
      expect(figures.underFloor.count).toBe(2)
      expect(figures.accepted).toBe(0)
    } finally {
      await close(server)
    }
  })

  it("a coordinator that never answers a trigger fails: given up after the patience, refused", async () => {
    const { port, server } = await fake((req) => req.socket.destroy())
    try {
      const w = workload(port, 300)
      await w.trigger()
      const figures = workloadCheck(w.triggers, [], 1)
      expect(figures.refused.count).toBe(1)
      expect(figures.refused.details[0]).toContain("gave up")
    } finally {
      await close(server)
    }
  })

  it("accepted but never completed falls under the floor; accepted and completed passes", async () => {
    let n = 0
    const { port, server } = await fake((_req, res) => {
      res.writeHead(202, { "content-type": "application/json" })
      res.end(JSON.stringify({ researchId: `op_${n++}` }))
    })
    try {
      const w = workload(port)
      await w.burst(3, 3)
      const ids = w.triggers.map((t) => t.researchId!)
      const failed = workloadCheck(w.triggers, ids.map((id) => ({ id, status: "failed", phase: "designing" })), 3)
      expect(failed.refused.count).toBe(0)
      expect(failed.underFloor.count).toBe(1)
      expect(failed.underFloor.details[0]).toContain("0 researches completed")
      const done = workloadCheck(w.triggers, ids.map((id) => ({ id, status: "completed", phase: "assessing" })), 3)
      expect(done.underFloor.count + done.refused.count).toBe(0)
      expect(done.completed).toBe(3)
    } finally {
      await close(server)
    }
  })
})

describe("unanswered requests through the proxy", () => {
  let coordinator: { port: number; server: Server }
  beforeAll(async () => {
    coordinator = await fake((req, res) => {
      if (req.url === "/hang") return // never answers
      if (req.url === "/reset") return req.socket.resetAndDestroy()
      res.writeHead(200, { "content-type": "application/json" })
      res.end("{}")
    })
  })
  afterAll(() => close(coordinator.server))

  const through = async (backends: () => ReadonlyArray<number>, paths: ReadonlyArray<string>, recorder: Recorder) => {
    const proxy = new Proxy({ recorder, backends, answerTimeoutMs: 300 })
    await proxy.start()
    try {
      for (const path of paths) {
        await fetch(`${proxy.url}${path}`).then((r) => r.text(), () => undefined)
      }
    } finally {
      await proxy.close()
    }
  }

  it("a coordinator that hangs or resets fails (timeout, reset); one that answers does not", async () => {
    const recorder = new Recorder()
    await through(() => [coordinator.port], ["/ok", "/hang", "/reset", "/ok"], recorder)
    expect(recorder.answers.map((a) => a.status)).toEqual([200, 200])
    const { bad, expected } = recorder.judgeSilences()
    expect(bad.map((s) => s.why).sort()).toEqual(["reset", "timeout"])
    expect(expected).toBe(0)
  })

  it("no coordinator listening fails, unless we killed it", async () => {
    const nobody = await freePort()
    const recorder = new Recorder()
    await through(() => [nobody], ["/api/v1/agent/status"], recorder)
    expect(recorder.judgeSilences().bad.map((s) => s.why)).toEqual(["refused"])

    const killed = new Recorder()
    const up = killed.down("coordinator-1 killed", nobody)
    await through(() => [nobody], ["/api/v1/agent/status"], killed)
    up()
    expect(killed.judgeSilences()).toEqual({ bad: [], expected: 1 })
  })

  it("a window for one coordinator does not excuse another's silence", async () => {
    const recorder = new Recorder()
    const up = recorder.down("the other killed", coordinator.port + 1)
    await through(() => [coordinator.port], ["/reset"], recorder)
    up()
    expect(recorder.judgeSilences().bad).toHaveLength(1)
  })
})

describe("unanswered fuzz requests", () => {
  it("a reset or no answer in time counts; a 400 before closing does not", async () => {
    const { port, server } = await fake((req, res) => {
      if (req.url === "/hang") return
      if (req.url === "/reset") return req.socket.resetAndDestroy()
      res.writeHead(400, { connection: "close" })
      res.end()
    })
    try {
      const send = (target: string) => RawHttp.send(port, { method: "GET", target, headers: [] }, 300)
      const outcomes = [await send("/hang"), await send("/reset"), await send("/bad")]
      // Broken HTTP is answered 400 by Node's parser, then closed: an answer.
      const brokenChunk = await RawHttp.send(port, {
        method: "POST", target: "/x", headers: [],
        raw: Buffer.from("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", "latin1")
      }, 1_000)
      expect(brokenChunk).toMatchObject({ _tag: "Status", status: 400 })
      const recorder = new Recorder()
      for (const outcome of [...outcomes, brokenChunk]) {
        const why = RawHttp.silenceOf(outcome)
        if (why !== undefined) recorder.silence({ at: 0, endAt: 1, source: "fuzz", route: "GET /", why, port })
      }
      expect(recorder.judgeSilences().bad.map((s) => s.why)).toEqual(["timeout", "reset"])
    } finally {
      await close(server)
    }
  })

  it("a body over the limit that the server resets counts as unanswered at once, sent once; one answered 413 does not", async () => {
    let resets = 0
    const { port, server } = await fake((req, res) => {
      if (req.url === "/reset") {
        resets++
        return req.socket.resetAndDestroy()
      }
      // Read to the end, then answer: what a lingering close gives a client still sending.
      req.resume()
      req.once("end", () => {
        res.writeHead(413, { "content-type": "application/json" })
        res.end("{}")
      })
    })
    try {
      const huge = (target: string) => ({ method: "POST", target, headers: [["Content-Type", "application/json"]] as const, body: Buffer.alloc(3_000_000, 120) })
      const silent = await RawHttp.send(port, huge("/reset"), 2_000)
      expect(RawHttp.silenceOf(silent)).toBe("reset")
      expect(resets).toBe(1)
      const recorder = new Recorder()
      recorder.silence({ at: 0, endAt: 1, source: "fuzz", route: "POST /reset", why: "reset", port })
      expect(recorder.judgeSilences().bad).toHaveLength(1)
      expect(await RawHttp.send(port, huge("/big"), 2_000)).toMatchObject({ _tag: "Status", status: 413 })
    } finally {
      await close(server)
    }
  })
})

describe("stale epochs, from the rows", () => {
  const job = (id: string, epoch: number, createdAt: number): JobRow =>
    ({ id, researchId: "op_1", kind: "training", workerId: "training-1", status: "completed", epoch, createdAt })
  const bumps = [{ epoch: 3, at: 1_000 }, { epoch: 4, at: 5_000 }]

  it("a job written by an epoch after a newer one took the lease fails; before it does not", () => {
    expect(staleEpochCheck([job("job_a", 3, 4_999), job("job_b", 4, 9_000)], bumps, []).count).toBe(0)
    const stale = staleEpochCheck([job("job_a", 3, 4_999), job("job_c", 3, 5_200)], bumps, [])
    expect(stale.count).toBe(1)
    expect(stale.details[0]).toContain("job_c")
    expect(stale.details[0]).toContain("200 ms after epoch 3 was superseded")
  })

  it("a job run on a worker with no row (a dispatch the database refused) fails", () => {
    const events = parseEvents("start job_x op_1 training training-1 123 1 6000\ndone job_x op_1 training training-1 123 1 6500\n")
    const check = staleEpochCheck([job("job_a", 3, 2_000)], bumps, events)
    expect(check.count).toBe(1)
    expect(check.details[0]).toContain("job_x")
  })

  it("a job of an epoch the lease never handed out fails", () => {
    expect(staleEpochCheck([job("job_a", 9, 6_000)], bumps, []).count).toBe(1)
  })

  it("on PostgreSQL: the lease's history, and a deposed leader's write that got through", async () => {
    const url = await Postgres.createDatabase(inject("databaseUrl"), `chaos_verdict_${process.pid}`)
    try {
      // The tables as far as the check reads them; the coordinator's own migrations make the real ones.
      await Postgres.withClient(url, async (client) => {
        await client.query(`CREATE TABLE foreman_lease (id integer PRIMARY KEY, epoch bigint NOT NULL)`)
        await client.query(`INSERT INTO foreman_lease VALUES (1, 1)`)
        await client.query(`CREATE TABLE foreman_researches (id text PRIMARY KEY, status text NOT NULL, phase text NOT NULL)`)
        await client.query(`CREATE TABLE foreman_jobs (id text PRIMARY KEY, research_id text NOT NULL, kind text NOT NULL,
          worker_id text, status text NOT NULL, epoch integer NOT NULL, created_at timestamptz NOT NULL)`)
      })
      await installLeaseHistory(url)
      await Postgres.withClient(url, async (client) => {
        await client.query(`INSERT INTO foreman_researches VALUES ('op_1', 'running', 'training')`)
        await client.query(`INSERT INTO foreman_jobs VALUES ('job_ok', 'op_1', 'training', 'training-1', 'running', 1, clock_timestamp())`)
        await new Promise((resolve) => setTimeout(resolve, 20))
        await client.query(`UPDATE foreman_lease SET epoch = epoch + 1 WHERE id = 1`) // a takeover: epoch 2
        await new Promise((resolve) => setTimeout(resolve, 20))
        // The deposed leader (epoch 1) writes after the takeover, and nothing fences it.
        await client.query(`INSERT INTO foreman_jobs VALUES ('job_stale', 'op_1', 'backtest', 'backtest-1', 'pending', 1, clock_timestamp())`)
      })
      const rows = await readRows(url)
      expect(rows.bumps.map((b) => b.epoch)).toEqual([1, 2])
      const check = staleEpochCheck(rows.jobs, rows.bumps, [])
      expect(check.count).toBe(1)
      expect(check.details[0]).toContain("job_stale")
    } finally {
      await Postgres.dropDatabase(inject("databaseUrl"), `chaos_verdict_${process.pid}`)
    }
  })
})

describe("the API against the workers' log and the rows", () => {
  const research = { id: "op_1", status: "completed", phase: "assessing", gates: { training: { passed: false } } }
  const jobs = [
    { id: "job_d", researchId: "op_1", kind: "design", workerId: null, status: "completed" },
    { id: "job_t", researchId: "op_1", kind: "training", workerId: "training-1", status: "completed" }
  ]
  const log = parseEvents("start job_t op_1 training training-1 9 1 100\ndone job_t op_1 training training-1 9 1 900\n")

  it("agrees when the log and the rows say what the API says", () => {
    const check = crossCheck({ researches: [research], jobs }, { researches: [research], jobs }, log)
    expect(check.unconfirmed.count + check.mismatch.count).toBe(0)
  })

  it("a job the API calls completed that no worker finished fails (unconfirmed)", () => {
    const check = crossCheck({ researches: [research], jobs }, { researches: [research], jobs }, log.filter((e) => e.event === "start"))
    // The job, and the training gate of the research, have no "done" behind them.
    expect(check.unconfirmed.count).toBe(2)
    expect(check.unconfirmed.details[0]).toContain("job_t")
  })

  it("a research gated on a phase no worker finished fails (unconfirmed), even with no job to show for it", () => {
    const invented = { ...research, gates: { training: { passed: true }, backtest: { passed: true } } }
    const check = crossCheck({ researches: [invented], jobs }, { researches: [invented], jobs }, log)
    expect(check.unconfirmed.count).toBe(1)
    expect(check.unconfirmed.details[0]).toContain("backtest gate")
  })

  it("rows that disagree with the API fail (db-mismatch): a status, a missing row, an extra row", () => {
    const check = crossCheck(
      { researches: [research], jobs },
      {
        researches: [{ ...research, status: "running" }, { id: "op_2", status: "pending", phase: "designing" }],
        jobs: [jobs[1]!]
      },
      log
    )
    expect(check.mismatch.count).toBe(3)
    expect(check.mismatch.details.join("\n")).toMatch(/op_1: API says completed in assessing, the row running/)
  })
})

describe("jobs started twice on the workers", () => {
  // Process 9 starts job_a; we kill it at 1,000; its restarted process 10 is offered job_a again.
  const log = (done: boolean) =>
    parseEvents(
      "start job_a op_1 training training-1 9 1 100\n" +
        (done ? "done job_a op_1 training training-1 9 1 600\n" : "") +
        "start job_a op_1 training training-1 10 1 1500\ndone job_a op_1 training training-1 10 1 2000\n"
    )
  const killed = new Map([[9, 1_000]])

  it("a retry after a kill is not a duplicate: killed mid-job, or after finishing but before a report was accepted", () => {
    expect(startedMoreThanOnce(log(false), killed, new Map())).toEqual([])
    expect(startedMoreThanOnce(log(true), killed, new Map())).toEqual([])
    // Its report was accepted only from the restarted process.
    expect(startedMoreThanOnce(log(true), killed, new Map([["job_a", 2_000]]))).toEqual([])
  })

  it("a job run again after its result reached the coordinator is a duplicate, killed or not", () => {
    expect(startedMoreThanOnce(log(true), killed, new Map([["job_a", 700]]))).toEqual([["job_a", 2]])
    expect(startedMoreThanOnce(log(true), new Map(), new Map())).toEqual([["job_a", 2]])
  })

  // A progress report is not the job's result: a process killed after a progress report went through
  // and before its final report did is rightly offered the job again (seen in worker-kill, seed 4002).
  it("the proxy notes when a worker's final report of a job was accepted, not a progress report", async () => {
    const coordinator = await fake((req, res) => {
      res.writeHead(req.url?.includes("job_refused") === true ? 409 : 200, { "content-type": "application/json" })
      res.end("{}")
    })
    const recorder = new Recorder()
    const proxy = new Proxy({ recorder, backends: () => [coordinator.port], answerTimeoutMs: 2_000 })
    await proxy.start()
    const reports: ReadonlyArray<readonly [string, unknown]> = [
      ["job_progress", { _tag: "Progress", progress: 0.5 }],
      ["job_ok", { _tag: "Completed", result: {} }],
      ["job_failed", { _tag: "Failed", error: "no data" }],
      ["job_refused", { _tag: "Completed", result: {} }],
      ["job_unreadable", "not json"]
    ]
    try {
      for (const [job, body] of reports) {
        const text = typeof body === "string" ? body : JSON.stringify(body)
        await fetch(`${proxy.url}/api/v1/workers/w-1/jobs/${job}/report`, { method: "POST", body: text }).then((r) => r.text())
      }
      await fetch(`${proxy.url}/api/v1/workers/w-1/jobs/job_get/report`).then((r) => r.text())
    } finally {
      await proxy.close()
      await close(coordinator.server)
    }
    expect(Array.from(recorder.reportsAccepted.keys())).toEqual(["job_ok", "job_failed"])
  })
})

describe("the fuzzer leaves the lab's state alone", () => {
  it("never cancels a real research: no DELETE names one, whatever the mutation", async () => {
    const targets = {
      operatorToken: "op-token",
      workerToken: "worker-token",
      researchIds: ["op_real1", "op_real2"],
      jobIds: ["job_real1"],
      workerIds: ["training-1"],
      running: []
    }
    const rng = new Rng(20261206)
    // 20,000 draws take seconds of CPU (some bodies are megabytes): a pause every 500 keeps this
    // process answering vitest meanwhile.
    const deletes: Array<ReturnType<typeof generate>> = []
    for (let drawn = 0; drawn < 20_000; drawn++) {
      const request = generate(rng, targets)
      if (request.method === "DELETE") deletes.push(request)
      if (drawn % 500 === 499) await new Promise((resolve) => setImmediate(resolve))
    }
    expect(deletes.length).toBeGreaterThan(100)
    expect(deletes.filter((r) => targets.researchIds.some((id) => r.target.includes(id)))).toEqual([])
    // About 18 s of CPU: give a loaded machine room.
  }, 300_000)
})
