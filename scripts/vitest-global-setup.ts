/**
 * Bundles the `foreman` binary from the current sources (the CLI tests and
 * `npm start` run the bundle, which `npm install` built once), and provides a
 * PostgreSQL server to the test run: DATABASE_URL (or FOREMAN_DATABASE_URL)
 * when set, otherwise an embedded server in a temporary directory for the
 * length of the run.
 *
 * Vitest calls a global setup once per project (vitest.config.ts has two, and
 * the root counts as a third): the first call does the work, the others share
 * it, and the server stops when the last of them is torn down.
 */
import { Effect, Exit, Scope } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TestProject } from "vitest/node"
import { EmbeddedPostgres } from "@foreman/adapter-postgres"

interface Shared {
  readonly databaseUrl: Promise<string>
  readonly stop: () => Promise<void>
  users: number
}

/** On the global object: each project loads this module anew. */
const key = Symbol.for("foreman.vitestGlobalSetup")
const registry = globalThis as { [key]?: Shared }

const start = (): Shared => {
  execFileSync("npm", ["run", "build", "--silent", "--workspace", "@foreman/cli"], { stdio: "inherit" })
  const url = process.env["DATABASE_URL"] ?? process.env["FOREMAN_DATABASE_URL"]
  if (url !== undefined && url !== "") return { databaseUrl: Promise.resolve(url), stop: async () => {}, users: 0 }
  const dataDir = mkdtempSync(join(tmpdir(), "foreman-test-pg-"))
  const scope = Effect.runSync(Scope.make())
  const server = Effect.runPromise(Scope.extend(EmbeddedPostgres.start({ dataDir }), scope))
  return {
    databaseUrl: server.then((s) => s.url),
    stop: async () => {
      await server.catch(() => undefined)
      await Effect.runPromise(Scope.close(scope, Exit.void))
      rmSync(dataDir, { recursive: true, force: true })
    },
    users: 0
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const shared = (registry[key] ??= start())
  shared.users++
  project.provide("databaseUrl", await shared.databaseUrl)
  return async () => {
    if (--shared.users > 0) return
    delete registry[key]
    await shared.stop()
  }
}
