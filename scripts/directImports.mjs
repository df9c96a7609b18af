// An esbuild plugin shared by the `foreman` binary's build (packages/cli/build.mjs) and the tests'
// bundles of child-process entries (@foreman/testing/Bundle): the workspace's imports from a
// barrel become imports of the modules that hold the names.
import { readFileSync } from "node:fs"
import { dirname } from "node:path"

/**
 * `import { Effect, Schema } from "effect"` in the workspace's sources becomes
 * `import * as Effect from ".../effect/dist/esm/Effect.js"` (and so on), for
 * every barrel that re-exports its modules (`export * as Effect from
 * "./Effect.js"`). The code is the same; the chunks are not: esbuild assigns
 * every module that a barrel names and that any chunk uses to the chunk of
 * all who import the barrel, so a client command that imports `effect` or
 * `@effect/platform` would load what only the server uses (the docs page of
 * HttpApiScalar alone is 3 MB) at every start. In a bundle of one file, a
 * module loaded on demand (`import()`, as the worker's push server is) would
 * keep whole every barrel it reaches.
 */
export const directImports = {
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
