/**
 * Every package is a real npm package: built, packed with `npm pack`, and
 * installed from the tarballs into a temporary project that has no
 * TypeScript tooling, where plain `node` runs an ESM script using the
 * Promise client against a running coordinator, one running a Simulation,
 * one starting a worker with `runWorker`, `npx foreman --help`, and `npx
 * foreman simulate`, whose run is a chunk of the bundle loaded on demand.
 * Each tarball carries the repository's MIT LICENSE and the package's
 * CHANGELOG.md, and its package.json declares MIT.
 */
import { assert, describe, it } from "@effect/vitest"
import { startServer } from "@foreman/testing/ApiHarness"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const published = ["core", "adapter-memory", "adapter-postgres", "agents", "api", "worker", "server", "cli"]

/** What a package directory (in the repository, or installed from its tarball) must carry for a release. */
const releaseFiles = (dir: string, name: string) => {
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string; license?: string }
  assert.strictEqual(manifest.name, name)
  assert.strictEqual(manifest.license, "MIT", `${name}: license`)
  assert.isTrue(existsSync(join(dir, "LICENSE")), `${name}: no LICENSE in ${dir}`)
  assert.strictEqual(readFileSync(join(dir, "LICENSE"), "utf8"), readFileSync(join(root, "LICENSE"), "utf8"), `${name}: LICENSE differs from the repository's`)
  assert.isTrue(existsSync(join(dir, "CHANGELOG.md")), `${name}: no CHANGELOG.md in ${dir}`)
  const changelog = readFileSync(join(dir, "CHANGELOG.md"), "utf8")
  assert.isTrue(changelog.startsWith(`# ${name}\n`), `${name}: CHANGELOG.md starts with its name`)
  assert.include(changelog, "\n## 0.1.0\n", `${name}: CHANGELOG.md has the 0.1.0 entry`)
}

/**
 * Runs npm and fails with its output when it fails. Asynchronous: a build or an install blocking
 * the test's thread for a minute or more made vitest's calls to it time out (onTaskUpdate).
 */
const npm = (args: ReadonlyArray<string>, cwd: string) =>
  Effect.async<string>((resume) => {
    const child = execFile("npm", [...args], { cwd, encoding: "utf8", timeout: 600_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resume(error === null ? Effect.succeed(stdout) : Effect.die(new Error(`npm ${args.join(" ")}: ${error.message}\n${stdout}${stderr}`))))
    child.stdin?.end()
  })

/** Runs `node script` (or any command) in the project; resolves with its exit code and output. */
const node = (cwd: string, args: ReadonlyArray<string>, env: Record<string, string> = {}, command = process.execPath) =>
  Effect.async<{ code: number; stdout: string; stderr: string }>((resume) => {
    const child = execFile(command, [...args], { cwd, env: { ...cleanEnv(), ...env }, timeout: 120_000 }, (error, stdout, stderr) =>
      resume(Effect.succeed({ code: error === null ? 0 : (child.exitCode ?? 1), stdout, stderr })))
  })

/** The last line a script printed (log lines come before it). */
const lastLine = (stdout: string): unknown => JSON.parse(stdout.trim().split("\n").at(-1) ?? "")

/** The environment without the workspace's hooks (NODE_OPTIONS, tsx): a user's plain node. */
const cleanEnv = () =>
  Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== "NODE_OPTIONS" && !key.startsWith("VITEST") && !key.startsWith("npm_"))) as Record<string, string>

const clientScript = `
import { createClient } from "@foreman/api"
import { Errors } from "@foreman/core"
const foreman = createClient({ url: process.env.FOREMAN_API_URL })
const { researchId, status } = await foreman.trigger({ brief: "plain node" })
const shown = await foreman.show(researchId)
let missing = "none"
try { await foreman.show("op_0000000000000a") } catch (error) { missing = error instanceof Errors.ResearchNotFound ? "ResearchNotFound" : String(error) }
let aborted = "none"
try { await foreman.status({ signal: AbortSignal.abort(new Error("stopped by the caller")) }) } catch (error) { aborted = error.message }
await foreman.dispose()
console.log(JSON.stringify({ researchId, status, brief: shown.research.brief, missing, aborted }))
`

const simulationScript = `
import { Simulation } from "@foreman/adapter-memory"
import { Effect } from "effect"
const report = await Effect.runPromise(Simulation.run({ seed: 7, researches: 6 }))
console.log(JSON.stringify({ researches: report.researches, violations: report.invariantViolations.length, traceHash: report.traceHash }))
`

const workerScript = `
import { runWorker } from "@foreman/worker"
const worker = await runWorker({ type: "training", apiUrl: process.env.FOREMAN_API_URL, port: 0, host: "127.0.0.1", handlers: { training: async () => ({ testAccuracy: 0.6 }) } })
// runWorker answers once the worker runs; its registration may still be on its way.
const shown = () => fetch(process.env.FOREMAN_API_URL + "/api/v1/workers/" + worker.id).then((r) => r.json())
let answer = await shown()
for (let tries = 0; answer.id !== worker.id && tries < 100; tries++) {
  await new Promise((resolve) => setTimeout(resolve, 100))
  answer = await shown()
}
await worker.stop()
console.log(JSON.stringify({ id: worker.id, registered: answer.id === worker.id, type: answer.type }))
`

