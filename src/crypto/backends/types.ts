/**
 * The contract every secp256k1 implementation meets. In its own module so that the implementations
 * (`./native.ts`, `./wasm.ts`, `./noble.ts`) and the selector that loads them (`../backend.ts`) both depend on
 * it, and not on each other.
 *
 * @module
 */

/** Names of the implementations. */
export type BackendName = "native" | "wasm" | "noble"

/**
 * Group operations on secp256k1. Points are 33-byte compressed SEC1 encodings, scalars 32-byte big-endian
 * integers in [1, n−1]; results are fresh arrays. Every failure is a tagged `CryptoError`:
 * `invalid-point` (wrong length/prefix, not on the curve), `invalid-scalar` (wrong length, zero, ≥ n),
 * `point-at-infinity` (a sum cancelled out).
 *
 * Which scalars may be secret is part of the contract: `mulBase` and `mul` are constant-time in `k` (blinding
 * factors, mint keys, DLEQ nonces); `mulPublic` and `mulAddPublic` may be variable-time and must only see public
 * scalars (DLEQ `e` and `s`).
 */
export interface Secp256k1Backend {
  readonly name: BackendName
  /** True when `p` is a compressed encoding of a point on the curve. Never throws. */
  isPoint(p: Uint8Array): boolean
  /** k·G, constant-time in `k`. */
  mulBase(k: Uint8Array): Uint8Array
  /** k·P, constant-time in `k`. */
  mul(p: Uint8Array, k: Uint8Array): Uint8Array
  /** k·P for a PUBLIC `k`; may be variable-time. */
  mulPublic(p: Uint8Array, k: Uint8Array): Uint8Array
  /**
   * a·P + b·Q (P = G when `p` is null) for PUBLIC scalars, as the 65-byte UNCOMPRESSED encoding — its only use
   * is NUT-12, which hashes that form, so returning it saves a conversion per point.
   */
  mulAddPublic(p: Uint8Array | null, a: Uint8Array, q: Uint8Array, b: Uint8Array): Uint8Array
  /** P + Q. */
  add(p: Uint8Array, q: Uint8Array): Uint8Array
  /** P − Q. */
  sub(p: Uint8Array, q: Uint8Array): Uint8Array
  /** −P. */
  negate(p: Uint8Array): Uint8Array
  /** The 65-byte uncompressed encoding (`04 || x || y`) of P. */
  uncompress(p: Uint8Array): Uint8Array
  /**
   * BIP340 verification of a 64-byte `signature` over a 32-byte `digest` by a 32-byte x-only key. Every input is
   * public (variable-time is fine). Malformed input is simply `false`: this never throws. Used by NUT-11/14
   * spending conditions, where a witness may ask for many checks.
   */
  verifySchnorr(signature: Uint8Array, digest: Uint8Array, xOnlyKey: Uint8Array): boolean
}
