/**
 * Finding a Python for tests that run Python workers: `FOREMAN_PYTHON`, else
 * Debian's `/usr/bin/python3`, else `python3` on the PATH, the first that can
 * import the given modules. Outside CI a test without one is skipped with one
 * line saying what to install; in CI (where `.ci/run` installs them) it fails.
 */
import { spawnSync } from "node:child_process"

/** The first interpreter (Python 3.11 or newer, as the SDK needs) that imports `modules`, or undefined. */
export const find = (modules: ReadonlyArray<string> = []): string | undefined =>
  [process.env["FOREMAN_PYTHON"], "/usr/bin/python3", "python3"].find((candidate) =>
    candidate !== undefined && candidate !== "" &&
    spawnSync(candidate, ["-c", `import sys${modules.map((m) => `, ${m}`).join("")}; sys.exit(sys.version_info < (3, 11))`], {
      stdio: "ignore"
    }).status === 0
  )

/** `find(modules)`; when none, says once what to install (and fails in CI, where one must exist). */
export const orSkip = (what: string, modules: ReadonlyArray<string>, install: string): string | undefined => {
  const python = find(modules)
  if (python !== undefined) return python
  const line = `skipping ${what}: no python3 with ${modules.join(", ") || "the standard library"}; install it with: ${install}`
  if (process.env["CI"] !== undefined && process.env["CI"] !== "") throw new Error(`${line} (CI must install it, see .ci/run)`)
  process.stderr.write(`${line}\n`)
  return undefined
}
