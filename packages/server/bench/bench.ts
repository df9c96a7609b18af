/**
 * Benchmarks of the coordinator over HTTP on loopback: the API server and the
 * loop on PostgreSQL (DATABASE_URL, or an embedded server in a temporary
 * directory), workers as real `WorkerHost`s reached over HTTP. Each figure is
 * beside the same measure with the in-memory storage as a baseline.
 * - triggers accepted per second (`POST /api/v1/agent/trigger`, 8 in flight);
 * - latency from a job's completion (the worker function returning, in a
 *   worker process of its own, so the worker's report over HTTP is included)
 *   to the next waiting research's job starting on that worker, in a running
 *   lab: researches keep arriving, backtests and assessments go on meanwhile;
 *   for push workers (the coordinator posts each job; target p50 <= 10 ms,
 *   p99 <= 50 ms), pull workers (the final report's answer carries the next
 *   job; target p50 <= 5 ms, p99 <= 25 ms; in memory p50 <= 2 ms), and a
 *   Python pull worker (the SDK) beside the TypeScript one;
 * - the floors under that latency on this machine: one HTTP round trip to the
 *   API (`GET /health`) and one SQL round trip (`SELECT 1`). A handover is two
 *   HTTP hops (the report, the dispatch) and a few SQL round trips on Postgres;
 * - the resident memory of a real `foreman server` process on PostgreSQL once
 *   1,000 researches completed (target <= 200 MiB) and once 10,000 did, against
 *   the 1,000 (target <= 1.5×: it must not grow with the history); met only if
 *   every research completed, none failed;
 * - `GET /api/v1/agent/status` on a real `foreman server` on PostgreSQL with
 *   1,000 active researches (waiting for a worker), under the benchmark's own
 *   load (8 requests in flight for 10 s): p50 latency (target <= 10 ms) and
 *   requests per second (target >= 500), against the same server with none active.
 * `node dist/bench/bench.mjs triggers|handover|memory|status` runs only the floors and
 * that group of rows (`memory 200 2000` with other sizes while developing).
 */
import { HttpClient, HttpClientRequest, HttpServer } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Memory } from "@foreman/adapter-memory"
import { SqlClient } from "@effect/sql"
import { EmbeddedPostgres, Postgres } from "@foreman/adapter-postgres"
import { OfflineAgents } from "@foreman/agents"
import { Coordinator, Engine, ForemanConfig } from "@foreman/core"
import { Context, Effect, Exit, Layer, Logger, LogLevel, Queue, Scope } from "effect"
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import * as Table from "../../../bench/table.js"
import * as ApiServer from "../src/ApiServer.js"
import * as Server from "../src/Server.js"

type StorageLayer = Layer.Layer<Engine.Storage, unknown>

/** The API on 127.0.0.1 (system-chosen port) with the loop running; returns its base URL. */
const startServer = (storage: StorageLayer) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      ApiServer.serve({ host: "127.0.0.1", port: 0 }).pipe(
        Layer.provideMerge(Server.engine({
          storage,
          agents: OfflineAgents.layer(),
          config: ForemanConfig.layerWith({ dailyBudgetUsd: 0, maxConcurrentResearches: 100_000 })
        }))
      )
    )
    yield* Effect.forkScoped(Context.get(context, Coordinator.Coordinator).run)
    const address = Context.get(context, HttpServer.HttpServer).address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
    return `http://127.0.0.1:${address.port}`
  })

/** `POST /agent/trigger` (forced) through Node's undici client, as the CLI and other callers send it. */
const trigger = (baseUrl: string, i: number) =>
  HttpClientRequest.post(`${baseUrl}/api/v1/agent/trigger`).pipe(
    HttpClientRequest.bodyUnsafeJson({ brief: `bench ${i}`, force: true }),
    HttpClient.execute,
    Effect.flatMap((response) =>
      response.status === 202 ? response.text : Effect.dieMessage(`trigger answered ${response.status}`)
    ),
    Effect.scoped,
    Effect.orDie
  )

/** Triggers accepted per second, `inFlight` requests at a time (the loop designs them meanwhile). */
const triggersPerSecond = (storage: StorageLayer, count: number, inFlight: number) =>
  Effect.gen(function*() {
    const baseUrl = yield* startServer(storage)
    yield* Effect.forEach(Array.from({ length: 50 }, (_, i) => i), (i) => trigger(baseUrl, i), { concurrency: inFlight })
    const t0 = performance.now()
    yield* Effect.forEach(Array.from({ length: count }, (_, i) => i), (i) => trigger(baseUrl, i), {
      concurrency: inFlight,
      discard: true
    })
    return count / ((performance.now() - t0) / 1000)
  }).pipe(Effect.scoped)

