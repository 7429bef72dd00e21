/**
 * The pure-TypeScript secp256k1 backend on `@noble/curves`: always available, and the oracle the faster backends
 * are differentially tested against.
 *
 * Fast paths used, and why each is legal:
 * - `mulBase`: noble's precomputed base-point table inside its constant-time `multiply`.
 * - `mul`: constant-time `multiply`; a point used as a multiplier base more than once (in practice a mint key
 *   during unblinding) gets a small precomputed window table, kept in a bounded cache keyed by its encoding.
 *   Tables change only speed, not the constant-time ladder.
 * - `mulPublic` / `mulAddPublic`: `multiplyUnsafe` / Strauss–Shamir `mulAddUnsafe` — variable-time, so public
 *   scalars only.
 *
 * "Constant-time" here is noble's guarantee: the same sequence of operations for every scalar; JavaScript BigInt
 * arithmetic itself gives no hardware-level promise.
 *
 * @module
 */
import type { WeierstrassPoint } from "@noble/curves/abstract/weierstrass.js"
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js"
import { bytesToNumberBE } from "@noble/curves/utils.js"
import { bytesToHex } from "../bytes.js"
import { assertPointShape, assertScalar, atInfinity, invalidPoint } from "./common.js"
import type { Secp256k1Backend } from "./types.js"

type Point = WeierstrassPoint<bigint>
const Point = secp256k1.Point

/**
 * Points this backend decoded or produced, keyed by the encoding's array object. A hit is used only if the bytes
 * still match (callers may reuse buffers), so the cache can never change a result — it only skips the square
 * root of re-decoding an output we just encoded (e.g. `add(hashToCurve(x), mulBase(r))` decodes nothing).
 * Entries die with their arrays.
 */
const known = new WeakMap<Uint8Array, { readonly copy: Uint8Array; readonly point: Point }>()

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Decodes a compressed point, mapping noble's untyped errors to `invalid-point`. */
export const decodePoint = (p: Uint8Array, what = "point"): Point => {
  const hit = known.get(p)
  if (hit !== undefined && sameBytes(hit.copy, p)) return hit.point
  assertPointShape(p, what)
  let point: Point
  try {
    point = Point.fromBytes(p)
  } catch {
    throw invalidPoint(what)
  }
  known.set(p, { copy: p.slice(), point })
  return point
}

const scalar = (k: Uint8Array, what = "scalar"): bigint => {
  assertScalar(k, what)
  return bytesToNumberBE(k)
}

const encode = (q: Point, compressed: boolean): Uint8Array => {
  if (q.is0()) throw atInfinity()
  const out = q.toBytes(compressed)
  if (compressed) known.set(out, { copy: out.slice(), point: q })
  return out
}

/**
 * Window for per-point tables. Measured here: W = 4 costs ~70 KB and ~15 ms to build per point and makes `multiply`
 * ~7× faster; W = 8 is barely faster and ~9× larger.
 */
const TABLE_WINDOW = 4
/** Bounded (≤ ~9 MB) so a wallet talking to many mints cannot grow memory without limit; 128 = two full keysets. */
const TABLE_CACHE_SIZE = 128
const tableCache = new Map<string, { point: Point; uses: number }>()

const multiplierBase = (p: Uint8Array): Point => {
  const key = bytesToHex(p)
  const hit = tableCache.get(key)
  if (hit !== undefined) {
    // Re-insert to keep the map in least-recently-used order.
    tableCache.delete(key)
    tableCache.set(key, hit)
    // Only points seen twice get a table: building one costs about three multiplications.
    if (++hit.uses === 2) hit.point.precompute(TABLE_WINDOW, false)
    return hit.point
  }
  const point = decodePoint(p)
  if (tableCache.size >= TABLE_CACHE_SIZE) tableCache.delete(tableCache.keys().next().value!)
  tableCache.set(key, { point, uses: 1 })
  return point
}

/**
 * k·P in noble's constant-time ladder, compressed. Exported because libsecp256k1's WASM build exposes no
 * constant-time variable-base multiplication, so the `wasm` backend uses this for secret scalars.
 */
export const nobleMulConstantTime = (p: Uint8Array, k: Uint8Array): Uint8Array => {
  const s = scalar(k)
  return encode(multiplierBase(p).multiply(s), true)
}

/** BIP340 verification in `@noble/curves` (~2.8 ms here); `false` for any malformed input, never a throw. */
export const nobleVerifySchnorr = (
  signature: Uint8Array,
  digest: Uint8Array,
  xOnlyKey: Uint8Array,
): boolean => {
  if (signature.length !== 64 || digest.length !== 32 || xOnlyKey.length !== 32) return false
  try {
    return schnorr.verify(signature, digest, xOnlyKey)
  } catch {
    return false
  }
}

/** The `noble` backend. */
export const nobleBackend: Secp256k1Backend = {
  name: "noble",
  isPoint: (p) => {
    if (!(p instanceof Uint8Array) || p.length !== 33 || (p[0] !== 2 && p[0] !== 3)) return false
    try {
      decodePoint(p)
      return true
    } catch {
      return false
    }
  },
  mulBase: (k) => encode(Point.BASE.multiply(scalar(k)), true),
  mul: nobleMulConstantTime,
  mulPublic: (p, k) => {
    const s = scalar(k)
    return encode(decodePoint(p).multiplyUnsafe(s), true)
  },
  mulAddPublic: (p, a, q, b) => {
    const sa = scalar(a)
    const sb = scalar(b)
    const P = p === null ? Point.BASE : decodePoint(p)
    return encode(P.mulAddUnsafe(sa, decodePoint(q), sb), false)
  },
  add: (p, q) => encode(decodePoint(p).add(decodePoint(q)), true),
  sub: (p, q) => encode(decodePoint(p).subtract(decodePoint(q)), true),
  negate: (p) => encode(decodePoint(p).negate(), true),
  uncompress: (p) => decodePoint(p).toBytes(false),
  verifySchnorr: nobleVerifySchnorr,
}
