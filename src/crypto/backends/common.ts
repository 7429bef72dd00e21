/**
 * The input contract every secp256k1 backend enforces before it touches a library, and the mapping of library
 * failures to tagged {@link CryptoError}s.
 *
 * Checking encodings here (length, prefix, scalar range) instead of parsing library error strings keeps the
 * error reasons identical across backends: the differential tests rely on that.
 *
 * @module
 */
import { CryptoError } from "../../model/index.js"
import { hexToBytesOrUndefined } from "../bytes.js"

/** The group order n of secp256k1, big-endian. */
const N_BYTES = Uint8Array.from([
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae,
  0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
])

/** True when `k` is a 32-byte big-endian integer in [1, n−1]. Data-independent apart from the first byte that
 * differs from n, which only ever separates "≥ n" (probability 2⁻¹²⁸ for random keys) from the rest. */
export const isValidScalar = (k: Uint8Array): boolean => {
  if (k.length !== 32) return false
  let nonzero = 0
  for (let i = 0; i < 32; i++) nonzero |= k[i]!
  if (nonzero === 0) return false
  for (let i = 0; i < 32; i++) {
    const a = k[i]!
    const b = N_BYTES[i]!
    if (a !== b) return a < b
  }
  return false // k == n
}

/** Throws `invalid-scalar` unless `k` is a 32-byte scalar in [1, n−1]. The message names only `what`. */
export const assertScalar = (k: Uint8Array, what = "scalar"): void => {
  if (!(k instanceof Uint8Array) || !isValidScalar(k))
    throw new CryptoError({ reason: "invalid-scalar", message: `${what} must be 32 bytes in [1, n-1]` })
}

/** Throws `invalid-point` unless `p` has the shape of a compressed SEC1 point (33 bytes, prefix 02/03).
 * Whether it is on the curve is left to the backend's parser. */
export const assertPointShape = (p: Uint8Array, what = "point"): void => {
  if (!(p instanceof Uint8Array) || p.length !== 33 || (p[0] !== 2 && p[0] !== 3)) throw invalidPoint(what)
}

/** The `invalid-point` error. */
export const invalidPoint = (what = "point"): CryptoError =>
  new CryptoError({ reason: "invalid-point", message: `${what} is not a valid compressed secp256k1 point` })

/** The `point-at-infinity` error. */
export const atInfinity = (what = "result"): CryptoError =>
  new CryptoError({ reason: "point-at-infinity", message: `${what} is the point at infinity` })

/**
 * −P for a compressed point by flipping the parity prefix (−(x, y) = (x, p − y), and p − y has the other
 * parity). The result is a valid point exactly when `p` is, so callers that parse the result anyway skip a check.
 */
export const negateUnchecked = (p: Uint8Array): Uint8Array => {
  const out = p.slice()
  out[0] = p[0] === 2 ? 3 : 2
  return out
}

/** A point as the public functions accept it: 33 compressed bytes, or their 66-character hex. */
export type PointInput = Uint8Array | string

/** A scalar as the public functions accept it: 32 big-endian bytes, or their 64-character hex. */
export type ScalarInput = Uint8Array | string

/** Normalises a point input to bytes, checking only its shape (`invalid-point`); the curve check is the backend's. */
export const pointBytes = (p: PointInput, what = "point"): Uint8Array => {
  const b = typeof p === "string" ? hexToBytesOrUndefined(p) : p
  if (b === undefined) throw invalidPoint(what)
  assertPointShape(b, what)
  return b
}

/** Normalises a scalar input to bytes and checks it is in [1, n−1] (`invalid-scalar`). */
export const scalarBytes = (k: ScalarInput, what = "scalar"): Uint8Array => {
  const b = typeof k === "string" ? hexToBytesOrUndefined(k) : k
  if (b === undefined)
    throw new CryptoError({ reason: "invalid-scalar", message: `${what} must be 32 bytes in [1, n-1]` })
  assertScalar(b, what)
  return b
}
