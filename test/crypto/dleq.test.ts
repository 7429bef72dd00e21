import { secp256k1 } from "@noble/curves/secp256k1.js"
import { numberToBytesBE } from "@noble/curves/utils.js"
import { sha256 } from "@noble/hashes/sha2.js"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { availableBackends, loadBackend } from "../../src/crypto/backend.js"
import { nobleBackend } from "../../src/crypto/backends/noble.js"
import type { Secp256k1Backend } from "../../src/crypto/backends/types.js"
import { signBlinded } from "../../src/crypto/bdhke.js"
import { bytesToHex, hexToBytes, utf8 } from "../../src/crypto/bytes.js"
import { createDleq, hashE, verifyBlindSignatureDleq, verifyProofDleq } from "../../src/crypto/dleq.js"
import { keyPoint } from "../../src/crypto/keys.js"
import { CryptoError, type CryptoReason } from "../../src/model/index.js"
import { loadVector } from "../support/vectors.js"

const N = secp256k1.Point.CURVE().n
const be32 = (x: bigint): Uint8Array => numberToBytesBE(x, 32)
const scalarArb = fc.bigInt({ min: 1n, max: N - 1n }).map(be32)
const backends = availableBackends().map((n) => [n, loadBackend(n)!] as const)
const v = loadVector("12-dleq.json")

const expectCryptoError = (f: () => unknown, reason: CryptoReason): void => {
  let thrown: unknown
  try {
    f()
  } catch (e) {
    thrown = e
  }
  expect(thrown).toBeInstanceOf(CryptoError)
  expect((thrown as CryptoError).reason).toBe(reason)
}

/** A mutated proof must come out `false` or as a tagged CryptoError — never `true`, never an untagged throw. */
const expectRejected = (f: () => boolean): void => {
  let result: boolean | undefined
  try {
    result = f()
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError)
    return
  }
  expect(result).toBe(false)
}

const flipBit = (hex: string, bit: number): string => {
  const bytes = hexToBytes(hex)
  const i = Math.floor(bit / 8) % bytes.length
  bytes[i] = bytes[i]! ^ (1 << (bit % 8))
  return bytesToHex(bytes)
}

/** hash_e exactly as 12.md states it, on strings. */
const referenceHashE = (...points: string[]): string =>
  bytesToHex(sha256(utf8(points.map((p) => secp256k1.Point.fromHex(p).toHex(false)).join(""))))

