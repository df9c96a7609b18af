/**
 * Vitest sequencer that starts the longest test files first. Vitest orders
 * files by their durations in its cache, and a fresh clone (CI) has none: it
 * falls back to the largest files first, which put a 100-second file of 120
 * lines at the end of the run, where the other workers sat idle waiting for
 * it. The files below are the slowest of a CI run (the summary reporter
 * prints them); they start first, longest first, and the rest follow in
 * vitest's own order.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { BaseSequencer, type TestSpecification } from "vitest/node"

export const startFirst: ReadonlyArray<string> = [
  "packages/testing/test/PackInstall.test.ts",
  "packages/cli/test/ManyLanguages.test.ts",
  "packages/cli/test/DocExamples.test.ts",
  "packages/cli/test/conformance/TypeScript.test.ts",
  "packages/cli/test/conformance/Python.test.ts",
  "packages/server/test/EndToEnd.test.ts",
  "chaos/test/verdict.test.ts",
  "packages/adapter-memory/test/Simulation.test.ts",
  "packages/adapter-postgres/test/Restart.test.ts",
  "packages/server/test/Dashboard.test.ts"
]

const rank = (file: TestSpecification): number => {
  const path = file.moduleId.replaceAll("\\", "/")
  const index = startFirst.findIndex((suffix) => path.endsWith(`/${suffix}`))
  return index === -1 ? startFirst.length : index
}

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    // A renamed or removed file would quietly drop out of the list: say so instead.
    const missing = startFirst.filter((file) => !existsSync(join(this.ctx.config.root, file)))
    if (missing.length > 0) throw new Error(`scripts/slow-first-sequencer.ts names files that do not exist: ${missing.join(", ")}`)
    const sorted = await super.sort(files)
    return sorted
      .map((file, order) => ({ file, order, rank: rank(file) }))
      .sort((a, b) => a.rank - b.rank || a.order - b.order)
      .map(({ file }) => file)
  }
}
