/** Identifier generation from the `Random` service (so simulations replay). */
import { Effect, Random } from "effect"
import type { JobId, ResearchId } from "../Domain.js"

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0")

const randomSuffix: Effect.Effect<string> = Effect.map(
  Effect.all([Random.nextIntBetween(0, 0x10000000), Random.nextIntBetween(0, 0x10000000)]),
  ([a, b]) => hex(a, 7) + hex(b, 7)
)

export const researchId: Effect.Effect<ResearchId> = Effect.map(randomSuffix, (s) => `op_${s}` as ResearchId)
export const jobId: Effect.Effect<JobId> = Effect.map(randomSuffix, (s) => `job_${s}` as JobId)
