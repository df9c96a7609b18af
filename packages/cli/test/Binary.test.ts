/** The real `foreman` program as a child process: help, and a failure without a stack trace. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { refusingUrl } from "./cliHarness.js"

const bin = fileURLToPath(new URL("../bin/foreman.mjs", import.meta.url))

/** The environment without the caller's Foreman settings. */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("FOREMAN_")))

const foreman = (args: ReadonlyArray<string>) =>
  Effect.promise(() =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, ...args], { env: cleanEnv })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk) => (stdout += String(chunk)))
      child.stderr.on("data", (chunk) => (stderr += String(chunk)))
      child.on("exit", (code) => resolve({ code, stdout, stderr }))
    })
  )

describe("the foreman binary", () => {
  it.live("--help exits 0", () =>
    Effect.gen(function*() {
      const out = yield* foreman(["--help"])
      assert.strictEqual(out.code, 0)
      assert.include(out.stdout, "agent trigger")
    }), 60_000)

  it.live("the package is the program only: importing it is refused by its exports, as docs/cli.md says", () =>
    Effect.gen(function*() {
      const out = yield* Effect.promise(() =>
        new Promise<string>((resolve) => {
          const child = spawn(process.execPath, [
            "--input-type=module",
            "-e",
            `import("@foreman/cli").then(() => console.log("imported"), (e) => console.log(e.code))`
          ], { env: cleanEnv })
          let stdout = ""
          child.stdout.on("data", (chunk) => (stdout += String(chunk)))
          child.on("exit", () => resolve(stdout.trim()))
        })
      )
      assert.strictEqual(out, "ERR_PACKAGE_PATH_NOT_EXPORTED")
      const doc = readFileSync(fileURLToPath(new URL("../../../docs/cli.md", import.meta.url)), "utf8")
      assert.include(doc, "`import(\"@foreman/cli\")` fails (`ERR_PACKAGE_PATH_NOT_EXPORTED`)")
    }), 60_000)

  it.live("--wizard without a terminal is a usage error, not a wait for answers", () =>
    Effect.gen(function*() {
      const out = yield* foreman(["--wizard"])
      assert.strictEqual(out.code, 2)
      assert.include(out.stderr, "needs an interactive terminal")
    }), 60_000)

  it.live("a trigger against a closed port exits 1 with one line and a hint, no stack trace", () =>
    Effect.gen(function*() {
      const out = yield* foreman(["agent", "trigger", "--brief", "Explore RSI variations", "--api-url", refusingUrl])
      assert.strictEqual(out.code, 1)
      assert.strictEqual(out.stdout, "")
      assert.strictEqual(
        out.stderr,
        `Cannot reach the coordinator at ${refusingUrl} (connection refused)\n` +
          "Is it running? Start it with: npx foreman server\n"
      )
    }), 60_000)
})
