import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts"],
    reporters: ["default", "./scripts/summary-reporter.ts"],
    globalSetup: ["./scripts/vitest-global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})
