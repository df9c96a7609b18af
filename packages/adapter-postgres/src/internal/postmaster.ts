/**
 * Supervision of a PostgreSQL server process on one cluster directory, on
 * `@effect/platform`'s `Command` and `FileSystem`: initialising the cluster,
 * dealing with a server left behind by a killed process (found through its
 * `postmaster.pid`), starting `postgres`, waiting until it accepts connections,
 * and shutting it down, gentlest first, when the scope closes.
 *
 * Nothing here knows Foreman's databases or storage; `EmbeddedPostgres` chooses
 * the binaries, settings and credentials.
 */
import { Command, type CommandExecutor, FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Chunk, Data, Effect, Fiber, Option, Ref, Schedule, Stream } from "effect"

/** Initialising, recovering, starting or stopping a server failed; `message` says why. */
export class PostmasterError extends Data.TaggedError("PostmasterError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/** A system account to run PostgreSQL as (it refuses to run as root). */
export interface Account {
  readonly name: string
  readonly uid: number
  readonly gid: number
}

/**
 * `program` as this process's user, or as `account` through `setpriv`, which execs
 * the program (`runuser` would stay as its parent): the postmaster's pid and parent
 * are then the ones that {@link recoverStale} checks.
 */
export const command = (account: Option.Option<Account>, program: string, args: ReadonlyArray<string>) =>
  Option.match(account, {
    onNone: () => Command.make(program, ...args),
    onSome: ({ gid, uid }) =>
      Command.make("setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--", program, ...args)
  })

/** Runs a command to its end: its exit code and its output (stdout, then stderr). */
export const run = (cmd: Command.Command) =>
  Effect.scoped(Effect.gen(function*() {
    const child = yield* Command.start(cmd)
    const text = (bytes: Stream.Stream<Uint8Array, PlatformError>) => Stream.mkString(Stream.decodeText(bytes))
    const [stdout, stderr, exitCode] = yield* Effect.all(
      [text(child.stdout), text(child.stderr), child.exitCode],
      { concurrency: "unbounded" }
    )
    return { exitCode, output: stdout + stderr }
  })).pipe(
    Effect.mapError((cause) =>
      new PostmasterError({ message: `could not run ${Command.flatten(cmd)[0].command}`, cause })
    )
  )

const lastLines = (text: string, count: number) =>
  text.split(/\r?\n/).filter((line) => line.trim() !== "").slice(-count).join("\n")

// ---------------------------------------------------------------------------
// initdb

/** Options of {@link initialise}. */
export interface InitialiseOptions {
  readonly initdb: string
  readonly dataDir: string
  readonly account: Option.Option<Account>
  readonly superuser: string
  readonly password: string
  /** Further initdb arguments (authentication, encoding, locale). */
  readonly args: ReadonlyArray<string>
}

/**
 * Runs `initdb` on an empty `dataDir`; the superuser's password goes through a
 * file that only the server's account reads.
 */
export const initialise = (options: InitialiseOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const failure = (cause: unknown) =>
      new PostmasterError({ message: `could not initialise a PostgreSQL cluster in ${options.dataDir}`, cause })
    const directory = yield* Effect.mapError(fs.makeTempDirectoryScoped({ prefix: "foreman-initdb-" }), failure)
    const pwfile = path.join(directory, "pwfile")
    yield* fs.writeFileString(pwfile, `${options.password}\n`, { mode: 0o600 }).pipe(
      Effect.zipRight(Option.match(options.account, {
        onNone: () => Effect.void,
        onSome: ({ gid, uid }) => Effect.zipRight(fs.chown(directory, uid, gid), fs.chown(pwfile, uid, gid))
      })),
      Effect.mapError(failure)
    )
    const { exitCode, output } = yield* run(command(options.account, options.initdb, [
      `--pgdata=${options.dataDir}`,
      `--username=${options.superuser}`,
      `--pwfile=${pwfile}`,
      ...options.args
    ]))
    if (exitCode !== 0) {
      return yield* new PostmasterError({
        message: `initdb failed in ${options.dataDir} (exit code ${exitCode}):\n${lastLines(output, 8)}`
      })
    }
  })).pipe(
    Effect.timeoutFail({
      duration: "2 minutes",
      onTimeout: () => new PostmasterError({ message: `initdb did not finish within 2 minutes in ${options.dataDir}` })
    })
  )

