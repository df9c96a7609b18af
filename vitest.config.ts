import { availableParallelism } from "node:os"
import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

// Most test files wait (on child processes, servers, PostgreSQL) more than they compute: run one more
// file at once than there are cores (vitest's default is one fewer: one at a time on a 2-core box). Twice
// the cores was faster still, but starved vitest's own process: its calls to the workers timed out.
const workers = availableParallelism() + 1

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources (the `source` export condition); other
  // packages as Node resolves them (not by bundlers' `module` condition, whose builds Node cannot always load).
  ssr: { resolve: { conditions: ["source", ...defaultServerConditions.filter((c) => c !== "module")] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts", "chaos/test/**/*.test.ts"],
    reporters: ["default", "./scripts/summary-reporter.ts"],
    globalSetup: ["./scripts/vitest-global-setup.ts"],
    maxWorkers: workers,
    minWorkers: 1,
    // Files whose cases run side by side (the docs' scenes, the conformance cases) run three at once.
    maxConcurrency: 3,
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})
