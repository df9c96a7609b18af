/**
 * The real `foreman` processes: coordinators (`foreman server`) and workers
 * (`foreman worker --module chaos/worker/fakeWorker.mjs`), run from a snapshot
 * of the CLI bundle taken at the start of the run (so a concurrent rebuild of
 * `packages/cli/dist` cannot change the code under test half way), or from a
 * fresh bundle of the current sources with `--build`.
 */
import { execFileSync } from "node:child_process"
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs"
import { dirname, join } from "node:path"
import * as Processes from "./processes.js"

export const repoRoot = join(dirname(new URL(import.meta.url).pathname), "../..")
const distBundle = join(repoRoot, "packages/cli/dist/foreman.mjs")
export const workerModule = join(repoRoot, "chaos/worker/fakeWorker.mjs")
/** The same fake work on the Python SDK (a pull worker). */
export const pythonWorker = join(repoRoot, "chaos/worker/fake_worker.py")
/** The interpreter of the Python workers: FOREMAN_PYTHON, else python3 (the SDK needs only the standard library). */
export const python = process.env["FOREMAN_PYTHON"] ?? "python3"

const newestUnder = (dir: string): number => {
  let latest = 0
  let entries: Array<import("node:fs").Dirent> = []
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const entry of entries) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs)
  }
  return latest
}

/** The newest modification time of the sources the bundle is made from. */
const newestSource = (): number =>
  Math.max(
    ...readdirSync(join(repoRoot, "packages")).map((name) => newestUnder(join(repoRoot, "packages", name, "src"))),
    newestUnder(join(repoRoot, "examples/src"))
  )

export interface Bundle {
  /** The file run with node. */
  readonly path: string
  /** One line saying where it came from. */
  readonly description: string
  readonly warning: string | undefined
}

/**
 * Copies the bundle's entry and the chunks beside it (`chunks/`, loaded when a
 * command runs: the server's, the worker's), when there are any: a bundle of
 * an older commit is one file.
 */
const copyBundle = (entry: string, to: string) => {
  const chunks = join(dirname(entry), "chunks")
  if (existsSync(chunks)) cpSync(chunks, join(dirname(to), "chunks"), { recursive: true })
  copyFileSync(entry, to)
}

/**
 * Prepares the bundle under `node_modules/.cache/foreman-chaos/<run>` (inside
 * the repository, so its external packages resolve): a copy of
 * `packages/cli/dist/foreman.mjs` (built first when missing), or with `build` a
 * bundle of the current sources. Removed when the run ends.
 */
export const prepareBundle = (run: string, build: boolean, given?: string): Bundle => {
  const dir = join(repoRoot, "node_modules/.cache/foreman-chaos", run)
  mkdirSync(dir, { recursive: true })
  Processes.onExit(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, "foreman.mjs")
  if (given !== undefined) {
    copyBundle(given, path)
    return { path, description: `${given} (--bundle, built ${new Date(statSync(given).mtimeMs).toISOString()})`, warning: undefined }
  }
  if (build) {
    execFileSync(process.execPath, [join(repoRoot, "packages/cli/build.mjs"), path], { stdio: ["ignore", "ignore", "inherit"] })
    return { path, description: "a bundle of the current sources (--build)", warning: undefined }
  }
  if (!existsSync(distBundle)) {
    process.stdout.write("packages/cli/dist/foreman.mjs is missing: building it (npm run build -w @foreman/cli)\n")
    execFileSync("npm", ["run", "build", "--silent", "--workspace", "@foreman/cli"], { cwd: repoRoot, stdio: "inherit" })
  }
  copyBundle(distBundle, path)
  const built = statSync(distBundle).mtimeMs
  const stale = newestSource() > built
  return {
    path,
    description: `packages/cli/dist/foreman.mjs built ${new Date(built).toISOString()}`,
    warning: stale
      ? "some sources are newer than packages/cli/dist/foreman.mjs: this run tests the bundle as built; " +
        "pass --build (or npm run build -w @foreman/cli) to test the current sources"
      : undefined
  }
}

/** The environment of a child: ours without Foreman or database settings, plus `extra`. */
export const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("FOREMAN_") || key.startsWith("KTRDR_") || key.startsWith("WORKER_") || key === "DATABASE_URL") continue
    env[key] = value
  }
  return { ...env, NO_COLOR: "1", ...extra }
}

/** Coordinator settings of the chaos runs: short intervals so recovery happens within a scenario. */
export const coordinatorSettings: Record<string, string> = {
  FOREMAN_POLL_INTERVAL_SECONDS: "1",
  FOREMAN_MAX_CONCURRENT_RESEARCHES: "100000",
  FOREMAN_DAILY_BUDGET_USD: "0",
  FOREMAN_WORKER_OFFLINE_AFTER_SECONDS: "5",
  FOREMAN_ORPHAN_GRACE_SECONDS: "20",
  FOREMAN_RETRY_BACKOFF_SECONDS: "0.5",
  FOREMAN_RETRY_BACKOFF_MAX_SECONDS: "4"
}

export interface CoordinatorOptions {
  readonly bundle: Bundle
  readonly name: string
  readonly port: number
  readonly databaseUrl: string
  readonly logDir: string
  readonly env?: Record<string, string>
}

/** Starts `foreman server` on 127.0.0.1:`port`. */
export const startCoordinator = (options: CoordinatorOptions): Processes.Child =>
  Processes.start({
    name: options.name,
    command: process.execPath,
    args: [options.bundle.path, "server", "--host", "127.0.0.1", "--port", String(options.port), "--json"],
    cwd: repoRoot,
    env: childEnv({ ...coordinatorSettings, DATABASE_URL: options.databaseUrl, ...options.env }),
    logFile: join(options.logDir, `${options.name}.log`)
  })

export interface WorkerOptions {
  readonly bundle: Bundle
  readonly id: string
  readonly type: "training" | "backtest"
  readonly port: number
  readonly apiUrl: string
  readonly logDir: string
  readonly startsFile: string
  readonly seed: number
  /** Fake work time, "min-max" milliseconds. */
  readonly jobMs: string
  readonly env?: Record<string, string>
  /** `python`: the Python SDK's pull worker instead of `foreman worker`. */
  readonly runtime?: "python"
}

/**
 * Starts a worker: `foreman worker` with the chaos worker module on
 * 127.0.0.1:`port`, or with `runtime` python the same work on the Python SDK.
 */
export const startWorker = (options: WorkerOptions): Processes.Child =>
  Processes.start({
    name: options.id,
    ...(options.runtime === "python"
      ? { command: python, args: [pythonWorker] }
      : {
        command: process.execPath,
        args: [
          options.bundle.path, "worker", "--type", options.type, "--module", workerModule, "--id", options.id,
          "--host", "127.0.0.1", "--port", String(options.port), "--api-url", options.apiUrl, "--json"
        ]
      }),
    cwd: repoRoot,
    env: childEnv({
      FOREMAN_API_URL: options.apiUrl,
      FOREMAN_WORKER_ID: options.id,
      FOREMAN_WORKER_TYPE: options.type,
      FOREMAN_HEARTBEAT_INTERVAL_SECONDS: "1",
      FOREMAN_WORKER_DRAIN_SECONDS: "2",
      FOREMAN_WORKER_MAX_RETRIES: "0",
      CHAOS_STARTS_FILE: options.startsFile,
      CHAOS_SEED: String(options.seed),
      CHAOS_JOB_MS: options.jobMs,
      ...options.env
    }),
    logFile: join(options.logDir, `${options.id}.log`)
  })
