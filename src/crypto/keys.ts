/**
 * Mint public keys decoded once and kept in the forms the hot paths consume, so unblinding and DLEQ
 * verification of a batch never re-parse or re-encode a key.
 *
 * A {@link KeyPoint} holds K compressed, −K (DLEQ verification computes s·G + e·(−K)), and K uncompressed
 * (NUT-12 hashes that form). Key points are public, so caching them leaks nothing.
 *
 * @module
 */
import type { Amount, KeysetKeys } from "../model/index.js"
import { getBackend } from "./backend.js"
import { invalidPoint, negateUnchecked, type PointInput, pointBytes } from "./backends/common.js"
import type { Secp256k1Backend } from "./backends/types.js"
import { bytesToHex } from "./bytes.js"

/** A validated mint public key with its derived encodings. */
export interface KeyPoint {
  /** Lowercase hex of the compressed key. */
  readonly hex: string
  /** K, 33 bytes compressed. */
  readonly bytes: Uint8Array
  /** −K, 33 bytes compressed. */
  readonly negated: Uint8Array
  /** K, 65 bytes uncompressed. */
  readonly uncompressed: Uint8Array
}

/** Enough for a handful of full keysets (64 keys each); old entries are evicted first. */
const CACHE_SIZE = 1024
const cache = new Map<string, KeyPoint>()

/**
 * Decodes and validates a mint public key (`invalid-point` otherwise). Results are cached by encoding, so
 * repeated calls for the same key (e.g. verifying every proof of a token) cost one map lookup.
 */
export const keyPoint = (key: PointInput, backend: Secp256k1Backend = getBackend()): KeyPoint => {
  const bytes = pointBytes(key, "key")
  const hex = typeof key === "string" ? key.toLowerCase() : bytesToHex(bytes)
  const hit = cache.get(hex)
  if (hit !== undefined) return hit
  if (!backend.isPoint(bytes)) throw invalidPoint("key")
  const kp: KeyPoint = {
    hex,
    bytes: typeof key === "string" ? bytes : bytes.slice(),
    negated: negateUnchecked(bytes),
    uncompressed: backend.uncompress(bytes),
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!)
  cache.set(hex, kp)
  return kp
}

/** A keyset's keys by amount, decoded on first use. */
export interface PreparedKeys {
  /** The key for `amount`, or `undefined` when the keyset has none. Fails with `invalid-point` for a bad key. */
  get(amount: Amount): KeyPoint | undefined
}

const prepared = new WeakMap<KeysetKeys, PreparedKeys>()

/**
 * The prepared view of `keys`, memoised per map object: a wallet that keeps its keyset object decodes each key
 * at most once for the life of that object. Keys are decoded lazily, so an unused bad key does not fail a batch
 * that never touches it (keyset validation is the protocol layer's job).
 */
export const prepareKeys = (keys: KeysetKeys, backend: Secp256k1Backend = getBackend()): PreparedKeys => {
  let p = prepared.get(keys)
  if (p === undefined) {
    const decoded = new Map<Amount, KeyPoint>()
    p = {
      get: (amount) => {
        let kp = decoded.get(amount)
        if (kp === undefined) {
          const hex = keys.get(amount)
          if (hex === undefined) return undefined
          kp = keyPoint(hex, backend)
          decoded.set(amount, kp)
        }
        return kp
      },
    }
    prepared.set(keys, p)
  }
  return p
}
