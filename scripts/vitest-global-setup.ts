/**
 * Provides a PostgreSQL server to the test run: DATABASE_URL (or
 * FOREMAN_DATABASE_URL) when set, otherwise an embedded server for the run.
 */
import type { TestProject } from "vitest/node"

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env["DATABASE_URL"] ?? process.env["FOREMAN_DATABASE_URL"]
  if (url !== undefined && url !== "") {
    project.provide("databaseUrl", url)
    return async () => {}
  }
  throw new Error("embedded postgres: not wired yet")
}
