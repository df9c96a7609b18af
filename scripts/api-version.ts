/**
 * Writes `@foreman/api`'s version, as its package.json says, to
 * `packages/api/src/internal/version.ts` (the OpenAPI document's
 * `info.version`). The package's `version` script runs it, so
 * `npm version <new> -w @foreman/api` keeps the two together.
 */
import { readFileSync, writeFileSync } from "node:fs"

const manifest = new URL("../packages/api/package.json", import.meta.url)
const out = new URL("../packages/api/src/internal/version.ts", import.meta.url)
const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version: string }
writeFileSync(
  out,
  `/** This package's version, from its package.json (written by scripts/api-version.ts: do not edit). */\n` +
    `export const version = ${JSON.stringify(version)}\n`
)
