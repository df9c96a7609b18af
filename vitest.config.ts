import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources (the `source` export condition); other
  // packages as Node resolves them (not by bundlers' `module` condition, whose builds Node cannot always load).
  ssr: { resolve: { conditions: ["source", ...defaultServerConditions.filter((c) => c !== "module")] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts"],
    reporters: ["default", "./scripts/summary-reporter.ts"],
    globalSetup: ["./scripts/vitest-global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})
