/**
 * The repository's one small seeded pseudo-random generator (sfc32), for plain
 * synchronous code that does not go through Effect's `Random` service: the
 * example workers and the market-data script (seeded from the job's input)
 * and the chaos suite (`chaos/lib/rng.ts`, seeded through splitmix32).
 * Determinism comes from the seed; a seed always yields the same stream.
 */

/** A stream of uniform numbers in [0, 1) and standard normal draws. */
export interface SeededRandom {
  readonly next: () => number
  readonly normal: () => number
  /** An integer in [0, n). */
  readonly int: (n: number) => number
}

/** FNV-1a 32-bit hash of a string: a stable seed from text (a strategy, an instrument name, a scenario). */
export const hashSeed = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * sfc32 from its four 32-bit words of state: each call answers the next
 * unsigned 32-bit output. The first `skip` outputs are drawn and dropped to
 * mix the state.
 */
export const sfc32 = (a: number, b: number, c: number, d: number, skip = 0): () => number => {
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < skip; i++) next()
  return next
}

/** A generator seeded by a 32-bit integer; the same seed always yields the same stream. */
export const make = (seed: number): SeededRandom => {
  // Three fixed words (the digits of φ, π and e) and the seed, one past it; 15 outputs dropped.
  const uint32 = sfc32(0x9e3779b9, 0x243f6a88, 0xb7e15162, ((seed >>> 0) + 1) | 0, 15)
  const next = (): number => uint32() / 4294967296
  let spare: number | null = null
  const normal = (): number => {
    if (spare !== null) {
      const s = spare
      spare = null
      return s
    }
    // Box–Muller; 1 - next() keeps the logarithm finite.
    const u = 1 - next()
    const v = next()
    const radius = Math.sqrt(-2 * Math.log(u))
    spare = radius * Math.sin(2 * Math.PI * v)
    return radius * Math.cos(2 * Math.PI * v)
  }
  return { next, normal, int: (n) => Math.floor(next() * n) }
}
