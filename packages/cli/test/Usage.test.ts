/**
 * The `foreman` command line in-process (the real program's parsing, help and
 * messages, without a process per case): help for every command, mistakes
 * named in one line with the closest name, a brief over the limit refused
 * before anything is sent, bad values named with the flag or variable they
 * came from. Terminal.test.ts runs the program itself, in pipes and with
 * signals.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createServer as createHttpServer } from "node:http"
import { foreman as foremanInProcess, plain, refusingUrl } from "./cliHarness.js"

/**
 * Runs `foreman <args>` in-process with `env` as its environment; its output as
 * a terminal-less process prints it: without colour, each stream ending in a
 * newline.
 */
const foreman = (args: ReadonlyArray<string>, options: { env?: Record<string, string> } = {}) =>
  Effect.map(foremanInProcess(args, options.env ?? {}), (out) => ({
    code: out.code,
    stdout: out.stdout === "" ? "" : `${plain(out.stdout)}\n`,
    stderr: out.stderr === "" ? "" : `${plain(out.stderr)}\n`
  }))

/** The commands listed under COMMANDS in a help text. */
const commandsIn = (help: string): ReadonlyArray<string> =>
  help.includes("COMMANDS")
    ? help.split("COMMANDS")[1]!.split("\n").flatMap((line) => /^ {2}(foreman(?: [a-z-]+)+) {2}/.exec(line)?.[1] ?? [])
    : []

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
    }))

  it.live("an argument is shown as required, and a group without its command shows its help", () =>
    Effect.gen(function*() {
      const [show, agent] = yield* Effect.all([foreman(["agent", "show", "-h"]), foreman(["agent"])], {
        concurrency: "unbounded"
      })
      assert.match(show.stdout, /USAGE\n {2}foreman agent show .*<id>\n/)
      assert.match(show.stdout, /ARGUMENTS\n {2}<id>\n {6}The research id \(op_…\) \(required\)/)
      assert.strictEqual(agent.code, 0)
      assert.include(agent.stdout, "  foreman agent trigger  Start a research cycle")
    }))
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
    [["--log-level", "warning", "worker", "--typo", "x"], "Unknown flag --typo for foreman worker; did you mean --type?"],
    // --log-level anywhere, its value checked like any flag's.
    [
      ["agent", "status", "--json", "--log-level", "loud"],
      "--log-level must be one of all, trace, debug, info, warning, error, fatal, none, got \"loud\""
    ],
    [["agent", "status", "--log-level", "error", "--jsn"], "Unknown flag --jsn for foreman agent status; did you mean --json?"],
    // What follows `--` is arguments, counted as such.
    [["agent", "show", "op_1", "--", "op_2"], "Unexpected argument op_2 for foreman agent show; it takes <id>"],
    [["agent", "budget", "--", "extra"], "Unexpected argument extra for foreman agent budget; it takes none"],
    // The root's own flags are the root's.
    [["agent", "status", "--json", "--version"], "Unknown flag --version for foreman agent status; see foreman agent status --help"]
  ]
  it.live("each is one line on stderr naming the level or the flag, exit 2", () =>
    Effect.gen(function*() {
      const outs = yield* Effect.forEach(cases, ([args]) => foreman(args), { concurrency: "unbounded" })
      outs.forEach((out, i) => {
        const [args, line] = cases[i]!
        assert.deepStrictEqual([out.code, out.stdout, out.stderr], [2, "", `${line}\n`], args.join(" "))
      })
    }))

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
    }))
})

