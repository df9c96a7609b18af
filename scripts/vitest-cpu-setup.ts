/**
 * FOREMAN_TEST_CPU=path (see vitest.config.ts): each test file appends one JSON line to `path` with
 * the CPU it cost — its worker's own (the thread's, in the shared pool) and that of the child processes
 * it started and reaped (servers, workers, the CLI, Chromium, npm, Python) — to see which files the
 * run's CPU goes to. A file's wall time says little on 2 cores shared by three files at once.
 */
import { afterAll } from "vitest"
import { appendFileSync, readFileSync } from "node:fs"
import { isMainThread } from "node:worker_threads"
import { relative } from "node:path"

const ticksPerSecond = 100

/** utime, stime of this thread (shared pool) or process, and cutime + cstime of the process's reaped children. */
const cpu = () => {
  const fields = (path: string) => {
    const stat = readFileSync(path, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number)
  }
  const own = fields(isMainThread ? "/proc/self/stat" : "/proc/thread-self/stat")
  const process = fields("/proc/self/stat")
  return { own: (own[11]! + own[12]!) / ticksPerSecond, children: (process[13]! + process[14]!) / ticksPerSecond }
}

// A setup file runs before each test file is loaded: the file's loading counts too.
const start = cpu()
afterAll((suite) => {
  const end = cpu()
  const file = relative(process.cwd(), (suite as { filepath?: string }).filepath ?? "?")
  const line = { file, own: end.own - start.own, children: end.children - start.children }
  appendFileSync(process.env["FOREMAN_TEST_CPU"]!, JSON.stringify(line) + "\n")
})
