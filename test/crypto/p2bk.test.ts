import { secp256k1 } from "@noble/curves/secp256k1.js"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { bigIntToBytes, bytesToBigInt, bytesToHex, hexToBytes } from "../../src/crypto/bytes.js"
import { createHtlcSecret, htlcHash, signHtlcProof } from "../../src/crypto/htlc.js"
import {
  blindPubkeys,
  MAX_P2BK_SLOT,
  P2BK_DOMAIN,
  p2bkBlindingScalar,
  p2bkSharedSecret,
  p2bkSigningKeys,
  unblindSigningKey,
  withoutP2bkKey,
} from "../../src/crypto/p2bk.js"
import { createP2pkSecret, signP2pkProof, verifyP2pkSpend } from "../../src/crypto/p2pk.js"
import { CURVE_ORDER, publicKeyHex } from "../../src/crypto/schnorr.js"
import { isCorecashuError, type Proof } from "../../src/model/index.js"
import { loadVector } from "../support/vectors.js"

const v = loadVector("28-p2bk.json")
const { e, E, p, P } = v.inputs
const SLOTS = Array.from({ length: MAX_P2BK_SLOT + 1 }, (_, i) => i)
const skStd: Record<string, string> = v.derived_secret_keys["skStd (p + r_i) mod n"]
const skNeg: Record<string, string> = v.derived_secret_keys["skNeg (-p + r_i) mod n"]

const expectTagged = (f: () => unknown, tag: string, reason?: string): void => {
  let err: unknown
  try {
    f()
  } catch (err_) {
    err = err_
  }
  expect(isCorecashuError(err)).toBe(true)
  const x = err as { _tag: string; reason?: string }
  expect(x._tag).toBe(tag)
  if (reason !== undefined) expect(x.reason).toBe(reason)
}

describe("NUT-28 vector inputs", () => {
  it("E = e·G; P is p·G's x lifted to even Y (the parity_choice section)", () => {
    expect(publicKeyHex(e)).toBe(E)
    expect(publicKeyHex(p)).toBe(v.parity_choice.pG)
    expect(v.parity_choice.P).toBe(P)
    expect(P.slice(2)).toBe(v.parity_choice.pG.slice(2))
    expect(P.slice(0, 2)).not.toBe(v.parity_choice.pG.slice(0, 2))
    expect(P2BK_DOMAIN).toBe("Cashu_P2BK_v1")
  })

  it("Zx both ways: x(e·P) = x(p·E)", () => {
    expect(bytesToHex(p2bkSharedSecret(e, P))).toBe(v.shared_secret_Zx)
    expect(bytesToHex(p2bkSharedSecret(p, E))).toBe(v.shared_secret_Zx)
    // An x-only receiver key is lifted with 02.
    expect(bytesToHex(p2bkSharedSecret(e, P.slice(2)))).toBe(v.shared_secret_Zx)
  })
})

describe("NUT-28 blinding scalars r0…r10", () => {
  it("all eleven are present, r10 included (its spec line lacks a colon)", () => {
    expect(v.note).toContain("r10")
    expect(Object.keys(v.blinding_scalars)).toEqual(SLOTS.map((i) => `r${i}`))
  })
  for (const i of SLOTS) {
    it(`r${i}`, () => {
      expect(bytesToHex(p2bkBlindingScalar(hexToBytes(v.shared_secret_Zx), i))).toBe(
        v.blinding_scalars[`r${i}`],
      )
    })
  }
})

describe("NUT-28 blinded keys P'0…P'10", () => {
  it("blindPubkeys gives every slot and E", () => {
    const { E: ephemeral, blinded } = blindPubkeys(
      e,
      SLOTS.map(() => P),
    )
    expect(ephemeral).toBe(E)
    expect(blinded).toEqual(SLOTS.map((i) => v.blinded_pubkeys[String(i)]))
  })

  it("a start slot shifts the slots (HTLC keys start at 1)", () => {
    const { blinded } = blindPubkeys(e, [P, P], 9)
    expect(blinded).toEqual([v.blinded_pubkeys["9"], v.blinded_pubkeys["10"]])
  })
})

