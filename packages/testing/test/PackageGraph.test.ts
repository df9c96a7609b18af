/**
 * The package graph holds: ESLint refuses an import against the direction
 * (run on text placed at a path inside each package), and accepts the
 * allowed ones.
 */
import { describe, expect, it } from "vitest"
import { ESLint } from "eslint"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const eslint = new ESLint({ cwd: root })

const problems = async (path: string, source: string) => {
  const [result] = await eslint.lintText(source, { filePath: `${root}${path}` })
  return (result?.messages ?? []).filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message)
}

describe("package graph", () => {
  it.each([
    ["packages/core/src/Probe.ts", `import { Server } from "@foreman/server"\nexport const x = Server`],
    ["packages/core/src/Probe.ts", `import { HttpApi } from "@effect/platform"\nexport const x = HttpApi`],
    ["packages/core/src/Probe.ts", `import { readFileSync } from "node:fs"\nexport const x = readFileSync`],
    ["packages/api/src/Probe.ts", `import { Postgres } from "@foreman/adapter-postgres"\nexport const x = Postgres`],
    ["packages/worker/src/Probe.ts", `import { Server } from "@foreman/server"\nexport const x = Server`],
    ["packages/server/src/Probe.ts", `import { Memory } from "@foreman/adapter-memory"\nexport const x = Memory`],
    ["packages/cli/src/Probe.ts", `import { Memory } from "@foreman/adapter-memory"\nexport const x = Memory`],
    ["packages/adapter-postgres/src/Probe.ts", `import { Memory } from "@foreman/adapter-memory"\nexport const x = Memory`],
    ["packages/server/src/Probe.ts", `import { ApiHarness } from "@foreman/testing/ApiHarness"\nexport const x = ApiHarness`],
    ["packages/cli/test/Probe.test.ts", `import { serve } from "../../server/src/ApiServer.js"\nexport const x = serve`]
  ])("refuses %s: %s", async (path, source) => {
    expect(await problems(path, source)).not.toEqual([])
  })

  it.each([
    ["packages/core/src/Probe.ts", `import { Effect } from "effect"\nimport { Domain } from "./Domain.js"\nexport const x = [Effect, Domain]`],
    ["packages/worker/src/Probe.ts", `import { Api } from "@foreman/api"\nimport { Domain } from "@foreman/core"\nexport const x = [Api, Domain]`],
    ["packages/server/src/Probe.ts", `import { WorkerConfig } from "@foreman/worker"\nexport const x = WorkerConfig`],
    ["packages/cli/test/Probe.test.ts", `import { startServer } from "@foreman/testing/ApiHarness"\nexport const x = startServer`]
  ])("accepts %s: %s", async (path, source) => {
    expect(await problems(path, source)).toEqual([])
  })
})
