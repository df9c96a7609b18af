/**
 * The real `foreman` program as a child process, in pipes: a closed pipe ends
 * it quietly; no colour or screen control outside a terminal; bad server
 * options refused before anything starts. Usage.test.ts checks the help and
 * the usage errors of every command in-process.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { bin, cleanEnv, exited, refusingUrl, waitFor } from "./processes.js"

interface Outcome {
  readonly code: number | null
  readonly signal: string | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs `foreman <args>` with `env` added; with `closeStdout`, our end of its
 * stdout is closed after `closeStdout` characters have arrived (0: at once).
 */
const foreman = (args: ReadonlyArray<string>, options: { env?: Record<string, string>; closeStdout?: number } = {}) =>
  Effect.promise(() =>
    new Promise<Outcome>((resolve) => {
      const child = spawn(process.execPath, [bin, ...args], { env: { ...cleanEnv, ...options.env } })
      let stdout = ""
      let stderr = ""
      const close = options.closeStdout
      if (close === 0) child.stdout.destroy()
      child.stdout.on("data", (chunk) => {
        stdout += String(chunk)
        if (close !== undefined && stdout.length >= close) child.stdout.destroy()
      })
      child.stderr.on("data", (chunk) => (stderr += String(chunk)))
      child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr }))
    })
  )

const escape = /\x1b/

describe("foreman in a pipe", () => {
  it.live("stops quietly with exit 0 when the reader of a live status goes away", () =>
    Effect.gen(function*() {
      const out = yield* foreman(
        ["agent", "status", "--watch", "--interval", "0.05", "--api-url", refusingUrl],
        { closeStdout: 1 }
      )
      assert.strictEqual(out.code, 0, out.stderr)
      assert.strictEqual(out.stderr, "")
      assert.notMatch(out.stdout, escape, "no clear-screen in a pipe")
    }), 60_000)

  it.live("a live status stops with exit 0 on Ctrl+C (SIGINT to its process group)", () =>
    Effect.promise(async () => {
      const child = spawn(
        process.execPath,
        [bin, "agent", "status", "--watch", "--interval", "0.1", "--api-url", refusingUrl],
        { env: cleanEnv, stdio: ["ignore", "pipe", "pipe"], detached: true }
      )
      let stdout = ""
      child.stdout.on("data", (chunk) => (stdout += String(chunk)))
      await waitFor("the first frame", async () => (stdout.includes("Foreman status at") ? true : undefined), 30_000)
      process.kill(-child.pid!, "SIGINT")
      assert.strictEqual(await exited(child), 0)
    }), 60_000)

  it.live("--help to a closed pipe exits 0 without a stack trace", () =>
    Effect.gen(function*() {
      const out = yield* foreman(["--help"], { closeStdout: 0 })
      assert.strictEqual(out.code, 0, out.stderr)
      assert.strictEqual(out.stderr, "")
    }), 60_000)

  it.live("help and usage errors carry no escape codes outside a terminal, NO_COLOR or not", () =>
    Effect.gen(function*() {
      const [help, noColor, error] = yield* Effect.all([
        foreman(["agent", "trigger", "--help"]),
        foreman(["--help"], { env: { NO_COLOR: "1" } }),
        foreman(["server", "--local-workers", "gpu=1"])
      ], { concurrency: "unbounded" })
      assert.strictEqual(help.code, 0)
      assert.notMatch(help.stdout, escape)
      assert.notMatch(noColor.stdout, escape)
      assert.strictEqual(error.code, 2)
      assert.strictEqual(error.stderr, "--local-workers: unknown worker type \"gpu\"; use training or backtest\n")
    }), 60_000)
})

describe("foreman server with bad options", () => {
  it.live("is refused in one line naming the flag or variable, before the database starts", () =>
    Effect.gen(function*() {
      const dataDir = mkdtempSync(join(tmpdir(), "foreman-terminal-"))
      const data = join(dataDir, "pg")
      const env = { FOREMAN_DATA_DIR: data }
      const outs = yield* Effect.all([
        foreman(["server", "--port", "99999"], { env }),
        foreman(["server"], { env: { ...env, FOREMAN_PORT: "99999" } }),
        foreman(["server"], { env: { ...env, FOREMAN_PORT: "http" } }),
        foreman(["server", "--port", "eighty"], { env }),
        foreman(["server", "--local-workers", "training=100"], { env }),
        foreman(["server"], { env: { ...env, FOREMAN_HOST: "0.0.0.0" } }),
        foreman(["server"], { env: { ...env, FOREMAN_DAILY_BUDGET_USD: "x" } }),
        foreman(["server"], { env: { ...env, FOREMAN_LLM_PROVIDER: "gpt" } })
      ], { concurrency: "unbounded" })
      const exists = existsSync(data)
      rmSync(dataDir, { recursive: true, force: true })
      assert.deepStrictEqual(outs.map((out) => [out.code, out.stderr]), [
        [2, "--port must be a port number from 0 to 65535, got \"99999\"\n"],
        [2, "FOREMAN_PORT must be a port number from 0 to 65535, got \"99999\"\n"],
        [2, "FOREMAN_PORT must be a port number from 0 to 65535, got \"http\"\n"],
        [2, "--port must be an integer, got \"eighty\"\n"],
        [2, "--local-workers: training needs a count from 0 to 32, got \"100\"\n"],
        [
          2,
          "--host (or FOREMAN_HOST): Refusing to listen on 0.0.0.0 without tokens: " +
          "set FOREMAN_API_TOKEN and FOREMAN_WORKER_TOKEN, or listen on 127.0.0.1\n"
        ],
        [
          2,
          "FOREMAN_DAILY_BUDGET_USD must be a number >= 0 (0 means unlimited), got \"x\"\n" +
          "See docs/configuration.md for the variables\n"
        ],
        [
          2,
          "FOREMAN_LLM_PROVIDER: Expected one of (anthropic, openai, offline) but received \"gpt\"\n" +
          "See docs/agents.md for FOREMAN_LLM_PROVIDER, FOREMAN_LLM_MODEL and the API keys\n"
        ]
      ])
      assert.deepStrictEqual(outs.map((out) => out.stdout), outs.map(() => ""), "nothing was started, nor logged")
      assert.isFalse(exists, "the embedded database was not touched")
    }), 60_000)
})
