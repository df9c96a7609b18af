/**
 * Child processes of a chaos run: each is spawned in its own process group with
 * its output appended to a log file, tracked until it exits, and killed (the
 * whole group, SIGKILL) when the run ends, however it ends (normal exit,
 * Ctrl+C, SIGTERM, an uncaught error). Temporary directories registered here
 * are removed at the same moment.
 */
import { type ChildProcess, spawn, type SpawnOptions } from "node:child_process"
import { closeSync, openSync, readFileSync, rmSync } from "node:fs"

export interface Child {
  readonly name: string
  readonly pid: number
  readonly process: ChildProcess
  readonly logFile: string
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: string | null }>
  /** Whether it is still running. */
  readonly alive: () => boolean
  /** Whether we killed it on purpose (a chaos kill or a teardown). */
  killedByUs: boolean
}

const children = new Set<Child>()
const tempDirs = new Set<string>()
const exitHooks: Array<() => void> = []

export interface StartOptions {
  readonly name: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  readonly logFile: string
  readonly uid?: number
  readonly gid?: number
}

/** Starts a process in its own group, output appended to `logFile`. */
export const start = (options: StartOptions): Child => {
  const fd = openSync(options.logFile, "a")
  const spawnOptions: SpawnOptions = {
    detached: true,
    stdio: ["ignore", fd, fd],
    env: options.env ?? process.env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid })
  }
  const proc = spawn(options.command, [...options.args], spawnOptions)
  closeSync(fd)
  if (proc.pid === undefined) throw new Error(`could not start ${options.name} (${options.command})`)
  let running = true
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    proc.once("exit", (code, signal) => {
      running = false
      resolve({ code, signal })
    })
    proc.once("error", () => {
      running = false
      resolve({ code: null, signal: null })
    })
  })
  const child: Child = {
    name: options.name,
    pid: proc.pid,
    process: proc,
    logFile: options.logFile,
    exited,
    alive: () => running,
    killedByUs: false
  }
  children.add(child)
  void exited.then(() => children.delete(child))
  return child
}

/** Sends `signal` to the child's whole process group (the child itself when that fails). */
export const signalGroup = (child: Child, signal: NodeJS.Signals): void => {
  if (!child.alive()) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      process.kill(child.pid, signal)
    } catch {
      // gone already
    }
  }
}

/** SIGKILLs the child's group and waits until it has exited. */
export const kill = async (child: Child): Promise<void> => {
  child.killedByUs = true
  signalGroup(child, "SIGKILL")
  await child.exited
}

/** The last `lines` lines of a child's log. */
export const tail = (child: Child, lines = 8): string => {
  try {
    const text = readFileSync(child.logFile, "utf8")
    return text.trimEnd().split("\n").slice(-lines).join("\n")
  } catch {
    return ""
  }
}

/** Removes `dir` (recursively) when the run ends. */
export const removeOnExit = (dir: string): void => {
  tempDirs.add(dir)
}

/** Runs `hook` (synchronously) when the run ends, before children are killed. */
export const onExit = (hook: () => void): void => {
  exitHooks.push(hook)
}

let cleaned = false
/** Kills every child still running and removes the temporary directories. Synchronous, idempotent. */
export const cleanupNow = (): void => {
  if (cleaned) return
  cleaned = true
  for (const hook of exitHooks) {
    try {
      hook()
    } catch {
      // best effort
    }
  }
  for (const child of children) {
    child.killedByUs = true
    signalGroup(child, "SIGKILL")
  }
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true })
    } catch {
      // best effort
    }
  }
}

/** Installs the handlers that clean up on every way out. */
export const installCleanup = (): void => {
  process.on("exit", cleanupNow)
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping every child process and removing temporary files\n`)
      cleanupNow()
      process.exit(signal === "SIGINT" ? 130 : 143)
    })
  }
  process.on("uncaughtException", (error) => {
    process.stderr.write(`chaos: uncaught error: ${error.stack ?? String(error)}\n`)
    cleanupNow()
    process.exit(2)
  })
  process.on("unhandledRejection", (error) => {
    process.stderr.write(`chaos: unhandled rejection: ${error instanceof Error ? error.stack : String(error)}\n`)
    cleanupNow()
    process.exit(2)
  })
}
