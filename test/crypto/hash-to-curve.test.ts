import { secp256k1 } from "@noble/curves/secp256k1.js"
import { sha256 } from "@noble/hashes/sha2.js"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { availableBackends, loadBackend } from "../../src/crypto/backend.js"
import { nobleBackend } from "../../src/crypto/backends/noble.js"
import type { Secp256k1Backend } from "../../src/crypto/backends/types.js"
import { bytesToHex, concatBytes, hexToBytes, utf8 } from "../../src/crypto/bytes.js"
import {
  HASH_TO_CURVE_MAX_ITERATIONS,
  hashToCurve,
  hashToCurveSecret,
} from "../../src/crypto/hash-to-curve.js"
import { CryptoError } from "../../src/model/index.js"
import { loadVector } from "../support/vectors.js"

const backends = availableBackends().map((n) => [n, loadBackend(n)!] as const)
const vectors = loadVector("00-hash-to-curve.json").vectors as Array<{
  name: string
  message_hex: string
  point: string
}>

/** The spec's procedure written out literally (string-level, noble parsing): an independent model. */
const referenceHashToCurve = (x: Uint8Array): { point: string; counter: number } => {
  const msgHash = sha256(concatBytes(utf8("Secp256k1_HashToCurve_Cashu_"), x))
  for (let counter = 0; ; counter++) {
    const le = new Uint8Array(new Uint32Array([counter]).buffer) // host order; Node targets are little-endian
    const hex = "02" + bytesToHex(sha256(concatBytes(msgHash, le)))
    try {
      return { point: secp256k1.Point.fromHex(hex).toHex(true), counter }
    } catch {
      // not a point: next counter
    }
  }
}

describe.each(backends)("hashToCurve on %s", (_name, b: Secp256k1Backend) => {
  it.each(vectors)("NUT-00 vector $name", (v) => {
    expect(bytesToHex(hashToCurve(hexToBytes(v.message_hex), b))).toBe(v.point)
  })

  it("matches the literal reference procedure, and always yields a valid 02-prefixed point", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (x) => {
        const Y = hashToCurve(x, b)
        expect(bytesToHex(Y)).toBe(referenceHashToCurve(x).point)
        expect(Y[0]).toBe(2)
        expect(nobleBackend.isPoint(Y)).toBe(true)
      }),
      { numRuns: 60 },
    )
  })

  it("hashes a secret string as its UTF-8 bytes", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (s) => {
        expect(bytesToHex(hashToCurveSecret(s, b))).toBe(bytesToHex(hashToCurve(utf8(s), b)))
      }),
      { numRuns: 60 },
    )
  })
})

describe("hashToCurve loop", () => {
  it("uses the little-endian counter (vector 3 needs counter 3, which big-endian would miss)", () => {
    const v3 = vectors[2]!
    expect(referenceHashToCurve(hexToBytes(v3.message_hex)).counter).toBe(3)
  })

  it("gives up with a tagged error after 2^16 candidates", () => {
    let calls = 0
    const counting: Secp256k1Backend = {
      ...nobleBackend,
      isPoint: () => {
        calls++
        return false
      },
    }
    let thrown: unknown
    try {
      hashToCurve(utf8("x"), counting)
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(CryptoError)
    expect((thrown as CryptoError).reason).toBe("hash-to-curve-exhausted")
    expect(calls).toBe(HASH_TO_CURVE_MAX_ITERATIONS)
    expect(HASH_TO_CURVE_MAX_ITERATIONS).toBe(2 ** 16)
  })
})