describe.each(backends)("NUT-12 on %s", (_name, b: Secp256k1Backend) => {
  it("hash_e vector", () => {
    const i = v.hash_e.inputs
    expect(bytesToHex(hashE(i.R1, i.R2, i.K, i.C_, b))).toBe(v.hash_e.expected)
  })

  it("reproduces the deterministic-nonce vector's e and s exactly, and the result verifies", () => {
    const { inputs, expected } = v.deterministic_nonce
    const proof = createDleq(inputs.a, inputs.B_, inputs.C_, b)
    expect(proof).toEqual(expected)
    expect(verifyBlindSignatureDleq(inputs.A, inputs.B_, inputs.C_, proof, b)).toBe(true)
  })

  it("accepts the BlindSignature DLEQ vector", () => {
    const t = v.blind_signature_dleq
    expect(verifyBlindSignatureDleq(t.A, t.B_, t.blind_signature.C_, t.blind_signature.dleq, b)).toBe(true)
    expect(
      verifyBlindSignatureDleq(keyPoint(t.A, b), t.B_, t.blind_signature.C_, t.blind_signature.dleq, b),
    ).toBe(true)
  })

  it("accepts the Proof DLEQ vector (secret hashed as UTF-8)", () => {
    expect(verifyProofDleq(v.proof_dleq.proof, v.proof_dleq.A, b)).toBe(true)
  })

  it("hash_e matches the literal string procedure on random points", () => {
    fc.assert(
      fc.property(fc.array(scalarArb, { minLength: 4, maxLength: 4 }), (ks) => {
        const pts = ks.map((k) => bytesToHex(nobleBackend.mulBase(k)))
        expect(bytesToHex(hashE(pts[0]!, pts[1]!, pts[2]!, pts[3]!, b))).toBe(
          referenceHashE(pts[0]!, pts[1]!, pts[2]!, pts[3]!),
        )
      }),
      { numRuns: 10 },
    )
  })

  it("createDleq proofs verify, and fail for another key or another B_", () => {
    fc.assert(
      fc.property(scalarArb, scalarArb, scalarArb, (a, y, other) => {
        // "another" must really be another key and another B_ (small scalars collide often under shrinking).
        fc.pre(bytesToHex(a) !== bytesToHex(other) && bytesToHex(y) !== bytesToHex(other))
        const A = b.mulBase(a)
        const B_ = b.mulBase(y)
        const C_ = signBlinded(B_, a, b)
        const proof = createDleq(a, B_, C_, b)
        expect(verifyBlindSignatureDleq(A, B_, C_, proof, b)).toBe(true)
        expect(verifyBlindSignatureDleq(b.mulBase(other), B_, C_, proof, b)).toBe(false)
        expect(verifyBlindSignatureDleq(A, b.mulBase(other), C_, proof, b)).toBe(false)
      }),
      { numRuns: 8 },
    )
  })

  it("rejects every single-bit mutation of a blind-signature DLEQ (e, s, A, B_, C_)", () => {
    const t = v.blind_signature_dleq
    const base = {
      A: t.A,
      B_: t.B_,
      C_: t.blind_signature.C_,
      e: t.blind_signature.dleq.e,
      s: t.blind_signature.dleq.s,
    }
    type Field = keyof typeof base
    fc.assert(
      fc.property(fc.constantFrom<Field>("A", "B_", "C_", "e", "s"), fc.nat(263), (field, bit) => {
        const m = { ...base, [field]: flipBit(base[field], bit) }
        expectRejected(() => verifyBlindSignatureDleq(m.A, m.B_, m.C_, { e: m.e, s: m.s }, b))
      }),
      { numRuns: 40 },
    )
  })

  it("rejects every single mutation of a proof DLEQ (secret, C, e, s, r, key)", () => {
    const { proof, A } = v.proof_dleq
    const fields = ["secret", "C", "e", "s", "r", "A"] as const
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.nat(263), (field, bit) => {
        const dleq = { ...proof.dleq }
        let p = { secret: proof.secret as string, C: proof.C as string, dleq }
        let key: string = A
        if (field === "secret") {
          const i = bit % p.secret.length
          p = {
            ...p,
            secret: p.secret.slice(0, i) + (p.secret[i] === "0" ? "1" : "0") + p.secret.slice(i + 1),
          }
        } else if (field === "C") p = { ...p, C: flipBit(p.C, bit) }
        else if (field === "A") key = flipBit(A, bit)
        else p = { ...p, dleq: { ...dleq, [field]: flipBit(dleq[field], bit) } }
        expectRejected(() => verifyProofDleq(p, key, b))
      }),
      { numRuns: 40 },
    )
  })

  it("reports malformed input as tagged errors, not as 'does not hold'", () => {
    const t = v.blind_signature_dleq
    const { e, s } = t.blind_signature.dleq
    const C_ = t.blind_signature.C_
    expectCryptoError(
      () => verifyBlindSignatureDleq(t.A, t.B_, C_, { e: e.slice(2), s }, b),
      "invalid-scalar",
    )
    expectCryptoError(
      () => verifyBlindSignatureDleq(t.A, t.B_, C_, { e: "00".repeat(32), s }, b),
      "invalid-scalar",
    )
    expectCryptoError(
      () => verifyBlindSignatureDleq(t.A, t.B_, C_, { e, s: bytesToHex(be32(N)) }, b),
      "invalid-scalar",
    )
    expectCryptoError(
      () => verifyBlindSignatureDleq("02" + "00".repeat(32), t.B_, C_, { e, s }, b),
      "invalid-point",
    )
    expectCryptoError(
      () => verifyBlindSignatureDleq(t.A, t.B_, "04" + C_.slice(2), { e, s }, b),
      "invalid-point",
    )
    const { proof, A } = v.proof_dleq
    expectCryptoError(() => verifyProofDleq({ secret: proof.secret, C: proof.C }, A, b), "dleq")
    expectCryptoError(
      () => verifyProofDleq({ ...proof, dleq: { e: proof.dleq.e, s: proof.dleq.s } }, A, b),
      "dleq",
    )
    expectCryptoError(() => createDleq(new Uint8Array(32), t.B_, C_, b), "invalid-scalar")
    expectCryptoError(() => hashE(t.A, t.A, t.A, "02" + "00".repeat(32), b), "invalid-point")
  })

  it("treats an intermediate point at infinity as 'does not hold'", () => {
    // C = −r·A makes the rebuilt C_ = C + r·A the point at infinity.
    const { proof, A } = v.proof_dleq
    const rA = b.mul(hexToBytes(A), hexToBytes(proof.dleq.r))
    const cancelling = { ...proof, C: bytesToHex(b.negate(rA)) }
    expect(verifyProofDleq(cancelling, A, b)).toBe(false)
  })
})
