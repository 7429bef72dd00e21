/**
 * A small seeded PRNG for the simulations' decisions (which action, which wallet, when to kill): runs with the
 * same seed make the same choices; nothing secret comes from it.
 *
 * @module
 */

/** mulberry32: a uniform float in [0, 1) per call. */
export const prng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Helpers over one PRNG. */
export interface Dice {
  /** Uniform float in [0, 1). */
  readonly random: () => number
  /** One element of `xs` (non-empty). */
  readonly pick: <T>(xs: ReadonlyArray<T>) => T
  /** An integer in [lo, hi]. */
  readonly int: (lo: number, hi: number) => number
}

export const dice = (seed: number): Dice => {
  const random = prng(seed)
  return {
    random,
    pick: <T>(xs: ReadonlyArray<T>): T => xs[Math.floor(random() * xs.length)]!,
    int: (lo, hi) => lo + Math.floor(random() * (hi - lo + 1)),
  }
}
