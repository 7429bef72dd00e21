/** Shared benchmark fixtures. */

/** A deterministic lowercase hex string of `bytes` bytes derived from `seed` (cheap, not random). */
export const hex = (seed: number, bytes: number): string => {
  let out = ""
  let x = (seed * 2654435761) >>> 0
  while (out.length < bytes * 2) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0
    out += x.toString(16).padStart(8, "0")
  }
  // Flat, as strings parsed from JSON or hex-encoded are: a concatenated (cons) string is flattened on its
  // first character scan, which would bill the benchmark's fixture building to the code under test.
  return flat(out.slice(0, bytes * 2))
}

/** `s` as a flat (sequential) string. */
export const flat = (s: string): string => JSON.parse(JSON.stringify(s)) as string
