/**
 * The README's TypeScript blocks run as written: each is saved to a file
 * inside the workspace (so `@foreman/*` resolve as in a user's project) and
 * run with node; it must exit 0, and when a `text` block follows it, print
 * what that block shows (ids and generated names aside). A coordinator
 * serves on loopback for the blocks that talk to one.
 */
import { assert, describe, it } from "@effect/vitest"
import { startServer } from "@foreman/testing/ApiHarness"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const dir = join(root, "node_modules/.cache/foreman-readme")

interface Block {
  readonly heading: string
  readonly code: string
  readonly output: string | undefined
}

const blocks = (): ReadonlyArray<Block> => {
  const readme = readFileSync(join(root, "README.md"), "utf8")
  const found: Array<Block> = []
  const fence = /^## (.+)$|^```(\w*)\n([\s\S]*?)^```$/gm
  let heading = ""
  let match: RegExpExecArray | null
  let last: { code: string; heading: string; end: number } | undefined
  while ((match = fence.exec(readme)) !== null) {
    if (match[1] !== undefined) {
      heading = match[1]
      continue
    }
    const [, , lang, body] = match
    if (lang === "text" && last !== undefined && readme.slice(last.end, match.index).trim() === "") {
      found[found.length - 1] = { heading: last.heading, code: last.code, output: body }
    }
    if (lang === "ts") {
      last = { code: body!, heading, end: match.index + match[0].length }
      found.push({ heading, code: body!, output: undefined })
    } else {
      last = undefined
    }
  }
  return found
}

/** Printed lines (log lines aside) with what changes between runs (ids, generated strategy names) masked. */
const normalise = (text: string) =>
  text.trim().split("\n").filter((line) => !line.startsWith("timestamp=")).map((line) => line.replace(/op_[0-9a-f]+/g, "op_…").replace(/\b[a-z]+_variant_\d+\b/g, "<strategy>"))

const run = (file: string, env: Record<string, string>) =>
  Effect.async<{ code: number; stdout: string; stderr: string }>((resume) => {
    const child = execFile(
      process.execPath,
      ["--conditions=source", "--import", "tsx", file],
      { cwd: dir, env: { ...process.env, ...env }, timeout: 90_000 },
      (error, stdout, stderr) => resume(Effect.succeed({ code: error === null ? 0 : (child.exitCode ?? 1), stdout, stderr }))
    )
  })

describe("README", () => {
  const all = blocks()

  it("has the TypeScript blocks this test runs", () => {
    assert.isAtLeast(all.length, 3)
  })

  all.forEach((block, index) => {
    it.scopedLive(`block ${index + 1} (${block.heading}) runs as written`, () =>
      Effect.gen(function*() {
        const server = yield* startServer()
        yield* server.workers.spawn({ id: "training-1", type: "training" })
        mkdirSync(dir, { recursive: true })
        const file = join(dir, `block-${index + 1}.mts`)
        writeFileSync(file, block.code)
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(file, { force: true })))
        const result = yield* run(file, { FOREMAN_API_URL: server.baseUrl })
        assert.strictEqual(result.code, 0, `exit ${result.code}\n${result.stderr}`)
        assert.notStrictEqual(result.stdout.trim(), "", "the block prints what it did")
        if (block.output !== undefined) assert.deepStrictEqual(normalise(result.stdout), normalise(block.output))
      }), 120_000)
  })
})
