/**
 * The text of `foreman simulate --seeds …`: one line per violation (and per
 * crashed seed) with the command that replays its seed, printed as the seed
 * finishes, then the sweep's summary.
 */
import type { SeedSweep } from "@foreman/adapter-memory"
import { duration, usd } from "./format/text.js"

/** `seed 123: <violation> — replay: foreman simulate --seed 123 …`. */
export const violationLine = (seed: number, violation: string, replay: string): string =>
  `seed ${seed}: ${violation} — replay: ${replay}`

/** `seed 123 crashed: <message> — replay: …`: a run that died is a finding too. */
export const crashLine = (seed: number, message: string, replay: string): string =>
  `seed ${seed} crashed: ${message} — replay: ${replay}`

/** The lines a finished seed prints: its violations, or its crash; none when every invariant held. */
export const seedLines = (row: SeedSweep.SeedRow, replay: string): ReadonlyArray<string> =>
  row._tag === "Crashed"
    ? [crashLine(row.seed, row.message, replay)]
    : row.violations.map((violation) => violationLine(row.seed, violation, replay))

/** `1.4 s`, `950 ms`, or `12m 3s` from one minute on. */
const wall = (ms: number): string =>
  ms >= 60_000 ? duration(ms / 1000) : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`

/** `swept 1,234 of 10,000 seeds (3 with violations) in 22m 5s: 0.93 seeds/s, about 2h 57m to go`, on stderr while a sweep runs. */
export const progressLine = (done: number, planned: number, withFindings: number, elapsedMs: number): string => {
  const rate = elapsedMs === 0 ? 0 : done / (elapsedMs / 1000)
  const left = rate === 0 ? "" : `, about ${duration((planned - done) / rate)} to go`
  return `swept ${done.toLocaleString("en-US")} of ${planned.toLocaleString("en-US")} seeds ` +
    `(${withFindings.toLocaleString("en-US")} with violations or crashes) in ${wall(elapsedMs)}: ${rate.toFixed(2)} seeds/s${left}`
}

/**
 * The summary of a sweep. `command` is the command line that runs the sweep
 * again (`foreman simulate --seeds 1..1000 --researches 120 …`).
 */
export const summary = (s: SeedSweep.SweepSummary, command: string): string => {
  const o = s.outcomes
  const n = (x: number) => x.toLocaleString("en-US")
  const started = [
    `${n(s.seeds)} run`,
    `${n(s.seedsWithViolations)} with violations`,
    `${n(s.crashedSeeds)} crashed`,
    ...(s.notStarted > 0 ? [`${n(s.notStarted)} not started (time budget spent)`] : [])
  ]
  const verdict = s.seedsWithViolations + s.crashedSeeds === 0
    ? "all held"
    : [
      ...(s.seedsWithViolations > 0
        ? [`${plural(s.distinctViolations, "distinct violation")} in ${plural(s.seedsWithViolations, "seed")}`]
        : []),
      ...(s.crashedSeeds > 0 ? [`${plural(s.crashedSeeds, "seed")} crashed`] : [])
    ].join("; ")
  return [
    `Sweep:       ${command}`,
    `Seeds:       ${started.join(", ")}`,
    `Outcomes:    ${n(o.completed)} completed, ${n(o.failed)} failed, ${n(o.cancelled)} cancelled, ` +
    `${n(o.active)} still active, ${n(o.notTriggered)} not triggered`,
    `Events:      ${n(s.events)}; spent ${usd(s.spentUsd)} in all`,
    `Wall time:   ${wall(s.wallMs)} on ${plural(s.jobs, "job")} (${s.seedsPerSecond} seeds/s)`,
    `Invariants:  ${verdict}`
  ].join("\n")
}