/** p50 and p99 in milliseconds of `rounds` sequential runs of `effect`, after 50 to warm up. */
const roundTrip = <E, R>(effect: Effect.Effect<unknown, E, R>, rounds: number) =>
  Effect.gen(function*() {
    yield* Effect.repeatN(effect, 49)
    const times: Array<number> = []
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now()
      yield* effect
      times.push(performance.now() - t0)
    }
    return { p50: Table.percentile(times, 50), p99: Table.percentile(times, 99) }
  })

/** One `GET /api/v1/health` round trip to an idle server with the loop running. */
const httpRoundTrip = (rounds: number) =>
  Effect.gen(function*() {
    const baseUrl = yield* startServer(Layer.fresh(Memory.storage))
    const health = HttpClient.get(`${baseUrl}/api/v1/health`).pipe(Effect.flatMap((r) => r.text), Effect.scoped, Effect.orDie)
    return yield* roundTrip(health, rounds)
  }).pipe(Effect.scoped)

/** One `SELECT 1` round trip through a connection pool like the storage's (`Postgres.client`). */
const sqlRoundTrip = (url: string, rounds: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* roundTrip(Effect.orDie(sql`SELECT 1`), rounds)
  }).pipe(Effect.provide(Postgres.client({ url })), Effect.orDie)

/** How a benchmark worker gets its jobs, and in which language it is written. */
export type WorkerKind = "push" | "pull" | "python"

/** Starts the benchmark's worker process of `type`; its `start`/`end` lines go to `onLine`. */
const startWorker = (baseUrl: string, type: string, onLine: (line: string) => void, capacity = 1, kind: WorkerKind = "push") =>
  Effect.gen(function*() {
    const [command, args] = kind === "python"
      ? [process.env["FOREMAN_PYTHON"] ?? "python3", [fileURLToPath(new URL("../../bench/worker.py", import.meta.url)), type]]
      : [process.execPath, [fileURLToPath(new URL("./worker.mjs", import.meta.url))]]
    const worker = spawn(command, args, {
      env: {
        ...process.env,
        FOREMAN_API_URL: baseUrl,
        FOREMAN_WORKER_TYPE: type,
        FOREMAN_WORKER_PROTOCOL: kind === "push" ? "push" : "pull",
        FOREMAN_WORKER_HOST: "127.0.0.1",
        FOREMAN_WORKER_PORT: "0",
        FOREMAN_WORKER_ID: `bench-${type}-1`,
        FOREMAN_WORKER_CAPACITY: String(capacity)
      },
      stdio: ["ignore", "pipe", "inherit"]
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => worker.kill("SIGKILL")))
    createInterface({ input: worker.stdout }).on("line", onLine)
  })

/**
 * One training worker (capacity 1) and a backtest worker, processes of their
 * own; every job finishes at once, so researches complete and leave. `waiting`
 * researches queue for the training worker throughout (one is triggered for
 * each training start). The gap between one training job's end and the next
 * one's start is the handover: the worker's report → tick → claim → commit →
 * dispatch → the worker starts it.
 */
const handover = (storage: StorageLayer, rounds: number, waiting: number, kind: WorkerKind = "push") =>
  Effect.gen(function*() {
    const baseUrl = yield* startServer(storage)
    for (let i = 0; i <= waiting; i++) yield* trigger(baseUrl, i)
    const starts: Array<number> = []
    const ends: Array<number> = []
    const started = yield* Queue.unbounded<void>()
    const onLine = (line: string) => {
      const [what, at] = line.split(" ")
      if (what === "start") {
        starts.push(Number(at))
        Queue.unsafeOffer(started, undefined)
      }
      if (what === "end") ends.push(Number(at))
    }
    yield* startWorker(baseUrl, "backtest", () => {}, 1, kind)
    yield* startWorker(baseUrl, "training", onLine, 1, kind)
    // Keeps the queue at `waiting`: a new research for every one that starts training.
    for (let i = 0; i <= rounds; i++) {
      yield* Queue.take(started)
      if (i < rounds) yield* trigger(baseUrl, waiting + 1 + i)
    }
    while (ends.length < starts.length) yield* Effect.sleep("1 millis")
    // The first start waits for the worker to come up; handovers are the gaps after it.
    const gaps = starts.slice(1).map((start, i) => start - ends[i]!)
    return { p50: Table.percentile(gaps, 50), p99: Table.percentile(gaps, 99), rounds: gaps.length }
  }).pipe(Effect.scoped)