describe("NUT-28 derived secret keys and parity choice", () => {
  for (const i of SLOTS) {
    it(`slot ${i}: P is the even lift of p·G, so the negated key skNeg signs P'`, () => {
      const key = unblindSigningKey(p, E, v.blinded_pubkeys[String(i)], i)
      expect(key).toBeDefined()
      expect(bytesToHex(key!)).toBe(skNeg[String(i)])
      expect(publicKeyHex(key!)).toBe(v.blinded_pubkeys[String(i)])
      // skStd is the other candidate: (p + r_i) mod n with our r_i.
      const r = bytesToBigInt(p2bkBlindingScalar(hexToBytes(v.shared_secret_Zx), i))
      expect(bytesToHex(bigIntToBytes((bytesToBigInt(hexToBytes(p)) + r) % CURVE_ORDER))).toBe(
        skStd[String(i)],
      )
    })
  }

  it("when the sender blinds p·G itself (same parity), the standard key skStd is chosen", () => {
    const pG: string = v.parity_choice.pG
    const { blinded } = blindPubkeys(
      e,
      SLOTS.map(() => pG),
    )
    for (const i of SLOTS) {
      const key = unblindSigningKey(p, E, blinded[i]!, i)!
      expect(bytesToHex(key)).toBe(skStd[String(i)])
      expect(publicKeyHex(key)).toBe(blinded[i])
    }
  })

  it("a key blinded for someone else, or in another slot, is not ours", () => {
    const other = new Uint8Array(32).fill(9)
    expect(unblindSigningKey(other, E, v.blinded_pubkeys["0"], 0)).toBeUndefined()
    expect(unblindSigningKey(p, E, v.blinded_pubkeys["0"], 1)).toBeUndefined()
    expect(unblindSigningKey(p, publicKeyHex(other), v.blinded_pubkeys["0"], 0)).toBeUndefined()
  })
})

describe("NUT-28 example proof", () => {
  const proof: Proof = { ...v.example_p2bk_proof.proof, amount: BigInt(v.example_p2bk_proof.proof.amount) }

  it("its data is P'0 and its p2pk_e is E", () => {
    expect(proof.p2pk_e).toBe(E)
    expect(JSON.parse(proof.secret)[1].data).toBe(v.blinded_pubkeys["0"])
  })

  it("the receiver finds slot 0, signs with skNeg0 and the proof verifies as plain P2PK", () => {
    const keys = p2bkSigningKeys(proof, p)
    expect(keys.map((k) => ({ slot: k.slot, key: bytesToHex(k.key) }))).toEqual([
      { slot: 0, key: skNeg["0"] },
    ])
    const toMint = withoutP2bkKey(proof)
    expect(toMint).not.toHaveProperty("p2pk_e")
    const signed = signP2pkProof(toMint, keys[0]!.key)
    expect(() => verifyP2pkSpend(signed, 0)).not.toThrow()
    expectTagged(() => verifyP2pkSpend(signP2pkProof(toMint, p), 0), "VerificationError")
  })

  it("another receiver finds nothing; a proof without p2pk_e has no P2BK slots", () => {
    expect(p2bkSigningKeys(proof, new Uint8Array(32).fill(5))).toEqual([])
    expect(p2bkSigningKeys(withoutP2bkKey(proof), p)).toEqual([])
  })
})

