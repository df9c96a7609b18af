/**
 * The Python parts under `npm test`: the SDK's pytest suite (python/foreman-worker)
 * and the reference workers' (examples/python), and `mypy --strict` on both, with
 * Debian's python3, pytest and mypy (see .ci/run). Without them the tests are
 * skipped with one line saying what to install.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "vitest"
import * as Python from "@foreman/testing/Python"

const root = fileURLToPath(new URL("../..", import.meta.url))
const install = "apt-get install python3-pytest python3-venv mypy python3-sklearn python3-pandas"
const python = Python.orSkip("the Python suites", ["pytest", "mypy", "sklearn", "pandas"], install)

/**
 * Runs a program and resolves with its exit code and output. Asynchronous: pytest or mypy blocking the
 * test's process for a minute on a loaded machine made vitest's own calls to it time out (onTaskUpdate).
 */
const exec = (command: string, args: ReadonlyArray<string>, cwd: string) =>
  new Promise<{ code: number; stdout: string; output: string }>((resolve) => {
    const child = execFile(command, [...args], { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : (child.exitCode ?? 1), stdout, output: `${stdout}\n${stderr}` }))
  })
const run = (args: ReadonlyArray<string>, cwd = root) => exec(python!, args, cwd)

// The four checks are independent: they run side by side.
describe.skipIf(python === undefined).concurrent("Python", () => {
  it("the SDK's tests pass", async () => {
    const { code, output } = await run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "python/foreman-worker/tests"])
    assert.strictEqual(code, 0, output)
    assert.match(output, /\d+ passed/)
  }, 120_000)

  it("the reference workers' tests pass", async () => {
    const { code, output } = await run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], `${root}examples/python`)
    assert.strictEqual(code, 0, output)
    assert.match(output, /\d+ passed/)
  }, 120_000)

  it("the SDK installs offline into a virtual environment, as its README says", async () => {
    const dir = mkdtempSync(join(tmpdir(), "foreman-venv-"))
    try {
      const venv = await run(["-m", "venv", "--system-site-packages", dir])
      assert.strictEqual(venv.code, 0, venv.output)
      const pip = await exec(join(dir, "bin", "pip"), ["install", "--no-build-isolation", "--no-index", "./python/foreman-worker"], root)
      assert.strictEqual(pip.code, 0, pip.output)
      const imported = await exec(join(dir, "bin", "python"), ["-c", "import foreman_worker; print(foreman_worker.Worker.__name__)"], dir)
      assert.strictEqual(imported.stdout.trim(), "Worker", imported.output)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 180_000)

  it("the SDK is mypy --strict clean, and so are the reference workers", async () => {
    const sdk = await run(["-m", "mypy", "--strict", "--no-incremental", "python/foreman-worker/foreman_worker"])
    assert.strictEqual(sdk.code, 0, sdk.output)
    const examples = await run(["-m", "mypy", "--no-incremental", "."], `${root}examples/python`)
    assert.strictEqual(examples.code, 0, examples.output)
  }, 180_000)
})
