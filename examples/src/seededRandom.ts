/**
 * A small seeded pseudo-random generator (sfc32) for the example workers and
 * the market-data script. Worker code is plain synchronous math, so it does
 * not go through Effect's `Random` service; determinism comes from the seed,
 * which is derived from the job's input.
 */

/** A stream of uniform numbers in [0, 1) and standard normal draws. */
export interface SeededRandom {
  readonly next: () => number
  readonly normal: () => number
  /** An integer in [0, n). */
  readonly int: (n: number) => number
}

/** FNV-1a 32-bit hash of a string: a stable seed from text (a strategy, an instrument name). */
export const hashSeed = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** A generator seeded by a 32-bit integer; the same seed always yields the same stream. */
export const make = (seed: number): SeededRandom => {
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed >>> 0
  const next = (): number => {
    a >>>= 0
    b >>>= 0
    c >>>= 0
    d >>>= 0
    const t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    const r = (t + d) | 0
    c = (c + r) | 0
    return (r >>> 0) / 4294967296
  }
  for (let i = 0; i < 15; i++) next()
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
