/**
 * Worker threads on a module of this package (a seed sweep's, a plan curve's).
 * A `.js` entry (the published build, the `foreman` bundle's chunk) starts as
 * it is. A `.ts` entry (the sources, under vitest or tsx) is bundled once per
 * process with esbuild (the one tsx runs on), resolving the workspace's
 * packages to their sources as the caller's do, and each thread loads that one
 * file: loading every module through tsx cost each thread 2-3 s of CPU.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Worker } from "node:worker_threads"

interface Esbuild {
  readonly buildSync: (options: Record<string, unknown>) => unknown
}

/** esbuild as the caller's workspace has it: its own, else tsx's. */
const esbuildFor = (from: URL): Esbuild => {
  const require = createRequire(from)
  try {
    return require("esbuild") as Esbuild
  } catch {
    return createRequire(require.resolve("tsx/package.json"))("esbuild") as Esbuild
  }
}

let outDir: string | undefined
const bundles = new Map<string, URL>()

/** The bundle of `entry` (built the first time it is asked for, removed when the process exits). */
const bundled = (entry: URL): URL => {
  const known = bundles.get(entry.href)
  if (known !== undefined) return known
  if (outDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "foreman-threads-"))
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }))
    outDir = dir
  }
  const outfile = join(outDir, `entry-${bundles.size}.mjs`)
  esbuildFor(entry).buildSync({
    entryPoints: [fileURLToPath(entry)],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    conditions: ["source"],
    logLevel: "warning",
    // Dependencies published as CommonJS call `require`, which an ES module does not have.
    banner: { js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);" }
  })
  const url = pathToFileURL(outfile)
  bundles.set(entry.href, url)
  return url
}

/** Starts a worker thread on `entryUrl` with `workerData`. */
export const startWorker = (entryUrl: URL, workerData: unknown): Worker =>
  new Worker(entryUrl.pathname.endsWith(".ts") ? bundled(entryUrl) : entryUrl, { workerData })