// ---------------------------------------------------------------------------
// A running server

/** Options of {@link start}. */
export interface StartOptions {
  readonly postgres: string
  readonly dataDir: string
  readonly port: number
  /** Server settings, passed as `-c name=value`. */
  readonly settings: Readonly<Record<string, string>>
  readonly account: Option.Option<Account>
}

/**
 * Starts `postgres` on the cluster in `dataDir`, waits until it accepts
 * connections, and shuts it down when the scope closes; returns the
 * postmaster's pid. The server's output goes to the Effect logger.
 */
export const start = (options: StartOptions) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const settings = Object.entries({ ...options.settings, [ownerSetting]: String(process.pid) })
    const args = ["-D", options.dataDir, "-p", String(options.port)].concat(
      settings.flatMap(([name, value]) => ["-c", `${name}=${value}`])
    )
    const server = yield* Command.start(command(options.account, options.postgres, args)).pipe(
      Effect.mapError((cause) => new PostmasterError({ message: `could not run ${options.postgres}`, cause }))
    )
    const output = yield* serverOutput(server)
    const ready = yield* Ref.make(false)
    yield* Effect.addFinalizer(() => stop(server, ready))

    const pidFile = path.join(options.dataDir, "postmaster.pid")
    const accepting = readPidFile(fs, pidFile).pipe(
      Effect.repeat({
        schedule: Schedule.spaced("100 millis"),
        until: Option.exists((recorded) => recorded.pid === server.pid && recorded.ready)
      })
    )
    const where = `port ${options.port}, data in ${options.dataDir}`
    const notReady = (message: string) =>
      Effect.flatMap(output.tail, (tail) => new PostmasterError({ message: message + tail }))
    const exited = Effect.flatMap(Effect.either(server.exitCode), (exit) =>
      notReady(`PostgreSQL exited before accepting connections (${
        exit._tag === "Right" ? `exit code ${exit.right}` : "killed by a signal"
      }; ${where})`))
    yield* Effect.raceFirst(accepting, exited).pipe(
      Effect.timeout("1 minute"),
      Effect.catchTag("TimeoutException", () =>
        notReady(`PostgreSQL did not accept connections within a minute (${where})`))
    )
    yield* Ref.set(ready, true)
    return server.pid
  })

/**
 * Routes the server's output into the Effect logger (FATAL and PANIC lines as
 * warnings, the rest at debug level) for as long as the scope lasts, and keeps
 * the last lines to explain a failed start.
 */
const serverOutput = (server: CommandExecutor.Process) =>
  Effect.gen(function*() {
    const recent = yield* Ref.make(Chunk.empty<string>())
    const lines = (bytes: Stream.Stream<Uint8Array, unknown>) => Stream.splitLines(Stream.decodeText(bytes))
    const drain = yield* Stream.merge(lines(server.stdout), lines(server.stderr)).pipe(
      Stream.filter((line) => line.trim() !== ""),
      Stream.runForEach((line) =>
        Ref.update(recent, (kept) => Chunk.takeRight(Chunk.append(kept, line), 8)).pipe(
          Effect.zipRight(/\b(FATAL|PANIC):/.test(line) ? Effect.logWarning(line) : Effect.logDebug(line))
        )
      ),
      Effect.ignore,
      Effect.annotateLogs("source", "postgres"),
      Effect.forkScoped
    )
    return {
      /** The last lines, once the output has ended (or after a second), for an error message. */
      tail: Fiber.await(drain).pipe(
        Effect.timeoutOption("1 second"),
        Effect.zipRight(Ref.get(recent)),
        Effect.map((kept) => Chunk.isEmpty(kept) ? "" : `; PostgreSQL said:\n${Chunk.join(kept, "\n")}`)
      )
    }
  })

