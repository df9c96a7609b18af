/**
 * The real `foreman` program as a child process, in pipes: a closed pipe ends
 * it quietly; no colour or screen control outside a terminal; help for every
 * command; mistakes named in one line with the closest name; a brief over the
 * limit and bad server options refused before anything starts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { createServer as createHttpServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { bin, cleanEnv, closedPort } from "./processes.js"

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

/** The commands listed under COMMANDS in a help text. */
const commandsIn = (help: string): ReadonlyArray<string> =>
  help.includes("COMMANDS")
    ? help.split("COMMANDS")[1]!.split("\n").flatMap((line) => /^ {2}(foreman(?: [a-z-]+)+) {2}/.exec(line)?.[1] ?? [])
    : []

describe("foreman in a pipe", () => {
  it.live("stops quietly with exit 0 when the reader of a live status goes away", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const out = yield* foreman(
        ["agent", "status", "--watch", "--interval", "0.05", "--api-url", `http://127.0.0.1:${port}`],
        { closeStdout: 1 }
      )
      assert.strictEqual(out.code, 0, out.stderr)
      assert.strictEqual(out.stderr, "")
      assert.notMatch(out.stdout, escape, "no clear-screen in a pipe")
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

describe("foreman --help", () => {
  it.live("every command's help has its full usage line and a sentence for each flag", () =>
    Effect.gen(function*() {
      const root = yield* foreman(["--help"])
      assert.strictEqual(root.code, 0)
      const seen: Array<string> = []
      let level = [...commandsIn(root.stdout)]
      assert.includeMembers(level, ["foreman agent trigger", "foreman agent budget", "foreman server", "foreman simulate"])
      while (level.length > 0) {
        const helps = yield* Effect.forEach(level, (command) => foreman([...command.split(" ").slice(1), "--help"]), {
          concurrency: "unbounded"
        })
        const next: Array<string> = []
        helps.forEach((help, i) => {
          const command = level[i]!
          seen.push(command)
          assert.strictEqual(help.code, 0, `${command}: ${help.stderr}`)
          const text = help.stdout
          assert.match(text, new RegExp(`USAGE\\n {2}${command}( |\\n|$)`), `${command} usage:\n${text}`)
          for (const placeholder of ["A user-defined piece of text", "A true or false value", "An integer", "This setting is"]) {
            assert.notInclude(text, placeholder, `${command}: ${placeholder}`)
          }
          // Every flag line is followed by its sentence.
          const options = text.split("OPTIONS\n")[1]!.split("\n\n")[0]!.split("\n").filter((l) => l !== "")
          for (let line = 0; line < options.length; line += 2) {
            assert.match(options[line]!, /^ {2}-/, `${command}: ${options[line]}`)
            assert.match(options[line + 1] ?? "", /^ {6}\S.{8,}/, `${command}: no sentence for ${options[line]}`)
          }
          next.push(...commandsIn(text))
        })
        level = next.filter((command) => !seen.includes(command))
      }
    }), 60_000)

  it.live("an argument is shown as required, and a group without its command shows its help", () =>
    Effect.gen(function*() {
      const [show, agent] = yield* Effect.all([foreman(["agent", "show", "-h"]), foreman(["agent"])], {
        concurrency: "unbounded"
      })
      assert.match(show.stdout, /USAGE\n {2}foreman agent show .*<id>\n/)
      assert.match(show.stdout, /ARGUMENTS\n {2}<id>\n {6}The research id \(op_…\) \(required\)/)
      assert.strictEqual(agent.code, 0)
      assert.include(agent.stdout, "  foreman agent trigger  Start a research cycle")
    }), 60_000)
})

describe("mistakes on the command line", () => {
  const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
    [["agent", "trigerr"], "Unknown command trigerr for foreman agent; did you mean trigger?"],
    [["agnt", "status"], "Unknown command agnt for foreman; did you mean agent?"],
    [["agent", "trigger", "--brieff", "x"], "Unknown flag --brieff for foreman agent trigger; did you mean --brief?"],
    [["simulate", "--seed", "abc"], "--seed must be an integer, got \"abc\""],
    [["agent", "status", "--interval=soon"], "--interval must be a number, got \"soon\""],
    [["workers", "--status", "bsy"], "--status must be one of available, busy, draining, error, offline, got \"bsy\""],
    [["agent", "trigger", "--brief"], "--brief needs a value (text)"],
    [["agent", "show", "op_1", "op_2"], "Unexpected argument op_2 for foreman agent show; it takes <id>"],
    // A global --log-level before the command (as `foreman server --local-workers` starts its workers).
    [["--log-level", "warning", "worker", "--typo", "x"], "Unknown flag --typo for foreman worker; did you mean --type?"]
  ]
  it.live("each is one line on stderr naming the level or the flag, exit 2", () =>
    Effect.gen(function*() {
      const outs = yield* Effect.forEach(cases, ([args]) => foreman(args), { concurrency: "unbounded" })
      outs.forEach((out, i) => {
        const [args, line] = cases[i]!
        assert.deepStrictEqual([out.code, out.stdout, out.stderr], [2, "", `${line}\n`], args.join(" "))
      })
    }), 60_000)

  it.live("a brief over the limit is refused before anything is sent", () =>
    Effect.gen(function*() {
      const requests: Array<string> = []
      const server = createHttpServer((request, response) => {
        requests.push(request.url ?? "")
        response.writeHead(500).end()
      })
      const port = yield* Effect.promise(() =>
        new Promise<number>((resolve) =>
          server.listen(0, "127.0.0.1", () => {
            const address = server.address()
            resolve(typeof address === "object" && address !== null ? address.port : 0)
          })
        )
      )
      const out = yield* foreman(["agent", "trigger", "--brief", "x".repeat(10_001), "--api-url", `http://127.0.0.1:${port}`]).pipe(
        Effect.ensuring(Effect.promise(() => new Promise((resolve) => server.close(resolve))))
      )
      assert.deepStrictEqual(
        [out.code, out.stdout, out.stderr],
        [2, "", "--brief is 10001 characters long; the coordinator takes at most 10000\n"]
      )
      assert.deepStrictEqual(requests, [])
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
        foreman(["server"], { env: { ...env, FOREMAN_HOST: "0.0.0.0" } })
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
        ]
      ])
      assert.isFalse(exists, "the embedded database was not touched")
    }), 60_000)
})
