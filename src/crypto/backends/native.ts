/**
 * The native secp256k1 backend: libsecp256k1 through the `secp256k1` npm package's compiled binding.
 *
 * That package's main entry silently falls back to the pure-JS `elliptic` library when its binary does not
 * load. We never want that (slow, and not the code we test), so we load `secp256k1/bindings.js` directly —
 * it throws when the binary is missing — and treat any failure as "native unavailable".
 *
 * Constant-time map:
 * - `mulBase` → `publicKeyCreate` (libsecp256k1's constant-time `ecmult_gen`).
 * - `mul` → `ecdh` with a hash callback that returns the compressed point: `secp256k1_ecdh` runs the
 *   constant-time `ecmult_const`. (`publicKeyTweakMul` would be ~25% faster but uses the variable-time
 *   `secp256k1_ecmult`; measurably faster for sparse scalars, so it must not see secrets.)
 * - `mulPublic` / `mulAddPublic` → `publicKeyTweakMul` / `publicKeyTweakAdd` / `publicKeyCombine`.
 * - `verifySchnorr` → the binding has none; libsecp256k1's through WASM (`tiny-secp256k1`) when it loads.
 *
 * @module
 */
import { createRequire } from "node:module"
import { bytesToHex } from "../bytes.js"
import { assertPointShape, assertScalar, atInfinity, invalidPoint, negateUnchecked } from "./common.js"
import { nobleVerifySchnorr } from "./noble.js"
import type { Secp256k1Backend } from "./types.js"
import { loadWasmSchnorrVerify } from "./wasm.js"

/** The part of the binding this backend uses (see node_modules/secp256k1/lib/index.js). */
interface Native {
  publicKeyVerify(p: Uint8Array): boolean
  publicKeyCreate(k: Uint8Array, compressed?: boolean): Uint8Array
  publicKeyConvert(p: Uint8Array, compressed?: boolean): Uint8Array
  publicKeyCombine(ps: Uint8Array[], compressed?: boolean): Uint8Array
  publicKeyTweakAdd(p: Uint8Array, t: Uint8Array, compressed?: boolean): Uint8Array
  publicKeyTweakMul(p: Uint8Array, t: Uint8Array, compressed?: boolean): Uint8Array
  ecdh(
    p: Uint8Array,
    k: Uint8Array,
    opts: { hashfn: (x: Uint8Array, y: Uint8Array) => Uint8Array; xbuf: Uint8Array; ybuf: Uint8Array },
    out: Uint8Array,
  ): Uint8Array
}

const G_HEX = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"

const create = (n: Native, verifySchnorr: Secp256k1Backend["verifySchnorr"]): Secp256k1Backend => {
  const isPoint = (p: Uint8Array): boolean =>
    p instanceof Uint8Array && p.length === 33 && (p[0] === 2 || p[0] === 3) && n.publicKeyVerify(p)

  // Inputs are shape- and range-checked before each call, so a binding error means either an input is off the
  // curve or the result cancelled to infinity; telling them apart costs a parse, but only on the error path.
  const call = <T>(f: () => T, points: ReadonlyArray<Uint8Array>): T => {
    try {
      return f()
    } catch {
      for (const p of points) if (!isPoint(p)) throw invalidPoint()
      throw atInfinity()
    }
  }

  // Scratch buffers for the ECDH callback, wiped after every call (they hold k·P, a secret-derived point).
  const xbuf = new Uint8Array(32)
  const ybuf = new Uint8Array(32)
  const hashOut = new Uint8Array(33)
  const ecdhOpts = {
    hashfn: (x: Uint8Array, y: Uint8Array): Uint8Array => {
      hashOut[0] = 2 | (y[31]! & 1)
      hashOut.set(x, 1)
      return hashOut
    },
    xbuf,
    ybuf,
  }

  const add = (p: Uint8Array, q: Uint8Array): Uint8Array => {
    assertPointShape(p)
    assertPointShape(q)
    return call(() => n.publicKeyCombine([p, q], true), [p, q])
  }

  return {
    name: "native",
    isPoint,
    mulBase: (k) => {
      assertScalar(k)
      return n.publicKeyCreate(k, true)
    },
    mul: (p, k) => {
      assertPointShape(p)
      assertScalar(k)
      const out = new Uint8Array(33)
      try {
        n.ecdh(p, k, ecdhOpts, out)
      } catch {
        throw invalidPoint()
      } finally {
        xbuf.fill(0)
        ybuf.fill(0)
        hashOut.fill(0)
      }
      return out
    },
    mulPublic: (p, k) => {
      assertPointShape(p)
      assertScalar(k)
      return call(() => n.publicKeyTweakMul(p, k, true), [p])
    },
    mulAddPublic: (p, a, q, b) => {
      assertScalar(a)
      assertScalar(b)
      assertPointShape(q)
      if (p === null) {
        // b·Q + a·G in two calls: tweak-add folds a·G into libsecp256k1's ecmult.
        const bq = call(() => n.publicKeyTweakMul(q, b, true), [q])
        return call(() => n.publicKeyTweakAdd(bq, a, false), [bq])
      }
      assertPointShape(p)
      const ap = call(() => n.publicKeyTweakMul(p, a, true), [p])
      const bq = call(() => n.publicKeyTweakMul(q, b, true), [q])
      return call(() => n.publicKeyCombine([ap, bq], false), [ap, bq])
    },
    add,
    sub: (p, q) => {
      assertPointShape(q)
      return add(p, negateUnchecked(q))
    },
    negate: (p) => {
      if (!isPoint(p)) throw invalidPoint()
      return negateUnchecked(p)
    },
    uncompress: (p) => {
      assertPointShape(p)
      return call(() => n.publicKeyConvert(p, false), [p])
    },
    verifySchnorr,
  }
}

/** Loads the `native` backend, or returns null when the compiled binding is unavailable. Never throws. */
export const loadNativeBackend = (): Secp256k1Backend | null => {
  try {
    const n = createRequire(import.meta.url)("secp256k1/bindings.js") as Native
    const one = new Uint8Array(32)
    one[31] = 1
    if (bytesToHex(n.publicKeyCreate(one, true)) !== G_HEX) return null
    // The binding has no BIP340 functions: libsecp256k1's own through WASM when it loads, else noble.
    return create(n, loadWasmSchnorrVerify() ?? nobleVerifySchnorr)
  } catch {
    return null
  }
}
