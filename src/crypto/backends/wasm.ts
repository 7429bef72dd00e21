/**
 * The WebAssembly secp256k1 backend: libsecp256k1 compiled to WASM by `tiny-secp256k1`.
 *
 * Constant-time map: `mulBase` is libsecp256k1's constant-time generator multiplication (`pointFromScalar`).
 * `tiny-secp256k1` offers no constant-time VARIABLE-base multiplication — its `pointMultiply` is
 * `secp256k1_ec_pubkey_tweak_mul`, i.e. the variable-time `secp256k1_ecmult` (measurably faster for sparse
 * scalars) — so `mul` (secret scalars: unblinding factor r, mint key k) runs on noble's constant-time ladder,
 * and `pointMultiply` serves only `mulPublic` / `mulAddPublic`.
 *
 * Loaded lazily through `createRequire` (the CommonJS build instantiates the module synchronously), and checked
 * against a known answer before use; any failure means "wasm unavailable".
 *
 * @module
 */
import { createRequire } from "node:module"
import { bytesToHex } from "../bytes.js"
import { assertPointShape, assertScalar, atInfinity, invalidPoint, negateUnchecked } from "./common.js"
import { nobleMulConstantTime } from "./noble.js"
import type { Secp256k1Backend } from "./types.js"

/** The part of `tiny-secp256k1` this backend uses. */
interface Tiny {
  isPointCompressed(p: Uint8Array): boolean
  pointFromScalar(d: Uint8Array, compressed?: boolean): Uint8Array | null
  pointMultiply(p: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array | null
  pointAdd(a: Uint8Array, b: Uint8Array, compressed?: boolean): Uint8Array | null
  pointAddScalar(p: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array | null
  pointCompress(p: Uint8Array, compressed?: boolean): Uint8Array
  verifySchnorr(h: Uint8Array, Q: Uint8Array, signature: Uint8Array): boolean
}

/** BIP340 verification through libsecp256k1 (~6× faster than noble here); `false` for malformed input. */
const schnorrVerifier =
  (t: Tiny) =>
  (signature: Uint8Array, digest: Uint8Array, xOnlyKey: Uint8Array): boolean => {
    if (signature.length !== 64 || digest.length !== 32 || xOnlyKey.length !== 32) return false
    try {
      // tiny-secp256k1 throws when the key's x is not on the curve; that is an invalid signature here.
      return t.verifySchnorr(digest, xOnlyKey, signature)
    } catch {
      return false
    }
  }

/** G, compressed: the known answer for 1·G. */
const G_HEX = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"

const create = (t: Tiny): Secp256k1Backend => {
  // Inputs are shape-checked first, so a throw from the WASM side can only mean "not on the curve"; a null result
  // means the output was the point at infinity (scalars were range-checked before the call).
  const call = <T>(f: () => T | null): T => {
    let r: T | null
    try {
      r = f()
    } catch {
      throw invalidPoint()
    }
    if (r === null) throw atInfinity()
    return r
  }
  const add = (p: Uint8Array, q: Uint8Array): Uint8Array => {
    assertPointShape(p)
    assertPointShape(q)
    return call(() => t.pointAdd(p, q, true))
  }
  return {
    name: "wasm",
    isPoint: (p) =>
      p instanceof Uint8Array && p.length === 33 && (p[0] === 2 || p[0] === 3) && t.isPointCompressed(p),
    mulBase: (k) => {
      assertScalar(k)
      return call(() => t.pointFromScalar(k, true))
    },
    mul: nobleMulConstantTime,
    mulPublic: (p, k) => {
      assertPointShape(p)
      assertScalar(k)
      return call(() => t.pointMultiply(p, k, true))
    },
    mulAddPublic: (p, a, q, b) => {
      assertScalar(a)
      assertScalar(b)
      assertPointShape(q)
      if (p === null) {
        // b·Q + a·G in two calls: libsecp256k1's tweak-add folds a·G into one ecmult.
        const bq = call(() => t.pointMultiply(q, b, true))
        return call(() => t.pointAddScalar(bq, a, false))
      }
      assertPointShape(p)
      const ap = call(() => t.pointMultiply(p, a, true))
      const bq = call(() => t.pointMultiply(q, b, true))
      return call(() => t.pointAdd(ap, bq, false))
    },
    add,
    sub: (p, q) => {
      assertPointShape(q)
      return add(p, negateUnchecked(q))
    },
    negate: (p) => {
      assertPointShape(p)
      if (!t.isPointCompressed(p)) throw invalidPoint()
      return negateUnchecked(p)
    },
    uncompress: (p) => {
      assertPointShape(p)
      return call(() => t.pointCompress(p, false))
    },
    verifySchnorr: schnorrVerifier(t),
  }
}

const loadTiny = (): Tiny | null => {
  try {
    const t = createRequire(import.meta.url)("tiny-secp256k1") as Tiny
    const one = new Uint8Array(32)
    one[31] = 1
    const g = t.pointFromScalar(one, true)
    if (g === null || bytesToHex(g) !== G_HEX) return null
    return t
  } catch {
    return null
  }
}

/** Loads the `wasm` backend, or returns null when `tiny-secp256k1` is missing or misbehaves. Never throws. */
export const loadWasmBackend = (): Secp256k1Backend | null => {
  const t = loadTiny()
  return t === null ? null : create(t)
}

/**
 * libsecp256k1's BIP340 verification through WASM, or null when `tiny-secp256k1` does not load. The native
 * binding (`secp256k1` 5.x) exposes no Schnorr functions, so the `native` backend verifies with this too.
 */
export const loadWasmSchnorrVerify = (): Secp256k1Backend["verifySchnorr"] | null => {
  const t = loadTiny()
  return t === null ? null : schnorrVerifier(t)
}
