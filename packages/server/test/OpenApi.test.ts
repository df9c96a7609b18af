/**
 * The OpenAPI document the server answers at `/openapi.json` passes
 * `redocly lint` (the recommended rules, as the root's redocly.yaml sets them)
 * without an error or a warning, and carries `@foreman/api`'s version.
 */
import { Command, FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { startServer } from "@foreman/testing/ApiHarness"
import { Effect, Schema, Stream } from "effect"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../../", import.meta.url))

/** What `redocly lint --format=json` prints. */
const LintReport = Schema.parseJson(Schema.Struct({
  totals: Schema.Struct({ errors: Schema.Number, warnings: Schema.Number, ignored: Schema.Number }),
  problems: Schema.Array(Schema.Struct({
    ruleId: Schema.String,
    severity: Schema.String,
    message: Schema.String,
    location: Schema.Array(Schema.Struct({ pointer: Schema.optional(Schema.String) }))
  }))
}))

const Manifest = Schema.parseJson(Schema.Struct({ version: Schema.String }))

const Document = Schema.parseJson(Schema.Struct({ info: Schema.Struct({ version: Schema.String }) }))

/** Runs `redocly lint` on `file`; its report, exit code and what it said on stderr. */
const redoclyLint = (file: string) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const lint = yield* Command.make(
      path.join(root, "node_modules/.bin/redocly"),
      "lint",
      "--format=json",
      `--config=${path.join(root, "redocly.yaml")}`,
      file
    ).pipe(Command.workingDirectory(root), Command.start)
    const text = (stream: Stream.Stream<Uint8Array, unknown>) => stream.pipe(Stream.decodeText(), Stream.mkString)
    const [stdout, stderr, exitCode] = yield* Effect.all([text(lint.stdout), text(lint.stderr), lint.exitCode], {
      concurrency: "unbounded"
    })
    return { report: yield* Schema.decode(LintReport)(stdout), exitCode, stderr }
  })

describe("OpenAPI", () => {
  it.scopedLive("the served document passes redocly lint and carries the API package's version", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const server = yield* startServer({ tokens: { operator: "a", worker: "b" } })
      const response = yield* server.fetch("/openapi.json")
      assert.strictEqual(response.status, 200)
      const text = yield* Effect.promise(() => response.text())

      const manifest = yield* fs.readFileString(path.join(root, "packages/api/package.json"))
      const document = yield* Schema.decode(Document)(text)
      assert.strictEqual(document.info.version, (yield* Schema.decode(Manifest)(manifest)).version)

      const file = path.join(yield* fs.makeTempDirectoryScoped({ prefix: "foreman-openapi-" }), "openapi.json")
      yield* fs.writeFileString(file, text)
      const { exitCode, report, stderr } = yield* redoclyLint(file)
      assert.deepStrictEqual(
        report.problems.map((problem) =>
          `${problem.severity} ${problem.ruleId} at ${problem.location[0]?.pointer ?? "?"}: ${problem.message}`
        ),
        []
      )
      assert.deepStrictEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 })
      assert.strictEqual(exitCode, 0, stderr)
    }).pipe(Effect.provide(NodeContext.layer)), 30_000)
})
