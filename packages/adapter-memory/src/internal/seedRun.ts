/**
 * One seed of a sweep: `Simulation.run` of the sweep's settings with that
 * seed, reduced to the row a sweep reports. Runs the same in the sweep's own
 * thread and in a worker thread, so a seed's row does not depend on where it ran.
 */
import { Cause, Duration, Effect, Exit } from "effect"
import * as Simulation from "../Simulation.js"
import type { SimulationSpec } from "../SimulationOptions.js"
import type { SimulationReport } from "../SimulationReport.js"

/** A seed that ran: its outcomes, the invariant violations it found (none when all held), and its trace. */
export interface SeedRan {
  readonly _tag: "Ran"
  readonly seed: number
  readonly outcomes: SimulationReport["outcomes"]
  readonly violations: ReadonlyArray<string>
  readonly traceHash: string
  readonly spentUsd: number
  readonly events: number
  readonly simulatedSeconds: number
  /** Real time the run took, in its thread. */
  readonly wallMs: number
}

/** A seed whose run died (an exception in the simulator, or its thread ended): what it said. */
export interface SeedCrashed {
  readonly _tag: "Crashed"
  readonly seed: number
  readonly message: string
  readonly wallMs: number
}

/** What one seed of a sweep gave. */
export type SeedRow = SeedRan | SeedCrashed

/** The first line of a defect's message (an exception's message, or the cause's pretty form). */
const messageOf = (cause: Cause.Cause<unknown>): string => {
  const defect = Cause.squash(cause)
  const text = defect instanceof Error ? defect.message : Cause.pretty(cause)
  return text.split("\n")[0] ?? "unknown failure"
}

/** Runs `seed` with `spec`; a run that dies (a bug, or settings that disagree) is a `Crashed` row, never a failure. */
export const runSeed = (spec: SimulationSpec, seed: number): Effect.Effect<SeedRow> =>
  Effect.map(Effect.timed(Effect.exit(Simulation.run({ ...spec, seed }))), ([elapsed, exit]): SeedRow => {
    const wallMs = Math.round(Duration.toMillis(elapsed))
    if (Exit.isFailure(exit)) return { _tag: "Crashed", seed, message: messageOf(exit.cause), wallMs }
    const report = exit.value
    return {
      _tag: "Ran",
      seed,
      outcomes: report.outcomes,
      violations: report.invariantViolations,
      traceHash: report.traceHash,
      spentUsd: report.spentUsd,
      events: report.events,
      simulatedSeconds: report.simulatedSeconds,
      wallMs
    }
  })
