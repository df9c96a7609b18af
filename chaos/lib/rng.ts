/**
 * The chaos suite's seeded generator, so every random choice of a chaos run —
 * kill moments, which process, fuzz requests — comes from the seed and the run
 * can be replayed. It draws from the repository's one PRNG (sfc32, in
 * `@foreman/examples/seededRandom`), its state seeded through splitmix32.
 */
import { hashSeed, sfc32 } from "@foreman/examples/seededRandom"

const splitmix32 = (state: number) => () => {
  state = (state + 0x9e3779b9) | 0
  let z = state
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

/** A 32-bit FNV-1a hash of a string (to derive one seed per scenario). */
export const hash32 = hashSeed

export class Rng {
  /** The next unsigned 32-bit output. */
  readonly uint32: () => number

  constructor(seed: number) {
    const next = splitmix32(seed >>> 0)
    this.uint32 = sfc32(next(), next(), next(), next(), 12)
  }

  /** A generator for one purpose, derived from this seed and a label, independent of other draws. */
  static derive(seed: number, label: string): Rng {
    return new Rng((seed ^ hash32(label)) >>> 0)
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** A float in [min, max). */
  float(min: number, max: number): number {
    return min + this.next() * (max - min)
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<A>(items: ReadonlyArray<A>): A {
    if (items.length === 0) throw new Error("pick from an empty list")
    return items[Math.floor(this.next() * items.length)]!
  }

  shuffle<A>(items: ReadonlyArray<A>): Array<A> {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      const tmp = out[i]!
      out[i] = out[j]!
      out[j] = tmp
    }
    return out
  }
}
