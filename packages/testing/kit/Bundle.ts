/**
 * Test helper: a TypeScript entry that a test runs as a child process (a
 * fixture worker, a lab, a docs snippet) bundled with esbuild from the
 * workspace's current sources, as the `foreman` binary is (one file, no
 * chunks). Such a child starts in a fraction of a second of CPU (a pull
 * worker registers after ~0.25 CPU-s), where `node --import tsx`,
 * transforming each module as it loads, takes several.
 */
import { build } from "esbuild"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { directImports } from "../../../scripts/directImports.mjs"

let outDir: string | undefined
let built = 0
const bundles = new Map<string, Promise<string>>()

/** Bundles `entry` now (an `.mjs` file in a directory removed when the process exits); answers its path. */
export const bundle = async (entry: string): Promise<string> => {
  if (outDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "foreman-test-bundles-"))
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }))
    outDir = dir
  }
  const outfile = join(outDir, `${++built}-${basename(entry).replace(/\.[cm]?tsx?$/, "")}.mjs`)
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    conditions: ["source"],
    logLevel: "warning",
    // As the `foreman` binary is built: only the modules of a barrel that the entry uses.
    plugins: [directImports],
    // Dependencies published as CommonJS call `require`, which an ES module does not have.
    banner: { js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);" }
  })
  return outfile
}

/** The path of `entry`'s bundle, built the first time it is asked for (an entry that does not change). */
export const bundled = (entry: string): Promise<string> => {
  const known = bundles.get(entry)
  if (known !== undefined) return known
  const made = bundle(entry)
  bundles.set(entry, made)
  return made
}