/** The CLI's bundle, as `npm run build` leaves it. */
const foremanBin = fileURLToPath(new URL("../../../cli/dist/foreman.mjs", import.meta.url))

/** A process's resident memory in MiB, from /proc (Linux). */
const residentMiB = (pid: number) => {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
  return Number(kib) / 1024
}

/** How many researches have `status`, from the list's total. */
const total = (baseUrl: string, status: string) =>
  HttpClient.get(`${baseUrl}/api/v1/agent/researches?status=${status}&limit=1`).pipe(
    Effect.flatMap((response) => response.json),
    Effect.map((page) => (page as { total: number }).total),
    Effect.scoped,
    Effect.orDie
  )

/** A real `foreman server` process on the database at `url`: its API's base URL and its pid. */
const foremanServer = (url: string) =>
  Effect.gen(function*() {
    const server = spawn(process.execPath, [foremanBin, "server", "--port", "0", "--json"], {
      env: { ...process.env, FOREMAN_DATABASE_URL: url, FOREMAN_LLM_PROVIDER: "offline", FOREMAN_DAILY_BUDGET_USD: "0" },
      stdio: ["ignore", "pipe", "inherit"]
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => server.kill("SIGKILL")))
    const lines = createInterface({ input: server.stdout })
    // Its log lines come first; then the JSON line with its address.
    const baseUrl = yield* Effect.async<string>((resume) => {
      const onLine = (line: string) => {
        if (!line.startsWith("{")) return
        lines.off("line", onLine)
        resume(Effect.succeed((JSON.parse(line) as { apiUrl: string }).apiUrl))
      }
      lines.on("line", onLine)
    })
    return { baseUrl, pid: server.pid! }
  })

/**
 * A real `foreman server` on the database at `url`, with instant workers of
 * capacity 8: its resident memory once `first` researches completed, and once
 * `second` did (triggered 8 at a time, forced), and how many failed by then.
 * It dies if a minute passes with no research finishing.
 */
const serverMemory = (url: string, first: number, second: number) =>
  Effect.gen(function*() {
    const { baseUrl, pid } = yield* foremanServer(url)
    yield* startWorker(baseUrl, "training", () => {}, 8)
    yield* startWorker(baseUrl, "backtest", () => {}, 8)
    const complete = (from: number, to: number) =>
      Effect.gen(function*() {
        yield* Effect.forEach(Array.from({ length: to - from }, (_, i) => from + i), (i) => trigger(baseUrl, i), {
          concurrency: 8,
          discard: true
        })
        let ended = 0
        let lastChange = performance.now()
        for (;;) {
          const now = (yield* total(baseUrl, "completed")) + (yield* total(baseUrl, "failed")) +
            (yield* total(baseUrl, "cancelled"))
          if (now >= to) break
          if (now > ended) {
            ended = now
            lastChange = performance.now()
          } else if (performance.now() - lastChange > 60_000) {
            return yield* Effect.dieMessage(`stuck at ${now} of ${to} researches ended`)
          }
          yield* Effect.sleep("200 millis")
        }
        return { mib: residentMiB(pid), failed: (yield* total(baseUrl, "failed")) + (yield* total(baseUrl, "cancelled")) }
      })
    const t0 = performance.now()
    const atFirst = yield* complete(0, first)
    const t1 = performance.now()
    const atSecond = yield* complete(first, second)
    return { atFirst, atSecond, firstSeconds: (t1 - t0) / 1000, secondSeconds: (performance.now() - t1) / 1000 }
  }).pipe(Effect.scoped)

/** One `GET /api/v1/agent/status`, answered 200 with its body read. */
const status = (baseUrl: string) =>
  HttpClient.get(`${baseUrl}/api/v1/agent/status`).pipe(
    Effect.flatMap((response) =>
      response.status === 200 ? response.text : Effect.dieMessage(`status answered ${response.status}`)
    ),
    Effect.scoped,
    Effect.orDie
  )

/**
 * The load generator: `inFlight` clients each sending `GET /agent/status` again as
 * soon as the last one is answered, for `seconds` after a second to warm up:
 * latency percentiles and requests answered per second.
 */
const statusLoad = (baseUrl: string, inFlight: number, seconds: number) =>
  Effect.gen(function*() {
    const warmUntil = performance.now() + 1000
    const client = (times: Array<number> | undefined, until: number) =>
      Effect.gen(function*() {
        while (performance.now() < until) {
          const t0 = performance.now()
          yield* status(baseUrl)
          times?.push(performance.now() - t0)
        }
      })
    yield* Effect.all(Array.from({ length: inFlight }, () => client(undefined, warmUntil)), { concurrency: "unbounded" })
    const times: Array<number> = []
    const t0 = performance.now()
    yield* Effect.all(Array.from({ length: inFlight }, () => client(times, t0 + seconds * 1000)), { concurrency: "unbounded" })
    const elapsed = (performance.now() - t0) / 1000
    return { p50: Table.percentile(times, 50), p99: Table.percentile(times, 99), perSecond: times.length / elapsed }
  })

