/**
 * Test support for tests that run the real `foreman` binary (and `npm start`)
 * as child processes. It imports none of the CLI's sources, so such tests load
 * quickly.
 */
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"

/** The repository's root. */
export const root = fileURLToPath(new URL("../../..", import.meta.url))

/** The `foreman` program. */
export const bin = fileURLToPath(new URL("../bin/foreman.mjs", import.meta.url))

/** The environment without the caller's Foreman, database, LLM and colour settings. */
export const cleanEnv: Readonly<Record<string, string | undefined>> = Object.fromEntries(
  Object.entries(process.env).filter(([key]) =>
    !key.startsWith("FOREMAN_") &&
    !["DATABASE_URL", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "NO_COLOR", "FORCE_COLOR"].includes(key)
  )
)

/**
 * An address that refuses every connection, whatever runs on this machine:
 * nothing can listen on TCP port 0 (listening on 0 takes another port). Use
 * it where a test needs a refusal; `closedPort` only where a process must
 * listen on the port later.
 */
export const refusingUrl = "http://127.0.0.1:0"

/**
 * A loopback port nothing listens on now (it was free a moment ago): for a
 * port a test starts a process on later. Another test may take it in between;
 * for a refusal use `refusingUrl`.
 */
export const closedPort = Effect.promise(() =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
)

export interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `foreman <args>` to its end with the clean environment and `env`. */
export const foreman = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  new Promise<Ran>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...cleanEnv, ...env } })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += String(chunk)))
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    child.on("exit", (code) => resolve({ code, stdout, stderr }))
  })

/**
 * `GET /api/v1{path}` of the coordinator at `apiUrl`, decoded. Waits probe the API with it: a CLI
 * process per probe would start Node every half second. What a test asserts it reads with `cliJson`.
 */
export const apiGet = async <A>(apiUrl: string, path: string): Promise<A> => {
  const response = await fetch(`${apiUrl}/api/v1${path}`)
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`)
  return (await response.json()) as A
}

/** What `foreman ...args --json` prints against `apiUrl`, decoded (it must exit 0). */
export const cliJson = async <A>(args: ReadonlyArray<string>, apiUrl: string): Promise<A> => {
  const out = await foreman([...args, "--json"], { FOREMAN_API_URL: apiUrl })
  if (out.code !== 0) throw new Error(`foreman ${args.join(" ")} exited ${out.code}: ${out.stderr}`)
  return JSON.parse(out.stdout) as A
}

/** Asks `probe` every half second until it answers; fails after `timeoutMs` with `context()` in the message. */
export const waitFor = async <A>(
  what: string,
  probe: () => Promise<A | undefined>,
  timeoutMs: number,
  context: () => string = () => ""
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

/**
 * Sends `signal` to the process group `child` leads (it was started with
 * `detached: true`), unless it has ended: for Ctrl+C as a terminal sends it,
 * and for whatever a failed test left running.
 */
export const signalGroup = (child: ChildProcess | undefined, signal: NodeJS.Signals = "SIGKILL"): void => {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

/** The exit code of `child`, once it exits. */
export const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode)
    child.once("exit", (code) => resolve(code))
  })
