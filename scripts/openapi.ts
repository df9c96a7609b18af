/**
 * Writes the coordinator's OpenAPI document (the one the server answers at
 * `/openapi.json`) to the file given as the first argument, for
 * `npm run lint:openapi`. Run with `tsx --conditions=source`.
 */
import { OpenApi } from "@effect/platform"
import { ForemanApi } from "@foreman/api/Api"
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"

const [out] = process.argv.slice(2)
if (out === undefined) {
  console.error("usage: tsx --conditions=source scripts/openapi.ts <output.json>")
  process.exit(2)
}
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, `${JSON.stringify(OpenApi.fromApi(ForemanApi), null, 2)}\n`)
