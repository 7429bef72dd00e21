import { secp256k1 } from "@noble/curves/secp256k1.js"
import { numberToBytesBE } from "@noble/curves/utils.js"
import { sha256 } from "@noble/hashes/sha2.js"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { availableBackends, loadBackend } from "../../src/crypto/backend.js"
import { nobleBackend } from "../../src/crypto/backends/noble.js"
import type { Secp256k1Backend } from "../../src/crypto/backends/types.js"
import {
  blind,
  blindPoint,
  createOutputs,
  signBlinded,
  unblind,
  unblindSignatures,
  verifyProof,
} from "../../src/crypto/bdhke.js"
import { bytesToHex, hexToBytes, utf8 } from "../../src/crypto/bytes.js"
import { createDleq, verifyProofDleq } from "../../src/crypto/dleq.js"
import { hashToCurve, hashToCurveSecret } from "../../src/crypto/hash-to-curve.js"
import {
  type BlindSignature,
  CryptoError,
  type CryptoReason,
  DecodeError,
  KeysetError,
  VerificationError,
} from "../../src/model/index.js"
import { loadVector } from "../support/vectors.js"

const N = secp256k1.Point.CURVE().n
const be32 = (x: bigint): Uint8Array => numberToBytesBE(x, 32)
const scalarArb = fc.bigInt({ min: 1n, max: N - 1n }).map(be32)
const backends = availableBackends().map((n) => [n, loadBackend(n)!] as const)
const vectors = loadVector("00-blind.json")

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

const thrownBy = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  return undefined
}

/** A deterministic byte stream, so output creation can be replayed. */
const seededRandom = (seed: string) => {
  let counter = 0
  const handed: Uint8Array[] = []
  const random = (length: number): Uint8Array => {
    const out = new Uint8Array(length)
    for (let o = 0; o < length; o += 32)
      out.set(sha256(utf8(`${seed}/${counter++}`)).subarray(0, length - o), o)
    handed.push(out)
    return out
  }
  return { random, handed }
}

/** A small test mint: keys for 1, 2, 4, 8 derived from a label. */
const makeMint = (label: string, b: Secp256k1Backend) => {
  const priv = new Map<bigint, Uint8Array>()
  const keys = new Map<bigint, string>()
  for (const amount of [1n, 2n, 4n, 8n]) {
    const k = sha256(utf8(`${label}/${amount}`))
    priv.set(amount, k)
    keys.set(amount, bytesToHex(b.mulBase(k)))
  }
  const id = "01" + bytesToHex(sha256(utf8(label)))
  const sign = (amount: bigint, B_: string, withDleq = true): BlindSignature => {
    const k = priv.get(amount)!
    const C_ = bytesToHex(signBlinded(B_, k, b))
    return withDleq ? { amount, id, C_, dleq: createDleq(k, B_, C_, b) } : { amount, id, C_ }
  }
  return { priv, keys, id, keyset: { id, keys }, sign }
}

