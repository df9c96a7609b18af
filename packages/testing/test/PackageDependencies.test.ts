/**
 * Each published package depends on what its published code imports, and on
 * nothing else: a package its `src` imports (or resolves by name) is in
 * `dependencies` or `peerDependencies`, and each of those is imported by `src`
 * or answers a peer dependency of a package `src` imports (`@effect/sql`'s
 * `@effect/experimental`). What only tests, benches and examples use belongs
 * in `devDependencies`. A bundled package (the CLI: a `build.mjs` bundles its
 * `src`) depends on exactly what its bundle leaves outside (`external`).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { builtinModules } from "node:module"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const packagesDir = fileURLToPath(new URL("../..", import.meta.url))
const nodeModules = fileURLToPath(new URL("../../../node_modules", import.meta.url))

interface Manifest {
  readonly name: string
  readonly private?: boolean
  readonly dependencies?: Readonly<Record<string, string>>
  readonly peerDependencies?: Readonly<Record<string, string>>
}

const readJson = <A>(path: string): A => JSON.parse(readFileSync(path, "utf8")) as A

const sourceFiles = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : /\.(ts|tsx|mts|mjs|js)$/.test(entry.name)
      ? [join(dir, entry.name)]
      : []
  )

/** `import … from "x"`, `export … from "x"`, `import "x"`, `import("x")` and `….resolve("x")`. */
const specifiers = (source: string): ReadonlyArray<string> => {
  const patterns = [
    /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
    /(?:\brequire|\bimport\.meta|\))\.resolve\(\s*["']([^"']+)["']/g
  ]
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1]!))
}

/** The package a bare specifier names (`@effect/platform/HttpApi` → `@effect/platform`); null for files and built-ins. */
const packageOf = (specifier: string): string | null => {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) return null
  const parts = specifier.split("/")
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!
  return builtinModules.includes(name) ? null : name
}

const importedBy = (dir: string): ReadonlySet<string> =>
  new Set(
    sourceFiles(dir).flatMap((file) => specifiers(readFileSync(file, "utf8")).flatMap((s) => packageOf(s) ?? []))
  )

const peersOf = (name: string): ReadonlyArray<string> => {
  const path = join(nodeModules, name, "package.json")
  return existsSync(path) ? Object.keys(readJson<Manifest>(path).peerDependencies ?? {}) : []
}

/** The packages `build.mjs` leaves out of the bundle. */
const externalsOf = (buildScript: string): ReadonlyArray<string> => {
  const list = /external:\s*\[([^\]]*)\]/.exec(readFileSync(buildScript, "utf8"))?.[1] ?? ""
  return [...list.matchAll(/["']([^"']+)["']/g)].map((match) => match[1]!)
}

/**
 * Left out of the CLI's bundle but never installed: the optional native
 * binding a bundled PostgreSQL driver tries to load and does without.
 */
const optionalExternals = new Set(["pg-native"])

const published = readdirSync(packagesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(packagesDir, entry.name, "package.json")))
  .map((entry) => ({ dir: join(packagesDir, entry.name), manifest: readJson<Manifest>(join(packagesDir, entry.name, "package.json")) }))
  .filter(({ manifest }) => manifest.private !== true)

/** What is wrong with a package's `dependencies` and `peerDependencies`, one line a problem. */
const problemsOf = (
  manifest: Manifest,
  imported: ReadonlySet<string>,
  peersOfImported: (name: string) => ReadonlyArray<string>
): ReadonlyArray<string> => {
  const dependencies = Object.keys(manifest.dependencies ?? {})
  const peers = Object.keys(manifest.peerDependencies ?? {})
  const declared = new Set([...dependencies, ...peers, manifest.name])
  const needed = new Set([...imported, ...[...imported].flatMap(peersOfImported)])
  return [
    ...[...imported].filter((name) => !declared.has(name)).map((name) => `src imports ${name}, which it does not depend on`),
    ...dependencies.filter((name) => !needed.has(name)).map((name) =>
      `dependencies lists ${name}, which src never imports (a devDependency?)`
    ),
    ...peers.filter((name) => !needed.has(name)).map((name) => `peerDependencies lists ${name}, which src never imports`)
  ]
}

describe("package dependencies", () => {
  it("finds the published packages", () => {
    expect(published.map(({ manifest }) => manifest.name)).toContain("@foreman/server")
  })

  for (const { dir, manifest } of published) {
    const buildScript = join(dir, "build.mjs")
    if (existsSync(buildScript)) {
      it(`${manifest.name} (bundled) depends on exactly what its bundle leaves outside`, () => {
        const externals = externalsOf(buildScript)
        const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})])
        expect([
          ...Object.keys(manifest.dependencies ?? {}).filter((name) => !externals.includes(name)).map((name) =>
            `dependencies lists ${name}, which the bundle holds (a devDependency)`
          ),
          ...externals.filter((name) => !declared.has(name) && !optionalExternals.has(name)).map((name) =>
            `the bundle imports ${name} from outside, which it does not depend on`
          )
        ]).toEqual([])
      })
    } else {
      it(`${manifest.name} depends on what its src imports, and only that`, () => {
        expect(problemsOf(manifest, importedBy(join(dir, "src")), peersOf)).toEqual([])
      })
    }
  }

  it("says what is wrong, both ways", () => {
    const manifest = { name: "@foreman/probe", dependencies: { "@foreman/core": "0.1.0", "@foreman/agents": "0.1.0" }, peerDependencies: { effect: "^3" } }
    expect(problemsOf(manifest, new Set(["@foreman/core", "effect", "@foreman/api"]), () => [])).toEqual([
      "src imports @foreman/api, which it does not depend on",
      "dependencies lists @foreman/agents, which src never imports (a devDependency?)"
    ])
    expect(problemsOf({ ...manifest, dependencies: { "@foreman/core": "0.1.0" } }, new Set(["@foreman/core", "@foreman/api"]), (name) =>
      name === "@foreman/core" ? ["effect"] : []
    )).toEqual(["src imports @foreman/api, which it does not depend on"])
    expect(specifiers(`import type { A } from "a/b"\nexport * from "./c.js"\nconst x = await import("d")\ncreateRequire(import.meta.url).resolve("e")`))
      .toEqual(["a/b", "./c.js", "d", "e"])
    expect([packageOf("@effect/platform/HttpApi"), packageOf("node:fs"), packageOf("fs"), packageOf("./x.js")])
      .toEqual(["@effect/platform", null, null, null])
  })
})