describe("flags after the command, and settings from flags or variables", () => {
  it.live("--log-level works anywhere after the command, as before it", () =>
    Effect.gen(function*() {
      const url = refusingUrl
      const outs = yield* Effect.all([
        foreman(["agent", "status", "--api-url", url, "--log-level", "error"]),
        foreman(["agent", "status", "--log-level=error", "--api-url", url]),
        foreman(["--log-level", "error", "agent", "status", "--api-url", url])
      ], { concurrency: "unbounded" })
      for (const out of outs) {
        assert.deepStrictEqual([out.code, out.stdout, out.stderr], [
          1,
          "",
          `Cannot reach the coordinator at ${url} (connection refused)\nIs it running? Start it with: npx foreman server\n`
        ])
      }
    }))

  it.live("a bad value is one line naming the flag or the variable it came from, exit 2", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, Record<string, string>, string]> = [
        [["agent", "status", "--api-url", "localhost:8000"], {}, "--api-url must be an http(s) URL such as http://127.0.0.1:8000, got \"localhost:8000\""],
        [["agent", "status"], { FOREMAN_API_URL: "localhost:8000" }, "FOREMAN_API_URL must be an http(s) URL such as http://127.0.0.1:8000, got \"localhost:8000\""],
        [["preflight", "--api-url", "ftp://example"], {}, "--api-url must be an http(s) URL such as http://127.0.0.1:8000, got \"ftp://example\""],
        [["simulate"], { FOREMAN_SIM_SEED: "x" }, "FOREMAN_SIM_SEED must be an integer, got \"x\""],
        [["simulate"], { FOREMAN_SIM_RESEARCHES: "-2" }, "FOREMAN_SIM_RESEARCHES must be 0 or more, got -2"],
        [["simulate", "--researches", "-2"], {}, "--researches must be 0 or more, got -2"],
        [["simulate"], { FOREMAN_SIM_DAILY_BUDGET: "lots" }, "FOREMAN_SIM_DAILY_BUDGET must be a number, got \"lots\""],
        [["agent", "status"], { FOREMAN_STATUS_INTERVAL: "soon" }, "FOREMAN_STATUS_INTERVAL must be a number of seconds, got \"soon\""],
        [["agent", "status"], { FOREMAN_STATUS_INTERVAL: "0" }, "FOREMAN_STATUS_INTERVAL must be a number of seconds > 0, got 0"],
        [["agent", "status", "--interval", "0"], {}, "--interval must be a number of seconds > 0, got 0"],
        [
          ["agent", "status"],
          { FOREMAN_REQUEST_TIMEOUT_SECONDS: "soon" },
          "FOREMAN_REQUEST_TIMEOUT_SECONDS must be a number > 0 (seconds, or a duration such as \"500 millis\"), got \"soon\""
        ],
        [["worker", "--type", "training", "--protocol", "push", "--port", "99999"], {}, "--port must be a port number 0-65535, got \"99999\""],
        [["worker", "--type", "training", "--protocol", "push"], { FOREMAN_WORKER_PORT: "99999" }, "FOREMAN_WORKER_PORT must be a port number 0-65535, got \"99999\""],
        [["worker", "--type", "training", "--capacity", "0"], {}, "--capacity must be an integer from 1 to 1024, got \"0\""]
      ]
      const outs = yield* Effect.forEach(cases, ([args, env]) => foreman(args, { env }), { concurrency: 4 })
      outs.forEach((out, i) => {
        const [args, env, line] = cases[i]!
        assert.deepStrictEqual([out.code, out.stdout, out.stderr], [2, "", `${line}\n`], `${JSON.stringify(env)} ${args.join(" ")}`)
      })
    }))

  it.live("a command's own mistakes point to its own help", () =>
    Effect.gen(function*() {
      const [trigger, worker] = yield* Effect.all([foreman(["agent", "trigger"]), foreman(["worker"])], { concurrency: "unbounded" })
      assert.deepStrictEqual([trigger.code, trigger.stderr], [
        2,
        "Give --brief \"what to research\" or --strategy NAME\nSee: foreman agent trigger --help\n"
      ])
      assert.deepStrictEqual([worker.code, worker.stderr], [
        2,
        "Give --type (training, backtest, or any type with --module)\nSee: foreman worker --help\n"
      ])
    }))
})
