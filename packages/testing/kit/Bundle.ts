/**
 * Test helper: a TypeScript entry that a test runs as a child process (a
 * fixture worker, a lab) bundled with esbuild from the workspace's current
 * sources, once per test process, as the `foreman` binary is. Such a child
 * starts in about a second of CPU, where `node --import tsx`, transforming
 * each module as it loads, takes several.
 */
import { build } from "esbuild"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"

let outDir: string | undefined
const bundles = new Map<string, Promise<string>>()

/** The path of `entry`'s bundle (an `.mjs` file), built the first time it is asked for. */
export const bundled = (entry: string): Promise<string> => {
  const known = bundles.get(entry)
  if (known !== undefined) return known
  if (outDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "foreman-test-bundles-"))
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }))
    outDir = dir
  }
  const outfile = join(outDir, `${bundles.size}-${basename(entry).replace(/\.tsx?$/, "")}.mjs`)
  const made = build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    conditions: ["source"],
    logLevel: "warning",
    // Dependencies published as CommonJS call `require`, which an ES module does not have.
    banner: { js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);" }
  }).then(() => outfile)
  bundles.set(entry, made)
  return made
}
