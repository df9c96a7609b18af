#!/usr/bin/env node
// The `foreman` command. Runs the bundle (dist/foreman.mjs, made by
// `npm run build -w @foreman/cli`, which `npm install` runs) when no source
// file is newer than it; otherwise the TypeScript sources through tsx, so an
// edit is never run stale. The bundle starts in well under a second.
import { readdirSync, statSync } from "node:fs"
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

/** Source folders of the workspace the bundle is built from (absent in a published install). */
const sources = () => {
  const root = join(here, "../../..")
  const packages = join(root, "packages")
  let names = []
  try {
    names = readdirSync(packages)
  } catch {
    return []
  }
  return [...names.map((name) => join(packages, name, "src")), join(root, "examples/src")]
}

const built = mtime(bundle)
if (built > 0 && sources().every((dir) => newest(dir) <= built)) {
  await import(bundle)
} else {
  const { register } = await import("tsx/esm/api")
  register()
  await import("../src/main.ts")
}
