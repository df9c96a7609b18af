/**
 * Bundles the `foreman` binary from the current sources (the CLI tests and
 * `npm start` run the bundle, which `npm install` built once), and provides a
 * PostgreSQL server to the test run: DATABASE_URL (or FOREMAN_DATABASE_URL)
 * when set, otherwise an embedded server in a temporary directory for the
 * length of the run.
 */
import { Effect, Exit, Scope } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TestProject } from "vitest/node"
import { EmbeddedPostgres } from "@foreman/adapter-postgres"

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  execFileSync("npm", ["run", "build", "--silent", "--workspace", "@foreman/cli"], { stdio: "inherit" })
  const url = process.env["DATABASE_URL"] ?? process.env["FOREMAN_DATABASE_URL"]
  if (url !== undefined && url !== "") {
    project.provide("databaseUrl", url)
    return async () => {}
  }
  const dataDir = mkdtempSync(join(tmpdir(), "foreman-test-pg-"))
  const scope = Effect.runSync(Scope.make())
  const server = await Effect.runPromise(Scope.extend(EmbeddedPostgres.start({ dataDir }), scope))
  project.provide("databaseUrl", server.url)
  return async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(dataDir, { recursive: true, force: true })
  }
}
