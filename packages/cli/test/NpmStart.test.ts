/**
 * `npm start` under a supervisor: the supervisor signals the npm process only
 * (not its process group); the server and its example workers must stop too,
 * leaving no process behind.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { createDatabase } from "@foreman/testing/PgDatabase"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { cleanEnv, closedPort, root } from "./processes.js"

/** The state letter of process `pid` from /proc (`undefined` when it is gone). */
const state = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // pid (comm) state ppid pgrp …: comm may hold spaces, so split after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]
  } catch {
    return undefined
  }
}

/** Whether `pid` runs (a zombie, dead but not yet reaped, counts as gone). */
const isAlive = (pid: number): boolean => {
  const s = state(pid)
  return s !== undefined && s !== "Z"
}

/** Processes of the process group `pgid` (from /proc), a zombie counting as gone. */
const groupMembers = (pgid: number): ReadonlyArray<number> =>
  readdirSync("/proc").filter((name) => /^\d+$/.test(name)).flatMap((name) => {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8")
      // pid (comm) state ppid pgrp …: comm may hold spaces, so split after its closing parenthesis.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      return Number(pgrp) === pgid && state !== "Z" ? [Number(name)] : []
    } catch {
      return []
    }
  })

const waitFor = async <A>(what: string, probe: () => A | undefined, timeoutMs: number, output: () => string) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

let lab: ChildProcess | undefined
const leftovers: Array<number> = []
afterAll(() => {
  // Whatever a failed run left: the group and the workers (each in a group of its own).
  for (const pid of [...(lab?.pid === undefined ? [] : [-lab.pid]), ...leftovers.map((p) => -p)]) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
})

describe("npm start", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it.live(`stops the server and its workers when only the npm process gets ${signal}`, () =>
      Effect.promise(async () => {
        const port = await Effect.runPromise(closedPort)
        const databaseUrl = await createDatabase(`foreman_cli_npm_start_${signal.toLowerCase()}`)
        let output = ""
        const child = spawn("npm", ["start"], {
          cwd: root,
          env: { ...cleanEnv, DATABASE_URL: databaseUrl, FOREMAN_PORT: String(port) },
          stdio: ["ignore", "pipe", "pipe"],
          // A group of its own, so that afterAll can clean up after a failure; the test signals only npm.
          detached: true
        })
        lab = child
        child.stdout?.on("data", (chunk) => (output += String(chunk)))
        child.stderr?.on("data", (chunk) => (output += String(chunk)))
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))

        const workers = await waitFor("three started workers", () => {
          const pids = Array.from(output.matchAll(/Started \w+ worker \S+ \(pid (\d+)\)/g), (m) => Number(m[1]))
          return pids.length === 3 ? pids : undefined
        }, 60_000, () => output)
        leftovers.push(...workers)
        const group = groupMembers(child.pid!)
        assert.isAbove(group.length, 1, "npm and the server")

        process.kill(child.pid!, signal)
        await waitFor("npm to exit", () => (child.exitCode !== null || child.signalCode !== null ? true : undefined), 30_000, () => output)
        await exited
        await waitFor(
          "no process left",
          () => ([...group, ...workers].some(isAlive) ? undefined : true),
          30_000,
          () => `${output}\nalive: ${[...group, ...workers].filter(isAlive).join(" ")}`
        )
        assert.include(output, "Local workers stopped")
      }), 120_000)
  }
})