/**
 * A real `foreman server` on the database at `url` with no worker: the status
 * endpoint under load with none active, then with `active` researches
 * triggered (forced), designed and waiting for a training worker.
 */
const statusUnderLoad = (url: string, active: number, inFlight: number, seconds: number) =>
  Effect.gen(function*() {
    const { baseUrl } = yield* foremanServer(url)
    const idle = yield* statusLoad(baseUrl, inFlight, seconds)
    yield* Effect.forEach(Array.from({ length: active }, (_, i) => i), (i) => trigger(baseUrl, i), {
      concurrency: 8,
      discard: true
    })
    // Every one designed and waiting: the loop has nothing left to do meanwhile.
    const deadline = performance.now() + 300_000
    let waiting = 0
    while (performance.now() < deadline) {
      const body = JSON.parse(yield* status(baseUrl)) as { active: ReadonlyArray<{ waitingFor: unknown }> }
      waiting = body.active.filter((r) => r.waitingFor !== null).length
      if (waiting >= active) break
      yield* Effect.sleep("500 millis")
    }
    const loaded = yield* statusLoad(baseUrl, inFlight, seconds)
    return { idle, loaded, waiting }
  }).pipe(Effect.scoped)

const latency = (x: { p50: number; p99: number }) => `p50 ${Table.ms(x.p50)}, p99 ${Table.ms(x.p99)}`

/** `bench.mjs triggers|handover|memory|status`: only the floors and that group of rows. */
const only = process.argv[2]

/** The handover rows: push and pull workers on memory and PostgreSQL, and a Python pull worker. */
const handovers = (
  http: { readonly p50: number },
  postgres: (name: string) => Effect.Effect<StorageLayer, unknown>,
  memory: () => StorageLayer
) =>
  Effect.gen(function*() {
    const waiting = 10
    const rounds = 200
    const measure = (kind: WorkerKind) =>
      Effect.gen(function*() {
        const mem = yield* handover(memory(), rounds, waiting, kind)
        const pg = yield* handover(yield* postgres(`foreman_bench_handover_${kind}`), rounds, waiting, kind)
        return { mem, pg }
      })
    const push = yield* measure("push")
    const pull = yield* measure("pull")
    const python = yield* measure("python")
    const row = (what: string, x: { p50: number; p99: number }, target: string, met: boolean | undefined, baseline: string) =>
      Table.row({
        measure: `job done → next job started on the worker, over HTTP, ${what}`,
        value: latency(x),
        target,
        baseline,
        ...(met === undefined ? {} : { met })
      })
    row("push worker, memory", push.mem, "p50 ≤ 3 ms", push.mem.p50 <= 3, `p50 ${Table.ratio(push.mem.p50, http.p50)} one HTTP round trip`)
    row("push worker, postgres", push.pg, "p50 ≤ 10 ms, p99 ≤ 50 ms", push.pg.p50 <= 10 && push.pg.p99 <= 50, `p50 ${Table.ratio(push.pg.p50, push.mem.p50)} memory's`)
    row("pull worker, memory", pull.mem, "p50 ≤ 2 ms", pull.mem.p50 <= 2, `p50 ${Table.ratio(pull.mem.p50, push.mem.p50)} push's`)
    row("pull worker, postgres", pull.pg, "p50 ≤ 5 ms, p99 ≤ 25 ms", pull.pg.p50 <= 5 && pull.pg.p99 <= 25, `p50 ${Table.ratio(pull.pg.p50, push.pg.p50)} push's`)
    row("Python pull worker, memory", python.mem, "", undefined, `p50 ${Table.ratio(python.mem.p50, pull.mem.p50)} the TypeScript pull worker's`)
    row("Python pull worker, postgres", python.pg, "", undefined, `p50 ${Table.ratio(python.pg.p50, pull.pg.p50)} the TypeScript pull worker's`)
  })

