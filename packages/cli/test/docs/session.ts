/**
 * Runs a doc example's commands as a user would type them: through bash, in
 * a directory of their own, with `foreman` on the PATH (`npx foreman` is the
 * same binary), stdout and stderr in one stream. A command that is still
 * running once its output matches the example (a server, a worker, `--watch`)
 * gets Ctrl+C (SIGINT to its process group), as its reader would send.
 */
import { spawn } from "node:child_process"
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { bin, cleanEnv, root, signalGroup } from "../processes.js"
import { maskedLines, matches } from "./compare.js"

export interface Ran {
  readonly output: string
  readonly code: number | null
  /** Whether it got Ctrl+C from the test (it was still running after printing what the example shows). */
  readonly interrupted: boolean
}

/** A directory with a `foreman` that runs this repository's binary, to put first on the PATH. */
export const shim = (): { readonly dir: string; readonly remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), "foreman-doc-bin-"))
  writeFileSync(join(dir, "foreman"), `#!/bin/sh\nexec "${process.execPath}" "${bin}" "$@"\n`)
  chmodSync(join(dir, "foreman"), 0o755)
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * The command as the test runs it: `npx foreman` is `foreman`, and the default
 * address of a coordinator, `http://127.0.0.1:8000`, is the scene's (`apiUrl`).
 */
export const asRun = (command: string, apiUrl: string | undefined): string =>
  command.replace(/\bnpx foreman\b/g, "foreman").replace(/http:\/\/127\.0\.0\.1:8000\b/g, apiUrl ?? "$&")

export interface StepOptions {
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** The example's lines; when absent the command must end by itself (a setup command). */
  readonly expected?: ReadonlyArray<string>
  /** Run against the API a long-running command prints (`API:   http://…`), once it does. */
  readonly meanwhile?: ReadonlyArray<string>
  /** How long the command may take to print what the example shows, or to end. */
  readonly timeoutMs: number
  /** How long a command that printed what the example shows may go on before it gets Ctrl+C. */
  readonly graceMs?: number
  /** Compare unmasked. */
  readonly exact?: boolean
}

/** Runs one command line; answers what it printed and how it ended. */
export const runStep = (command: string, options: StepOptions): Promise<Ran> =>
  new Promise((resolve) => {
    const child = spawn("bash", ["-c", `exec 2>&1\n${asRun(command, options.env["FOREMAN_API_URL"])}`], {
      // npm's scripts are the repository's.
      cwd: /^npm\b/.test(command) ? root : options.cwd,
      env: { ...cleanEnv, ...options.env },
      stdio: ["ignore", "pipe", "inherit"],
      detached: true
    })
    let output = ""
    let interrupted = false
    let meanwhileStarted = false
    const expected = options.expected === undefined ? undefined : maskedLines(options.expected, options.exact)
    const timers: Array<NodeJS.Timeout> = []
    const later = (ms: number, f: () => void) => timers.push(setTimeout(f, ms))
    const interrupt = () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      interrupted = true
      signalGroup(child, "SIGINT")
      later(30_000, () => signalGroup(child, "SIGKILL"))
    }
    let graceStarted = false
    const check = () => {
      const api = /API:\s+(http\S+)/.exec(output)
      if (!meanwhileStarted && api !== null && options.meanwhile !== undefined) {
        meanwhileStarted = true
        for (const other of options.meanwhile) {
          void runStep(other, { cwd: options.cwd, timeoutMs: options.timeoutMs, env: { ...options.env, FOREMAN_API_URL: api[1]! } })
        }
      }
      if (!graceStarted && expected !== undefined && matches(expected, maskedLines(output.split("\n"), options.exact))) {
        graceStarted = true
        later(options.graceMs ?? 1_500, interrupt)
      }
    }
    child.stdout!.on("data", (chunk) => {
      output += String(chunk)
      check()
    })
    later(options.timeoutMs, interrupt)
    child.once("close", (code) => {
      for (const timer of timers) clearTimeout(timer)
      resolve({ output, code, interrupted })
    })
  })
