/**
 * A provider's error on the lines where one line is expected: `foreman server`
 * with its agents on an Anthropic API that cannot be reached, whose error
 * @effect/ai ends with a "Suggestion: …" paragraph after a blank line. The
 * research fails with that error; the server's activity line, `agent wait`'s
 * line and `agent show`'s lines and tables each stay whole.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { createDatabase } from "@foreman/testing/PgDatabase"
import { Effect } from "effect"
import { bin, cleanEnv, closedPort, exited, foreman, waitFor, signalGroup } from "./processes.js"

let lab: ChildProcess | undefined
afterAll(() => {
  signalGroup(lab)
})

describe("a provider's error with a Suggestion paragraph", () => {
  it.live("stays on one line in the activity log, agent wait and agent show", () =>
    Effect.promise(async () => {
      const port = await Effect.runPromise(closedPort)
      const nowhere = `http://127.0.0.1:${await Effect.runPromise(closedPort)}`
      const apiUrl = `http://127.0.0.1:${port}`
      const databaseUrl = await createDatabase("foreman_cli_provider_errors")
      let stdout = ""
      let output = ""
      lab = spawn(process.execPath, [bin, "server"], {
        env: {
          ...cleanEnv,
          DATABASE_URL: databaseUrl,
          FOREMAN_PORT: String(port),
          FOREMAN_LLM_PROVIDER: "anthropic",
          ANTHROPIC_API_KEY: "test-key",
          FOREMAN_LLM_BASE_URL: nowhere,
          FOREMAN_LLM_RETRIES: "0",
          FOREMAN_MAX_JOB_ATTEMPTS: "1"
        },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true
      })
      lab.stdout?.on("data", (chunk) => {
        stdout += String(chunk)
        output += String(chunk)
      })
      lab.stderr?.on("data", (chunk) => (output += String(chunk)))
      await waitFor("the banner", async () => (output.includes("Next:") ? true : undefined), 60_000, () => output)

      const triggered = await foreman(["agent", "trigger", "--brief", "Explore RSI variations"], { FOREMAN_API_URL: apiUrl })
      assert.strictEqual(triggered.code, 0, triggered.stderr)
      const id = /^Research triggered: (op_\w+)$/m.exec(triggered.stdout)?.[1]
      assert.isDefined(id, triggered.stdout)

      const waited = await foreman(["agent", "wait", id!, "--timeout", "60"], { FOREMAN_API_URL: apiUrl })
      assert.strictEqual(waited.code, 1, `${waited.stderr}\n${output}`)
      const error = (JSON.parse((await foreman(["agent", "show", id!, "--json"], { FOREMAN_API_URL: apiUrl })).stdout) as {
        readonly research: { readonly error: string | null }
      }).research.error
      // The case at hand: an error of several lines, one of them blank, with a Suggestion.
      assert.match(error ?? "", /\n\nSuggestion: /, error ?? "no error")
      const flat = error!.replace(/\s*\n\s*/g, " ")

      // agent wait: one line, the error's lines joined.
      assert.strictEqual(waited.stderr, `${id} failed: ${flat}\n`)

      // agent show: the Error line and the job's row are whole; no line of the error stands on its own.
      const shown = (await foreman(["agent", "show", id!], { FOREMAN_API_URL: apiUrl })).stdout
      assert.include(shown, `\nError:     ${flat}\n`)
      assert.match(shown, /\n {2}design +failed +- +1 +\dm \d+s +designer failed: .*Suggestion: .*\n/)
      assert.match(shown, /\n {2}design +claude-\S+ +0 +0 +\$0\.0000 +\d+\.\ds +cannot reach anthropic: .*Suggestion: .*\n/)
      for (const line of shown.split("\n")) assert.notMatch(line, /^\s*Suggestion/, shown)

      // The server's activity line for the research's end is one line, the error's lines joined.
      const ended = await waitFor(
        "the activity line",
        async () => stdout.split("\n").find((line) => line.includes(`${id}  FAILED`)),
        10_000,
        () => output
      )
      assert.match(ended, new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\] ${id} {2}FAILED {2}strategy: -`), ended)
      assert.include(ended, flat.slice(flat.indexOf("Suggestion: ")), stdout)

      lab.kill("SIGTERM")
      assert.strictEqual(await exited(lab), 0, output)
    }), 180_000)
})