/** The scope's finalizer: shuts down the server this process started, unless it has exited already. */
const stop = (server: CommandExecutor.Process, ready: Ref.Ref<boolean>) =>
  Effect.gen(function*() {
    const label = `embedded PostgreSQL (pid ${server.pid})`
    if (!(yield* Effect.orElseSucceed(server.isRunning, () => false))) {
      if (yield* Ref.get(ready)) yield* Effect.logWarning(`${label} had already exited`)
      return
    }
    // the platform signals the process group the server leads; its backends lead groups of their own
    const how = yield* shutdown(server.pid, (signal) =>
      server.kill(signal).pipe(Effect.catchAll(() => Effect.ignore(server.exitCode))))
    yield* Effect.logInfo(`stopped ${label} with a ${how}`)
  }).pipe(Effect.catchAll((error) => Effect.logError(error.message)))

/**
 * How a postmaster is shut down, gentlest first, with the time each step gets.
 *
 * A smart shutdown (SIGTERM) comes first, for a short while: it waits for the
 * clients to disconnect, and the clients of a stopping program are
 * disconnecting. A connection pool's `end()` resolves once it has asked its
 * idle connections to close, not once they are closed, so a fast shutdown
 * right after it races their goodbyes, and each backend it wins against logs
 * `FATAL: terminating connection due to administrator command` (a warning
 * here) for a connection that was closing anyway. A client still connected
 * when the grace runs out is cut by the fast shutdown that follows, and that
 * is told.
 */
const shutdownSteps = [
  { signal: "SIGTERM", mode: "smart shutdown", grace: "2 seconds", quiet: true },
  { signal: "SIGINT", mode: "fast shutdown", grace: "15 seconds", quiet: false },
  { signal: "SIGQUIT", mode: "immediate shutdown", grace: "5 seconds", quiet: false },
  { signal: "SIGKILL", mode: "SIGKILL", grace: "5 seconds", quiet: false }
] as const

/** Signals a postmaster until it exits (`signalAndAwaitExit` returns once it has); returns how it was stopped. */
const shutdown = <R>(
  pid: number,
  signalAndAwaitExit: (signal: (typeof shutdownSteps)[number]["signal"]) => Effect.Effect<void, PostmasterError, R>
) =>
  Effect.gen(function*() {
    for (const { grace, mode, quiet, signal } of shutdownSteps) {
      if (Option.isSome(yield* Effect.timeoutOption(signalAndAwaitExit(signal), grace))) return `${mode} (${signal})`
      const late = `PostgreSQL (pid ${pid}) did not exit within ${grace} of ${signal}`
      yield* quiet ? Effect.logDebug(`${late}: clients are still connected`) : Effect.logWarning(late)
    }
    return yield* new PostmasterError({ message: `PostgreSQL (pid ${pid}) survived SIGKILL` })
  })

// ---------------------------------------------------------------------------
// Recovery from a killed process

/**
 * A custom setting on the postmaster's command line that names the process that
 * started it. PostgreSQL accepts any dotted name; the value only serves {@link recoverStale}.
 */
const ownerSetting = "foreman.owner_pid"
const ownerPattern = /\bforeman\.owner_pid=(\d+)/

/**
 * Deals with a `postmaster.pid` left in the cluster: a server still running for
 * a process that was killed is shut down; a pid file naming a dead or unrelated
 * process is removed. A server still parented by the live process that started
 * it is in use: that fails.
 */
export const recoverStale = (dataDir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const pidFile = path.join(dataDir, "postmaster.pid")
    const recorded = yield* readPidFile(fs, pidFile)
    if (Option.isNone(recorded)) return
    const { pid } = recorded.value
    const found = pid > 0 ? yield* inspect(pid) : Option.none()
    if (Option.isSome(found) && found.value.command === "postgres") {
      const owner = Number(ownerPattern.exec(found.value.args)?.[1])
      if (owner === found.value.ppid) {
        return yield* new PostmasterError({
          message: `the PostgreSQL cluster in ${dataDir} is in use by a server (pid ${pid}) that the running process ` +
            `${owner} started; stop that process or choose another data directory`
        })
      }
      yield* Effect.logWarning(`found a PostgreSQL server left running by a killed process (pid ${pid}); stopping it`)
      const gone = inspect(pid).pipe(
        Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: Option.isNone }),
        Effect.asVoid
      )
      const how = yield* shutdown(pid, (signal) => Effect.zipRight(signalProcess(pid, signal), gone))
      yield* Effect.logInfo(`stopped the PostgreSQL server left running by a killed process (pid ${pid}) with a ${how}`)
    } else if (Option.isSome(found)) {
      yield* Effect.logWarning(
        `removing a stale postmaster.pid: its pid ${pid} now belongs to "${found.value.command}", not PostgreSQL`
      )
    } else {
      yield* Effect.logWarning(`removing a stale postmaster.pid left by a PostgreSQL server that is gone (pid ${pid})`)
    }
    yield* fs.remove(pidFile, { force: true }).pipe(
      Effect.mapError((cause) => new PostmasterError({ message: `could not remove ${pidFile}`, cause }))
    )
  })