/** The trigger rows: 2,000 forced triggers over HTTP, 8 in flight, in memory and on PostgreSQL. */
const triggerRows = (
  postgres: (name: string) => Effect.Effect<StorageLayer, unknown>,
  memory: () => StorageLayer
) =>
  Effect.gen(function*() {
    const triggers = 2000
    const memRate = yield* triggersPerSecond(memory(), triggers, 8)
    const pgRate = yield* triggersPerSecond(yield* postgres("foreman_bench_triggers"), triggers, 8)
    Table.row({
      measure: "triggers accepted/s over HTTP, 8 in flight, memory",
      value: Table.count(memRate),
      target: "≥ 5,000",
      met: memRate >= 5000
    })
    Table.row({
      measure: "triggers accepted/s over HTTP, 8 in flight, postgres",
      value: Table.count(pgRate),
      target: "≥ 1,000",
      baseline: `${Table.ratio(pgRate, memRate)} memory's`,
      met: pgRate >= 1000
    })
  })

const program = Effect.gen(function*() {
  const scope = yield* Scope.make()
  const configured = process.env["DATABASE_URL"] ?? process.env["FOREMAN_DATABASE_URL"] ?? ""
  const url = configured !== "" ? configured : (yield* Scope.extend(EmbeddedPostgres.startTemporary, scope)).url
  // Each measure gets a database of its own.
  const postgres = (name: string) =>
    Effect.map(Postgres.recreateDatabase(url, name), (db) => Layer.fresh(Postgres.layer({ url: db, maxConnections: 20 })))
  const memory = () => Layer.fresh(Memory.storage)
  Table.begin("The coordinator over HTTP, workers in processes of their own (packages/server)")

  const http = yield* httpRoundTrip(500)
  const select = yield* sqlRoundTrip(url, 500)
  Table.row({ measure: "floor: one HTTP round trip, GET /health (baseline)", value: latency(http) })
  Table.row({ measure: "floor: one SQL round trip, SELECT 1 (baseline)", value: latency(select) })
  if (only === "handover") {
    yield* handovers(http, postgres, memory)
    return yield* Scope.close(scope, Exit.void)
  }

  if (only === undefined || only === "triggers") yield* triggerRows(postgres, memory)
  if (only === undefined) yield* handovers(http, postgres, memory)

  if (only === undefined || only === "status") {
    const active = 1_000
    const { idle, loaded, waiting } = yield* statusUnderLoad(
      yield* Postgres.recreateDatabase(url, "foreman_bench_status"),
      active,
      8,
      10
    )
    const load = (x: { p50: number; p99: number; perSecond: number }) =>
      `${latency(x)}, ${Table.count(x.perSecond)}/s`
    Table.row({
      measure: "GET /agent/status, 8 in flight, none active, postgres (baseline)",
      value: load(idle)
    })
    Table.row({
      measure: "GET /agent/status, 8 in flight, 1,000 active, postgres",
      value: load(loaded),
      target: "p50 ≤ 10 ms, ≥ 500/s, all 1,000 waiting",
      baseline: `p50 ${Table.ratio(loaded.p50, idle.p50)}, ${Table.ratio(loaded.perSecond, idle.perSecond)} the requests/s with none active; ${Table.count(waiting)} waiting`,
      met: loaded.p50 <= 10 && loaded.perSecond >= 500 && waiting >= active
    })
  }

  if (only === undefined || only === "memory") {
    const first = Number(process.argv[3] ?? 1_000)
    const second = Number(process.argv[4] ?? 10_000)
    const { atFirst, atSecond, firstSeconds, secondSeconds } = yield* serverMemory(
      yield* Postgres.recreateDatabase(url, "foreman_bench_memory"),
      first,
      second
    )
    const n = (x: number) => x.toLocaleString("en-US")
    const failed = (x: { failed: number }) => x.failed === 0 ? "none failed" : `${n(x.failed)} failed or cancelled`
    Table.row({
      measure: `foreman server resident memory, ${n(first)} completed`,
      value: `${atFirst.mib.toFixed(0)} MiB`,
      target: "≤ 200 MiB, none failed",
      baseline: `${failed(atFirst)}; ${firstSeconds.toFixed(0)} s`,
      met: atFirst.mib <= 200 && atFirst.failed === 0
    })
    Table.row({
      measure: `foreman server resident memory, ${n(second)} completed`,
      value: `${atSecond.mib.toFixed(0)} MiB`,
      target: `≤ 1.5× with ${n(first)} completed, none failed`,
      baseline: `${Table.ratio(atSecond.mib, atFirst.mib)} with ${n(first)}; ${failed(atSecond)}; ${secondSeconds.toFixed(0)} s more`,
      met: atSecond.mib <= 1.5 * atFirst.mib && atSecond.failed === 0
    })
  }
  yield* Scope.close(scope, Exit.void)
})

Effect.runPromise(
  program.pipe(Effect.provide(NodeHttpClient.layerUndici), Logger.withMinimumLogLevel(LogLevel.Error))
).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
