/**
 * Loads the synthetic daily bars shipped in `examples/data/` (one CSV per
 * instrument, `#` lines are comments). The folder is found through the
 * package (`@foreman/examples/data/…`), so the workers run from any working
 * directory and from the bundled `foreman` command.
 */
import { Effect } from "effect"
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import type { Bar } from "./syntheticMarket.js"
import { instruments } from "./syntheticMarket.js"

export type { Bar } from "./syntheticMarket.js"

/** The names of the instruments with shipped data. */
export const instrumentNames: ReadonlyArray<string> = instruments.map((i) => i.name)

/** Parses the CSV text of one instrument; fails with a message naming the bad line. */
export const parseCsv = (text: string, source: string): Effect.Effect<ReadonlyArray<Bar>, string> =>
  Effect.suspend(() => {
    const bars: Array<Bar> = []
    const lines = text.split("\n")
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim()
      if (line === "" || line.startsWith("#") || line.startsWith("date,")) continue
      const [date, ...fields] = line.split(",")
      const [open, high, low, close, volume] = fields.map(Number)
      if (
        date === undefined || fields.length !== 5 || open === undefined || high === undefined || low === undefined ||
        close === undefined || volume === undefined || ![open, high, low, close, volume].every(Number.isFinite)
      ) {
        return Effect.fail(`${source}: line ${i + 1} is not "date,open,high,low,close,volume"`)
      }
      bars.push({ date, open, high, low, close, volume })
    }
    return bars.length === 0 ? Effect.fail(`${source}: no bars`) : Effect.succeed(bars)
  })

/** The daily bars of a shipped instrument, oldest first. */
export const load = (instrument: string): Effect.Effect<ReadonlyArray<Bar>, string> =>
  Effect.gen(function*() {
    if (!instrumentNames.includes(instrument)) {
      return yield* Effect.fail(
        `unknown instrument "${instrument}": the example workers ship data for ${instrumentNames.join(", ")}`
      )
    }
    const path = yield* Effect.try({
      try: () => createRequire(import.meta.url).resolve(`@foreman/examples/data/${instrument}.csv`),
      catch: (e) => `cannot find the market data of ${instrument}: ${String(e)}`
    })
    const text = yield* Effect.tryPromise({
      try: () => readFile(path, "utf8"),
      catch: (e) => `cannot read the market data of ${instrument} (${path}): ${String(e)}`
    })
    return yield* parseCsv(text, `${instrument}.csv`)
  })
