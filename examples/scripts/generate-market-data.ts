/**
 * Writes the synthetic daily bars of every example instrument to
 * `examples/data/<INSTRUMENT>.csv`. The data is NOT real: see
 * `examples/src/syntheticMarket.ts` for the model. Same seed, same bytes.
 *
 *   npx tsx examples/scripts/generate-market-data.ts [seed]
 */
import { writeFileSync } from "node:fs"
import { DEFAULT_SEED, generateAll } from "../src/syntheticMarket.js"

const seed = process.argv[2] === undefined ? DEFAULT_SEED : Number(process.argv[2])
if (!Number.isInteger(seed)) throw new Error(`the seed must be an integer, got ${process.argv[2]}`)

for (const { file, csv } of generateAll(seed)) {
  const url = new URL(`../data/${file}`, import.meta.url)
  writeFileSync(url, csv)
  console.log(`wrote ${url.pathname} (${csv.split("\n").length - 5} bars)`)
}
