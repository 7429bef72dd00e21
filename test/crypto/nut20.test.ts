import { sha256 } from "@noble/hashes/sha2.js"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { bytesToHex, concatBytes, hexToBytes, utf8 } from "../../src/crypto/bytes.js"
import {
  mintQuoteMessage,
  signBatchMintQuotes,
  signMintQuote,
  verifyBatchMintSignatures,
  verifyMintQuoteSignature,
} from "../../src/crypto/nut20.js"
import { publicKeyHex } from "../../src/crypto/schnorr.js"
import { loadVector } from "../support/vectors.js"

const v20 = loadVector("20-signatures.json")
const v29 = loadVector("29-batch-mint.json")

const key = (n: number): Uint8Array => {
  const k = new Uint8Array(32)
  k[0] = 0x33
  k[31] = n
  return k
}

describe("NUT-20 vectors", () => {
  const [valid, invalid] = v20.vectors

  it("builds the exact message bytes", () => {
    const msg = mintQuoteMessage(valid.request.quote, valid.request.outputs)
    expect(Array.from(msg)).toEqual(valid.msg_to_sign_bytes)
  })

  for (const vec of v20.vectors) {
    it(`${vec.expected}: ${vec.description}`, () => {
      const { quote, outputs, signature } = vec.request
      expect(verifyMintQuoteSignature(quote, outputs, signature, v20.pubkey)).toBe(vec.expected === "valid")
    })
  }

  it("the valid signature does not cover a changed quote, output order or output set", () => {
    const { quote, outputs, signature } = valid.request
    expect(verifyMintQuoteSignature(quote + "0", outputs, signature, v20.pubkey)).toBe(false)
    expect(verifyMintQuoteSignature(quote, [...outputs].reverse(), signature, v20.pubkey)).toBe(false)
    expect(verifyMintQuoteSignature(quote, outputs.slice(1), signature, v20.pubkey)).toBe(false)
    expect(invalid.request.outputs).toEqual(outputs)
  })

  it("malformed keys and signatures are invalid, not errors", () => {
    const { quote, outputs, signature } = valid.request
    expect(verifyMintQuoteSignature(quote, outputs, signature, v20.pubkey.slice(2))).toBe(false)
    expect(verifyMintQuoteSignature(quote, outputs, signature, "04" + v20.pubkey.slice(2))).toBe(false)
    expect(verifyMintQuoteSignature(quote, outputs, signature, "zz")).toBe(false)
    expect(verifyMintQuoteSignature(quote, outputs, signature.slice(2), v20.pubkey)).toBe(false)
    expect(verifyMintQuoteSignature(quote, outputs, "zz".repeat(64), v20.pubkey)).toBe(false)
    // The same key with the other parity prefix has the same x-only key: BIP340 accepts it.
    const flipped = (v20.pubkey.startsWith("02") ? "03" : "02") + v20.pubkey.slice(2)
    expect(verifyMintQuoteSignature(quote, outputs, signature, flipped)).toBe(true)
  })

  it("sign → verify for random keys, quotes and outputs", () => {
    const B_ = fc.integer({ min: 1, max: 250 }).map((n) => ({ B_: publicKeyHex(key(n)) }))
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 250 }),
        fc.string({ maxLength: 40 }),
        fc.array(B_, { maxLength: 4 }),
        (n, q, outs) => {
          const sig = signMintQuote(q, outs, key(n))
          expect(verifyMintQuoteSignature(q, outs, sig, publicKeyHex(key(n)))).toBe(true)
          expect(verifyMintQuoteSignature(q + "x", outs, sig, publicKeyHex(key(n)))).toBe(false)
          expect(verifyMintQuoteSignature(q, outs, sig, publicKeyHex(key((n % 250) + 1)))).toBe(false)
        },
      ),
      { numRuns: 15 },
    )
  })
})

