/**
 * Embedded PostgreSQL against real servers: start, query, stop, reuse of the
 * cluster, recovery after the process that owned the server was SIGKILLed, stale
 * pid files, and a server that exits before accepting connections.
 * Real time throughout (`it.scopedLive`): the module polls and times out.
 */
import { assert, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { Array as Arr, Effect, Logger, Redacted } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { EmbeddedPostgres } from "../src/index.js"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const isRoot = process.getuid?.() === 0

/** A fresh directory, removed afterwards. Searchable by others: as root, the server runs as `postgres`. */
const tempDir = (mode = 0o755) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "foreman-pg-"))
      await Fs.chmod(dir, mode)
      return dir
    }),
    (dir) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
  )

const withSql = <A, E>(url: string, use: (sql: PgClient.PgClient) => Effect.Effect<A, E>) =>
  Effect.flatMap(PgClient.PgClient, use).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url) })))

const selectOne = (url: string) =>
  withSql(url, (sql) => sql<{ one: number }>`select 1 as one`).pipe(Effect.map((rows) => rows[0]?.one))

/** Whether a process exists and is not a zombie (an orphan's adopter may be slow to reap it). */
const running = (pid: number) =>
  Effect.promise(() =>
    new Promise<boolean>((resolve) =>
      ChildProcess.execFile("ps", ["-o", "stat=", "-p", String(pid)], (error, stdout) =>
        resolve(error === null && !stdout.trim().startsWith("Z")))
    )
  )

/** Runs `effect` and returns what it logged, one string per entry. */
const capturingLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  const lines: Array<string> = []
  const capture = Logger.make(({ message }) => {
    lines.push(Arr.ensure(message).map(String).join(" "))
  })
  return effect.pipe(
    Effect.provide(Logger.add(capture)),
    Effect.map((result) => [result, lines] as const)
  )
}

/**
 * Starts the embedded server from a separate Node process, as Foreman would,
 * and returns that process with the server it reported. Released: the process
 * is killed and, should the test have left it running, so is its server.
 */
const serverInChildProcess = (dataDir: string) =>
  Effect.acquireRelease(
    Effect.async<{ readonly child: ChildProcess.ChildProcess; readonly server: EmbeddedPostgres.Server }, Error>(
      (resume) => {
        const script = `
          import { Effect } from "effect"
          import { EmbeddedPostgres } from ${JSON.stringify(pathToFileURL(Path.join(packageDir, "src/index.ts")).href)}
          Effect.runFork(Effect.scoped(Effect.gen(function*() {
            const server = yield* EmbeddedPostgres.start({ dataDir: ${JSON.stringify(dataDir)} })
            process.stdout.write("READY " + JSON.stringify(server) + "\\n")
            yield* Effect.never
          })))`
        const child = ChildProcess.spawn(
          process.execPath,
          ["--conditions=source", "--import", "tsx", "--input-type=module", "--eval", script],
          { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] }
        )
        let output = ""
        const onExit = (code: number | null) => resume(Effect.fail(new Error(`server process exited (${code}):\n${output}`)))
        const onOutput = (chunk: Buffer) => {
          output += chunk.toString("utf8")
          const ready = /^READY (.*)$/m.exec(output)?.[1]
          if (ready === undefined) return
          child.stdout.off("data", onOutput)
          child.off("exit", onExit)
          resume(Effect.succeed({ child, server: JSON.parse(ready) }))
        }
        child.stdout.on("data", onOutput)
        child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
        child.once("exit", onExit)
      }
    ).pipe(Effect.timeout("60 seconds")),
    ({ child, server }) =>
      Effect.gen(function*() {
        child.kill("SIGKILL")
        if (yield* running(server.pid)) process.kill(server.pid, "SIGINT")
      })
  )

const killAndWait = (child: ChildProcess.ChildProcess) =>
  Effect.async<void>((resume) => {
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGKILL")
  })

