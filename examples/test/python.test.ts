/**
 * The Python parts under `npm test`: the SDK's pytest suite (python/foreman-worker)
 * and the reference workers' (examples/python), and `mypy --strict` on both, with
 * Debian's python3, pytest and mypy (see .ci/run). Without them the tests are
 * skipped with one line saying what to install.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "vitest"
import * as Python from "@foreman/testing/Python"

const root = fileURLToPath(new URL("../..", import.meta.url))
const install = "apt-get install python3-pytest python3-venv mypy python3-sklearn python3-pandas"
const python = Python.orSkip("the Python suites", ["pytest", "mypy", "sklearn", "pandas"], install)

const run = (args: ReadonlyArray<string>, cwd = root) => {
  const ran = spawnSync(python!, args, { cwd, encoding: "utf8", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } })
  return { code: ran.status, output: `${ran.stdout}\n${ran.stderr}` }
}

describe.skipIf(python === undefined)("Python", () => {
  it("the SDK's tests pass", () => {
    const { code, output } = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "python/foreman-worker/tests"])
    assert.strictEqual(code, 0, output)
    assert.match(output, /\d+ passed/)
  }, 120_000)

  it("the reference workers' tests pass", () => {
    const { code, output } = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], `${root}examples/python`)
    assert.strictEqual(code, 0, output)
    assert.match(output, /\d+ passed/)
  }, 120_000)

  it("the SDK installs offline into a virtual environment, as its README says", () => {
    const dir = mkdtempSync(join(tmpdir(), "foreman-venv-"))
    try {
      const venv = run(["-m", "venv", "--system-site-packages", dir])
      assert.strictEqual(venv.code, 0, venv.output)
      const pip = spawnSync(join(dir, "bin", "pip"), ["install", "--no-build-isolation", "--no-index", "./python/foreman-worker"], {
        cwd: root,
        encoding: "utf8"
      })
      assert.strictEqual(pip.status, 0, `${pip.stdout}\n${pip.stderr}`)
      const imported = spawnSync(join(dir, "bin", "python"), ["-c", "import foreman_worker; print(foreman_worker.Worker.__name__)"], {
        cwd: dir,
        encoding: "utf8"
      })
      assert.strictEqual(imported.stdout.trim(), "Worker", imported.stderr)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 180_000)

  it("the SDK is mypy --strict clean, and so are the reference workers", () => {
    const sdk = run(["-m", "mypy", "--strict", "--no-incremental", "python/foreman-worker/foreman_worker"])
    assert.strictEqual(sdk.code, 0, sdk.output)
    const examples = run(["-m", "mypy", "--no-incremental", "."], `${root}examples/python`)
    assert.strictEqual(examples.code, 0, examples.output)
  }, 180_000)
})