/**
 * `postmaster.pid`: the postmaster's pid on the first line and, once it accepts
 * connections, `ready` on the eighth (what `pg_ctl start --wait` reads).
 */
const readPidFile = (
  fs: FileSystem.FileSystem,
  pidFile: string
): Effect.Effect<Option.Option<{ readonly pid: number; readonly ready: boolean }>, PostmasterError> =>
  fs.readFileString(pidFile).pipe(
    Effect.map((text) => {
      const lines = text.split("\n")
      return Option.some({ pid: Number.parseInt(lines[0] ?? "", 10) || 0, ready: lines[7]?.trim() === "ready" })
    }),
    Effect.catchIf((error) => error._tag === "SystemError" && error.reason === "NotFound", () => Effect.succeedNone),
    Effect.mapError((cause) => new PostmasterError({ message: `could not read ${pidFile}`, cause }))
  )

/**
 * Signals a process this one did not start (the platform's `Command` signals only
 * its own children). A process that is gone already is fine.
 */
const signalProcess = (pid: number, signal: NodeJS.Signals) =>
  Effect.try({
    try: () => process.kill(pid, signal),
    catch: (cause) => cause
  }).pipe(
    Effect.asVoid,
    Effect.catchAll((cause) =>
      typeof cause === "object" && cause !== null && "code" in cause && cause.code === "ESRCH"
        ? Effect.void
        : new PostmasterError({
          message: `not permitted to stop PostgreSQL (pid ${pid}); it belongs to another user`,
          cause
        })
    )
  )

interface ProcessInfo {
  readonly ppid: number
  /** The executable's name, as the kernel records it. */
  readonly command: string
  readonly args: string
}

/**
 * A live process's parent, command name and command line; `None` once it is gone
 * (a zombie counts as gone: an orphan's adopter may be slow to reap it). On Linux
 * this reads `/proc/<pid>/stat` and `cmdline`, because `ps` is missing from slim
 * container images (procps is not essential), where this runs as root; elsewhere
 * it asks `ps`.
 */
const inspect = (pid: number) => {
  const found: Effect.Effect<
    Option.Option<ProcessInfo>,
    unknown,
    FileSystem.FileSystem | CommandExecutor.CommandExecutor
  > = process.platform === "linux" ? fromProc(pid) : fromPs(pid)
  return Effect.orElseSucceed(found, () => Option.none())
}

/** `/proc/<pid>/stat` is `pid (command) state ppid …`; the command may contain spaces and parentheses. */
const fromProc = (pid: number): Effect.Effect<Option.Option<ProcessInfo>, unknown, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const stat = yield* fs.readFileString(`/proc/${pid}/stat`)
    const args = yield* fs.readFileString(`/proc/${pid}/cmdline`)
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const command = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))
    return state === undefined || state === "Z" || ppid === undefined
      ? Option.none()
      : Option.some({ ppid: Number(ppid), command, args: args.replaceAll("\0", " ") })
  })

const fromPs = (pid: number): Effect.Effect<Option.Option<ProcessInfo>, unknown, CommandExecutor.CommandExecutor> =>
  Effect.map(
    Command.string(Command.make("ps", "-ww", "-o", "stat=,ppid=,ucomm=,args=", "-p", String(pid))),
    (output) => {
      const [, state, ppid, command, args] = /^\s*(\S+)\s+(\d+)\s+(\S+)\s*(.*)$/.exec(output.trim()) ?? []
      return state === undefined || state.startsWith("Z") || ppid === undefined || command === undefined
        ? Option.none()
        : Option.some({ ppid: Number(ppid), command, args: args ?? "" })
    }
  )