describe("NUT-29 batch signature vector (documented as broken upstream)", () => {
  const vec = v29.nut20_signature_valid_ordering
  const outputs = vec.request.outputs
  const oldId: string = v29.historical_quote_id_before_7b99ff0

  it("the file documents the defect and the historical quote id", () => {
    expect(v29.known_issues.join(" ")).toContain("7b99ff0")
    expect(oldId).toBe("locked-quote")
    expect(vec.request.signatures[0]).toBe(vec.signature_0)
    const one = new Uint8Array(32)
    one[31] = 1
    expect(vec.secret_key_note).toBe("sk = 1")
    expect(vec.pubkey).toBe(publicKeyHex(one))
  })

  it("signature_0 verifies under the NUT-20 rule with the historical quote id", () => {
    expect(verifyMintQuoteSignature(oldId, outputs, vec.signature_0, vec.pubkey)).toBe(true)
    expect(
      verifyBatchMintSignatures([{ quoteId: oldId, pubkey: vec.pubkey }], outputs, vec.request.signatures),
    ).toBe(true)
  })

  it("and does not verify with the current quote id (the mismatch known_issues describes)", () => {
    expect(vec.request.quotes).toEqual([vec.quote])
    expect(verifyMintQuoteSignature(vec.quote, outputs, vec.signature_0, vec.pubkey)).toBe(false)
    expect(
      verifyBatchMintSignatures(
        [{ quoteId: vec.quote, pubkey: vec.pubkey }],
        outputs,
        vec.request.signatures,
      ),
    ).toBe(false)
  })

  it("msg_hash is neither our message hash nor the signature's: it hashes the raw B_ bytes with the old id", () => {
    expect(bytesToHex(sha256(mintQuoteMessage(vec.quote, outputs)))).not.toBe(vec.msg_hash)
    expect(bytesToHex(sha256(mintQuoteMessage(oldId, outputs)))).not.toBe(vec.msg_hash)
    const rawBytes = concatBytes(utf8(oldId), ...outputs.map((o: { B_: string }) => hexToBytes(o.B_)))
    expect(bytesToHex(sha256(rawBytes))).toBe(vec.msg_hash)
  })
})

describe("NUT-29 batch signatures", () => {
  const outputs = [1, 2, 3].map((n) => ({ B_: publicKeyHex(key(100 + n)) }))
  const quotes = [
    { quoteId: "q-a", privateKey: key(1) },
    { quoteId: "q-b" },
    { quoteId: "q-c", privateKey: key(3) },
  ]
  const locks = quotes.map((q) =>
    q.privateKey === undefined
      ? { quoteId: q.quoteId }
      : { quoteId: q.quoteId, pubkey: publicKeyHex(q.privateKey) },
  )

  it("signs each locked quote over its id and ALL outputs, null for unlocked ones", () => {
    const sigs = signBatchMintQuotes(quotes, outputs)
    expect(sigs[1]).toBeNull()
    expect(verifyMintQuoteSignature("q-a", outputs, sigs[0]!, locks[0]!.pubkey!)).toBe(true)
    expect(verifyMintQuoteSignature("q-c", outputs, sigs[2]!, locks[2]!.pubkey!)).toBe(true)
    expect(verifyMintQuoteSignature("q-c", outputs.slice(0, 1), sigs[2]!, locks[2]!.pubkey!)).toBe(false)
    expect(verifyBatchMintSignatures(locks, outputs, sigs)).toBe(true)
  })

  it("enforces NUT-29 rule 8", () => {
    const sigs = signBatchMintQuotes(quotes, outputs)
    expect(verifyBatchMintSignatures(locks, outputs, sigs.slice(0, 2))).toBe(false)
    expect(verifyBatchMintSignatures(locks, outputs, undefined)).toBe(false)
    expect(verifyBatchMintSignatures(locks, outputs, [sigs[0]!, sigs[0]!, sigs[2]!])).toBe(false)
    expect(verifyBatchMintSignatures(locks, outputs, [sigs[0]!, null, null])).toBe(false)
    expect(verifyBatchMintSignatures(locks, outputs, [sigs[2]!, null, sigs[0]!])).toBe(false)
    const unlocked = [{ quoteId: "x" }, { quoteId: "y" }]
    expect(verifyBatchMintSignatures(unlocked, outputs, undefined)).toBe(true)
    expect(verifyBatchMintSignatures(unlocked, outputs, [null, null])).toBe(true)
  })
})