describe("npm packages", () => {
  // Fast, without packing: each published package's LICENSE is a copy of the repository's (npm packs
  // only the one in the package's directory), and its CHANGELOG.md is there for changesets to extend.
  it("every published package carries the repository's LICENSE and a CHANGELOG.md", () => {
    assert.include(readFileSync(join(root, "LICENSE"), "utf8"), "MIT License\n\nCopyright (c) 2026 Foreman contributors\n")
    for (const p of published) releaseFiles(join(root, "packages", p), `@foreman/${p}`)
    // The Python SDK's distributions take the LICENSE beside its pyproject.toml (setuptools' default).
    const python = readFileSync(join(root, "python/foreman-worker/LICENSE"), "utf8")
    assert.strictEqual(python, readFileSync(join(root, "LICENSE"), "utf8"), "python/foreman-worker/LICENSE differs")
  })

  it("the published packages are the workspaces not private, and changesets releases them together", () => {
    const read = (path: string) => JSON.parse(readFileSync(join(root, path), "utf8")) as Record<string, unknown>
    const workspaces = read("package.json")["workspaces"] as ReadonlyArray<string>
    const open = workspaces.map((dir) => read(join(dir, "package.json"))).filter((m) => m["private"] !== true).map((m) => m["name"])
    const names = published.map((p) => `@foreman/${p}`)
    assert.sameMembers(open, names)
    const config = read(".changeset/config.json") as { fixed: ReadonlyArray<ReadonlyArray<string>>; access: string }
    assert.deepStrictEqual(config.fixed.map((group) => [...group].sort()), [[...names].sort()])
    assert.strictEqual(config.access, "public")
  })

  it.scopedLive("pack, install into a plain project, and run with node", () =>
    Effect.gen(function*() {
      yield* npm(["run", "build"], root)
      const project = mkdtempSync(join(tmpdir(), "foreman-pack-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(project, { recursive: true, force: true })))
      yield* npm(["pack", "--silent", "--pack-destination", project, ...published.flatMap((p) => ["-w", `@foreman/${p}`])], root)
      const tarballs = readdirSync(project).filter((f) => f.endsWith(".tgz"))
      assert.strictEqual(tarballs.length, published.length, tarballs.join(", "))
      writeFileSync(join(project, "package.json"), JSON.stringify({ name: "plain-project", private: true, type: "module" }))
      // --prefer-offline: the dependencies' metadata from npm's cache when it has them, as the workspace's own install left it.
      yield* npm(["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...tarballs.map((t) => `./${t}`)], project)
      const installed = readdirSync(join(project, "node_modules"))
      assert.isFalse(installed.includes("typescript") || installed.includes("tsx"), `no TypeScript tooling: ${installed.join(" ")}`)
      for (const p of published) releaseFiles(join(project, "node_modules", "@foreman", p), `@foreman/${p}`)

      const server = yield* startServer()
      const env = { FOREMAN_API_URL: server.baseUrl }
      writeFileSync(join(project, "client.mjs"), clientScript)
      writeFileSync(join(project, "simulation.mjs"), simulationScript)
      writeFileSync(join(project, "worker.mjs"), workerScript)

      // Five programs, independent of one another: run at once.
      const [client, simulation, worker, help, simulated] = yield* Effect.all([
        node(project, ["client.mjs"], env),
        node(project, ["simulation.mjs"]),
        node(project, ["worker.mjs"], env),
        node(project, ["foreman", "--help"], {}, "npx"),
        node(project, ["foreman", "simulate", "--researches", "3", "--json"], {}, "npx")
      ], { concurrency: "unbounded" })
      assert.strictEqual(client.code, 0, client.stderr)
      const answer = lastLine(client.stdout) as Record<string, string>
      assert.match(answer.researchId!, /^op_/)
      assert.strictEqual(answer.brief, "plain node")
      assert.strictEqual(answer.missing, "ResearchNotFound")
      assert.strictEqual(answer.aborted, "stopped by the caller")

      assert.strictEqual(simulation.code, 0, simulation.stderr)
      const report = lastLine(simulation.stdout) as { researches: number; violations: number; traceHash: string }
      assert.strictEqual(report.researches, 6)
      assert.strictEqual(report.violations, 0)

      assert.strictEqual(worker.code, 0, worker.stderr)
      assert.deepInclude(lastLine(worker.stdout) as object, { registered: true, type: "training" })

      assert.strictEqual(help.code, 0, help.stderr)
      assert.include(help.stdout, "foreman")
      assert.include(help.stdout, "agent")

      assert.strictEqual(simulated.code, 0, simulated.stderr)
      assert.strictEqual((JSON.parse(simulated.stdout) as { researches: number }).researches, 3)
    }), 900_000)
})