describe.each(backends)("BDHKE on %s", (_name, b: Secp256k1Backend) => {
  it.each(vectors.blinded_messages.vectors as Array<{ name: string; x_hex: string; r: string; B_: string }>)(
    "NUT-00 blinded message $name",
    (v) => {
      expect(bytesToHex(blind(hexToBytes(v.x_hex), v.r, b))).toBe(v.B_)
      expect(bytesToHex(blind(hexToBytes(v.x_hex), hexToBytes(v.r), b))).toBe(v.B_)
    },
  )

  it.each(vectors.blinded_signatures.vectors as Array<{ name: string; k: string; B_: string; C_: string }>)(
    "NUT-00 blind signature $name",
    (v) => {
      expect(bytesToHex(signBlinded(v.B_, v.k, b))).toBe(v.C_)
    },
  )

  it("blind → sign → unblind gives k·Y, which the mint accepts and no other key or secret does", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), scalarArb, scalarArb, scalarArb, (secret, r, k, other) => {
        fc.pre(bytesToHex(k) !== bytesToHex(other))
        const B_ = blind(utf8(secret), r, b)
        const C = unblind(signBlinded(B_, k, b), r, b.mulBase(k), b)
        expect(bytesToHex(C)).toBe(bytesToHex(signBlinded(hashToCurveSecret(secret, b), k, b)))
        expect(verifyProof(secret, C, k, b)).toBe(true)
        expect(verifyProof(secret, bytesToHex(C), bytesToHex(k), b)).toBe(true)
        expect(verifyProof(secret, C, other, b)).toBe(false)
        expect(verifyProof(secret + "x", C, k, b)).toBe(false)
      }),
      { numRuns: 10 },
    )
  })

  it("blindPoint is blind without the hashing", () => {
    const Y = hashToCurve(utf8("abc"), b)
    const r = be32(42n)
    expect(bytesToHex(blindPoint(Y, r, b))).toBe(bytesToHex(blind(utf8("abc"), r, b)))
  })

  it("rejects malformed inputs with tagged errors", () => {
    const G = b.mulBase(be32(1n))
    const offCurve = Uint8Array.from([2, ...be32(5n)]) // x = 5: 5³ + 7 = 132 is not a square mod p
    expect(nobleBackend.isPoint(offCurve)).toBe(false)
    expectCryptoError(() => blind(utf8("s"), new Uint8Array(32), b), "invalid-scalar")
    expectCryptoError(() => blind(utf8("s"), be32(N), b), "invalid-scalar")
    expectCryptoError(() => blind(utf8("s"), "zz".repeat(32), b), "invalid-scalar")
    expectCryptoError(() => blindPoint(offCurve, be32(3n), b), "invalid-point")
    expectCryptoError(() => unblind(offCurve, be32(3n), G, b), "invalid-point")
    expectCryptoError(() => unblind(G, be32(3n), offCurve, b), "invalid-point")
    expectCryptoError(() => unblind("02" + "zz".repeat(32), be32(3n), G, b), "invalid-point")
    expectCryptoError(() => signBlinded(offCurve, be32(3n), b), "invalid-point")
    expectCryptoError(() => signBlinded(G.subarray(1), be32(3n), b), "invalid-point")
    expectCryptoError(() => verifyProof("s", offCurve, be32(3n), b), "invalid-point")
    expectCryptoError(() => verifyProof("s", G, new Uint8Array(32), b), "invalid-scalar")
  })
})

