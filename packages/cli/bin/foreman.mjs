#!/usr/bin/env node
// The `foreman` command: runs the bundle (dist/foreman.mjs). In the
// repository's workspace, the bundle is rebuilt first when a source file is
// newer than it (esbuild, about a second), so an edit is never run stale.
import { existsSync, readdirSync, statSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const bundle = join(here, "../dist/foreman.mjs")

const mtime = (path) => {
  try {
    return statSync(path).mtimeMs
  } catch {
    return -1
  }
}

/** The newest modification time under `dir` (0 when it does not exist). */
const newest = (dir) => {
  let latest = 0
  let entries = []
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const entry of entries) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : mtime(path))
  }
  return latest
}

/** Source folders of the workspace the bundle is built from (none in a published install). */
const sources = () => {
  const root = join(here, "../../..")
  if (!existsSync(join(here, "../build.mjs")) || !existsSync(join(root, "packages"))) return []
  return [...readdirSync(join(root, "packages")).map((name) => join(root, "packages", name, "src")), join(root, "examples/src")]
}

const built = mtime(bundle)
const stale = sources().some((dir) => newest(dir) > built)
if (built < 0 || stale) {
  const { bundle: build } = await import("../build.mjs")
  await build(bundle)
}
await import(bundle)
