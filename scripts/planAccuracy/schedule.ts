/**
 * When the researches of a plan-accuracy run arrive: a Poisson process drawn
 * from a seed (exponential gaps of a given mean), as offsets from the run's
 * start. The second run replays the same offsets, so both runs see the same
 * arrivals and differ only by their workers.
 */
import { Rng } from "../../chaos/lib/rng.js"

/**
 * `count` arrival offsets in milliseconds, the first at 0, then gaps drawn from
 * an exponential distribution of mean `meanGapMs` (rounded to whole
 * milliseconds). The same seed gives the same offsets.
 */
export const arrivalOffsets = (seed: number, count: number, meanGapMs: number): ReadonlyArray<number> => {
  if (!Number.isInteger(count) || count < 1) throw new Error(`an arrival schedule needs at least one arrival, got ${count}`)
  if (!(meanGapMs > 0)) throw new Error(`the mean gap between arrivals must be positive, got ${meanGapMs}`)
  const rng = Rng.derive(seed, "plan-accuracy arrivals")
  const offsets: Array<number> = [0]
  let at = 0
  for (let i = 1; i < count; i++) {
    // 1 − u lies in (0, 1], so the logarithm is finite.
    at += -Math.log(1 - rng.next()) * meanGapMs
    offsets.push(Math.round(at))
  }
  return offsets
}