describe.each(backends)("wallet batch path on %s", (name, b: Secp256k1Backend) => {
  const mint = makeMint(`mint-${name}`, b)
  const amounts = [1n, 2n, 4n, 8n, 1n, 8n]

  it("creates outputs from one random draw, reproducibly, with 64-hex secrets and valid blinding factors", () => {
    const specs = amounts.map((amount) => ({ amount, id: mint.id }))
    const first = seededRandom("s")
    const a = createOutputs(specs, { random: first.random, backend: b })
    const again = createOutputs(specs, { random: seededRandom("s").random, backend: b })
    expect(first.handed).toHaveLength(1)
    expect(first.handed[0]!.every((x) => x === 0)).toBe(true) // the pool is wiped after use
    expect(again).toEqual(a)
    for (const [i, o] of a.entries()) {
      expect(o.amount).toBe(amounts[i])
      expect(o.id).toBe(mint.id)
      expect(o.secret).toMatch(/^[0-9a-f]{64}$/)
      expect(o.B_).toBe(bytesToHex(blind(utf8(o.secret), o.r, b)))
    }
    expect(new Set(a.map((o) => o.secret)).size).toBe(a.length)
  })

  it("uses given secrets and blinding factors as they are (NUT-13), drawing only what is missing", () => {
    const r = be32(77n)
    const { random, handed } = seededRandom("t")
    const [given, half] = createOutputs(
      [
        { amount: 1n, id: mint.id, secret: "my secret", r: bytesToHex(r) },
        { amount: 2n, id: mint.id, secret: "other" },
      ],
      { random, backend: b },
    )
    expect(given!.secret).toBe("my secret")
    expect(given!.r).toEqual(r)
    expect(given!.B_).toBe(bytesToHex(blind(utf8("my secret"), r, b)))
    expect(half!.secret).toBe("other")
    expect(handed.map((h) => h.length)).toEqual([32])
  })

  it("redraws a blinding factor that is out of range instead of reducing it", () => {
    let calls = 0
    const random = (length: number): Uint8Array => {
      calls++
      // First draw: a valid secret, then r = n (invalid); the redraw returns r = 9.
      if (calls === 1) return Uint8Array.from([...new Uint8Array(32).fill(1), ...be32(N)]).subarray(0, length)
      return be32(9n)
    }
    const [o] = createOutputs([{ amount: 1n, id: mint.id }], { random, backend: b })
    expect(calls).toBe(2)
    expect(o!.r).toEqual(be32(9n))
  })

  it("rejects a given zero blinding factor", () => {
    expectCryptoError(
      () => createOutputs([{ amount: 1n, id: mint.id, r: new Uint8Array(32) }], { backend: b }),
      "invalid-scalar",
    )
  })

  it("unblinds a batch into proofs the mint accepts, keeping {e, s, r} so a receiver can verify", () => {
    const outputs = createOutputs(
      amounts.map((amount) => ({ amount, id: mint.id })),
      { backend: b },
    )
    const sigs = outputs.map((o) => mint.sign(o.amount, o.B_))
    const proofs = unblindSignatures(outputs, sigs, mint.keyset, { backend: b, requireDleq: true })
    expect(proofs).toHaveLength(outputs.length)
    for (const [i, p] of proofs.entries()) {
      expect(p.amount).toBe(amounts[i])
      expect(p.id).toBe(mint.id)
      expect(p.secret).toBe(outputs[i]!.secret)
      expect(verifyProof(p.secret, p.C, mint.priv.get(p.amount)!, b)).toBe(true)
      expect(p.dleq?.r).toBe(bytesToHex(outputs[i]!.r))
      expect(verifyProofDleq(p, mint.keys.get(p.amount)!, b)).toBe(true)
    }
    const bare = unblindSignatures(outputs, sigs, mint.keyset, { backend: b, keepDleq: false })
    expect(bare.every((p) => p.dleq === undefined)).toBe(true)
    expect(bare.map((p) => p.C)).toEqual(proofs.map((p) => p.C))
  })

  it("accepts signatures without DLEQ unless required", () => {
    const outputs = createOutputs([{ amount: 4n, id: mint.id }], { backend: b })
    const sigs = [mint.sign(4n, outputs[0]!.B_, false)]
    const [p] = unblindSignatures(outputs, sigs, mint.keyset, { backend: b })
    expect(verifyProof(p!.secret, p!.C, mint.priv.get(4n)!, b)).toBe(true)
    expect(p!.dleq).toBeUndefined()
    const err = thrownBy(() =>
      unblindSignatures(outputs, sigs, mint.keyset, { backend: b, requireDleq: true }),
    )
    expect(err).toBeInstanceOf(VerificationError)
  })

  it("refuses a signature whose DLEQ does not hold, e.g. one made with a key other than the keyset's", () => {
    const outputs = createOutputs([{ amount: 2n, id: mint.id }], { backend: b })
    const B_ = outputs[0]!.B_
    const wrongKey = mint.priv.get(8n)! // the mint signs amount 2 with its amount-8 key
    const C_ = bytesToHex(signBlinded(B_, wrongKey, b))
    const forged: BlindSignature = { amount: 2n, id: mint.id, C_, dleq: createDleq(wrongKey, B_, C_, b) }
    const err = thrownBy(() => unblindSignatures(outputs, [forged], mint.keyset, { backend: b }))
    expect(err).toBeInstanceOf(VerificationError)
    expect((err as VerificationError).check).toBe("dleq")
  })

  it("fails with tagged errors on mismatched lengths, foreign keysets and unknown amounts", () => {
    const outputs = createOutputs([{ amount: 1n, id: mint.id }], { backend: b })
    const sig = mint.sign(1n, outputs[0]!.B_)
    expect(thrownBy(() => unblindSignatures(outputs, [], mint.keyset, { backend: b }))).toBeInstanceOf(
      DecodeError,
    )
    const foreign = thrownBy(() =>
      unblindSignatures(outputs, [{ ...sig, id: "00ffffffffffffff" }], mint.keyset),
    )
    expect(foreign).toBeInstanceOf(KeysetError)
    expect((foreign as KeysetError).reason).toBe("unknown-id")
    const unknown = thrownBy(() => unblindSignatures(outputs, [{ ...sig, amount: 16n }], mint.keyset))
    expect(unknown).toBeInstanceOf(KeysetError)
    expect((unknown as KeysetError).reason).toBe("unknown-amount")
    expectCryptoError(
      () => unblindSignatures(outputs, [{ ...sig, C_: "02" + "00".repeat(32) }], mint.keyset, { backend: b }),
      "invalid-point",
    )
  })
})