describe("P2BK locks end to end", () => {
  const scalar = fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .filter((k) => k.some((b) => b !== 0) && bytesToBigInt(k) < CURVE_ORDER)

  it("sender blinds [data, pubkeys, refund]; each receiver signs only its own slots", () => {
    fc.assert(
      fc.property(scalar, scalar, scalar, (eph, alice, bob) => {
        fc.pre(new Set([eph, alice, bob].map(bytesToHex)).size === 3)
        const keys = [publicKeyHex(alice), publicKeyHex(bob), publicKeyHex(alice)]
        const { E: ephemeral, blinded } = blindPubkeys(eph, keys)
        const secret = createP2pkSecret(blinded[0]!, {
          pubkeys: [blinded[1]!],
          locktime: 10,
          refund: [blinded[2]!],
        })
        const proof: Proof = {
          amount: 1n,
          id: "009a1f293253e41e",
          secret,
          C: publicKeyHex(eph),
          p2pk_e: ephemeral,
        }
        const aliceKeys = p2bkSigningKeys(proof, alice)
        expect(aliceKeys.map((k) => k.slot)).toEqual([0, 2])
        expect(p2bkSigningKeys(proof, bob).map((k) => k.slot)).toEqual([1])
        for (const { slot, key } of aliceKeys) expect(publicKeyHex(key)).toBe(blinded[slot])
        const signed = signP2pkProof(withoutP2bkKey(proof), aliceKeys[0]!.key)
        expect(() => verifyP2pkSpend(signed, 0)).not.toThrow()
      }),
      { numRuns: 8 },
    )
  })

  it("HTLC keys start at slot 1 (slot 0 is the hash)", () => {
    const receiver = new Uint8Array(32).fill(3)
    const { E: ephemeral, blinded } = blindPubkeys(new Uint8Array(32).fill(4), [publicKeyHex(receiver)], 1)
    const preimage = "11".repeat(32)
    const secret = createHtlcSecret(htlcHash(preimage), { pubkeys: [blinded[0]!] })
    const proof: Proof = { amount: 1n, id: "009a1f293253e41e", secret, C: ephemeral, p2pk_e: ephemeral }
    const keys = p2bkSigningKeys(proof, receiver)
    expect(keys.map((k) => k.slot)).toEqual([1])
    expect(() =>
      verifyP2pkSpend(signHtlcProof(withoutP2bkKey(proof), preimage, keys[0]!.key), 0),
    ).not.toThrow()
  })

  it("blinded keys are real points and unblind for random e, p and slot", () => {
    fc.assert(
      fc.property(scalar, scalar, fc.integer({ min: 0, max: MAX_P2BK_SLOT }), (eph, recv, slot) => {
        const { E: ephemeral, blinded } = blindPubkeys(eph, [publicKeyHex(recv)], slot)
        expect(() => secp256k1.Point.fromHex(blinded[0]!)).not.toThrow()
        const key = unblindSigningKey(recv, ephemeral, blinded[0]!, slot)!
        expect(publicKeyHex(key)).toBe(blinded[0])
      }),
      { numRuns: 10 },
    )
  })
})

describe("NUT-28 input validation", () => {
  it("slots are 0…10", () => {
    const zx = hexToBytes(v.shared_secret_Zx)
    expectTagged(() => p2bkBlindingScalar(zx, 11), "CryptoError", "derivation")
    expectTagged(() => p2bkBlindingScalar(zx, -1), "CryptoError", "derivation")
    expectTagged(() => p2bkBlindingScalar(zx.subarray(1), 0), "CryptoError", "derivation")
    expectTagged(() => blindPubkeys(e, SLOTS.map(() => P).concat([P])), "CryptoError", "derivation")
    expectTagged(() => blindPubkeys(e, [P], 11), "CryptoError", "derivation")
  })

  it("keys must be valid", () => {
    expectTagged(() => blindPubkeys(e, ["02" + "ff".repeat(32)]), "DecodeError")
    expectTagged(() => blindPubkeys(new Uint8Array(32), [P]), "CryptoError", "invalid-scalar")
    expectTagged(() => unblindSigningKey(p, "zz", v.blinded_pubkeys["0"], 0), "DecodeError")
    expectTagged(() => unblindSigningKey(p, E, "02" + "ff".repeat(32), 0), "DecodeError")
  })
})