describe("EmbeddedPostgres", () => {
  it.scopedLive("starts a cluster that answers queries, stops it, and reuses it on the next start", () =>
    Effect.gen(function*() {
      const dataDir = Path.join(yield* tempDir(), ".foreman", "pg")

      const first = yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* EmbeddedPostgres.start({ dataDir })
        assert.strictEqual(yield* selectOne(server.url), 1)
        yield* withSql(server.url, (sql) =>
          Effect.andThen(sql`create table marks (note text)`, sql`insert into marks values ('kept')`))
        assert.isTrue(yield* running(server.pid))
        return server
      }))
      assert.strictEqual(first.dataDir, dataDir)
      assert.match(first.url, new RegExp(`^postgres://[^@]+@127\\.0\\.0\\.1:${first.port}/foreman$`))
      assert.isFalse(yield* running(first.pid), "stopped when the scope closed")

      const [notes, logs] = yield* capturingLogs(Effect.scoped(Effect.gen(function*() {
        const server = yield* EmbeddedPostgres.start({ dataDir })
        return yield* withSql(server.url, (sql) => sql<{ note: string }>`select note from marks`)
      })))
      assert.deepStrictEqual(notes.map((row) => row.note), ["kept"])
      assert.include(logs, `reusing the PostgreSQL cluster in ${dataDir}`)
      assert.notInclude(logs, `initialising a new PostgreSQL cluster in ${dataDir}`)
    }))

  it.scopedLive("takes over a cluster whose server was orphaned by a SIGKILLed process", () =>
    Effect.gen(function*() {
      const dataDir = Path.join(yield* tempDir(), "pg")
      const { child, server: orphan } = yield* serverInChildProcess(dataDir)
      assert.strictEqual(yield* selectOne(orphan.url), 1)

      const refused = yield* Effect.flip(Effect.scoped(EmbeddedPostgres.start({ dataDir })))
      assert.strictEqual(refused._tag, "EmbeddedPostgresError")
      assert.include(refused.message, `in use by a server (pid ${orphan.pid})`)
      assert.isTrue(yield* running(orphan.pid), "a live owner's server is left alone")

      yield* killAndWait(child)
      assert.isTrue(yield* running(orphan.pid), "the server outlives the killed process")

      const [server, logs] = yield* capturingLogs(Effect.scoped(Effect.gen(function*() {
        const server = yield* EmbeddedPostgres.start({ dataDir })
        assert.strictEqual(yield* selectOne(server.url), 1)
        return server
      })))
      assert.notStrictEqual(server.pid, orphan.pid)
      assert.isFalse(yield* running(orphan.pid))
      assert.isFalse(yield* running(server.pid))
      assert.include(logs, `found a PostgreSQL server left running by a killed process (pid ${orphan.pid}); stopping it`)
      assert.isTrue(
        logs.some((line) => line.startsWith(`stopped the PostgreSQL server left running by a killed process (pid ${orphan.pid})`))
      )
      assert.include(logs, `reusing the PostgreSQL cluster in ${dataDir}`)
    }))

  it.scopedLive("removes a postmaster.pid whose server is gone, or whose pid another program has now", () =>
    Effect.gen(function*() {
      const dataDir = Path.join(yield* tempDir(), "pg")
      const writePidFile = (pid: number) =>
        Effect.promise(() => Fs.writeFile(Path.join(dataDir, "postmaster.pid"), `${pid}\n${dataDir}\n`))
      const startAndQuery = capturingLogs(Effect.scoped(
        Effect.flatMap(EmbeddedPostgres.start({ dataDir }), (server) => selectOne(server.url))
      ))
      yield* Effect.scoped(EmbeddedPostgres.start({ dataDir }))

      const dead = ChildProcess.spawnSync(process.execPath, ["-e", ""]).pid
      yield* writePidFile(dead)
      const [answer, logs] = yield* startAndQuery
      assert.strictEqual(answer, 1)
      assert.include(logs, `removing a stale postmaster.pid left by a PostgreSQL server that is gone (pid ${dead})`)

      const other = yield* Effect.acquireRelease(
        Effect.sync(() => ChildProcess.spawn("sleep", ["60"], { stdio: "ignore" })),
        (child) => Effect.sync(() => child.kill("SIGKILL"))
      )
      const otherPid = other.pid!
      yield* writePidFile(otherPid)
      const [again, moreLogs] = yield* startAndQuery
      assert.strictEqual(again, 1)
      assert.include(
        moreLogs,
        `removing a stale postmaster.pid: its pid ${otherPid} now belongs to "sleep", not PostgreSQL`
      )
      assert.isTrue(yield* running(otherPid), "the other program is left alone")
    }))

  it.scopedLive("says why PostgreSQL exited before accepting connections", () =>
    Effect.gen(function*() {
      const dataDir = Path.join(yield* tempDir(), "pg")
      const taken = yield* Effect.acquireRelease(
        Effect.async<Net.Server>((resume) => {
          const server = Net.createServer()
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) =>
          Effect.async<void>((resume) => {
            server.close(() => resume(Effect.void))
          })
      )
      const port = (taken.address() as Net.AddressInfo).port

      const error = yield* Effect.flip(Effect.scoped(EmbeddedPostgres.start({ dataDir, port })))
      assert.strictEqual(error._tag, "EmbeddedPostgresError")
      assert.include(error.message, `PostgreSQL exited before accepting connections (exit code 1; port ${port}`)
      assert.include(error.message, "could not create any TCP/IP sockets")
    }))

  it.scopedLive.skipIf(!isRoot)("as root, says so when the postgres user cannot reach the data directory", () =>
    Effect.gen(function*() {
      const dataDir = Path.join(yield* tempDir(0o700), "pg")
      const error = yield* Effect.flip(Effect.scoped(EmbeddedPostgres.start({ dataDir })))
      assert.strictEqual(error._tag, "EmbeddedPostgresError")
      assert.include(error.message, `cannot enter ${Path.dirname(dataDir)} (mode 700`)
    }))
})
