import { sha256 } from "@noble/hashes/sha2.js"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { bytesToHex, concatBytes, hexToBytes, utf8 } from "../../src/crypto/bytes.js"
import {
  legacyMintQuoteMessage,
  MINT_QUOTE_SIG_TAG,
  mintQuoteMessage,
  type QuoteOutput,
  signBatchMintQuotes,
  signMintQuote,
  verifyBatchMintSignatures,
  verifyMintQuoteSignature,
} from "../../src/crypto/nut20.js"
import { publicKeyHex, verifyDigest } from "../../src/crypto/schnorr.js"
import { expectTagged } from "../support/errors.js"
import { loadRepoVector, loadVector } from "../support/vectors.js"

const v20 = loadVector("20-signatures.json")
const v29 = loadVector("29-batch-mint.json")
const v20v1 = loadRepoVector("20-mint-quote-sig-v1.json")
const v29v1 = loadRepoVector("29-batch-mint-v1.json")

/** Vector outputs carry JSON numbers; ours are bigint. */
const outputsOf = (outputs: ReadonlyArray<{ amount: number; B_: string }>): QuoteOutput[] =>
  outputs.map((o) => ({ amount: BigInt(o.amount), B_: o.B_ }))

const key = (n: number): Uint8Array => {
  const k = new Uint8Array(32)
  k[0] = 0x33
  k[31] = n
  return k
}

describe("NUT-20 v1 (domain-separated, length-framed) vectors", () => {
  const { quote, signature } = v20v1.request
  const outputs = outputsOf(v20v1.request.outputs)

  it("builds the exact message bytes and hash", () => {
    const msg = mintQuoteMessage(quote, outputs)
    expect(bytesToHex(msg)).toBe(v20v1.msg_to_sign)
    expect(bytesToHex(sha256(msg))).toBe(v20v1.msg_hash)
    expect(bytesToHex(msg.slice(0, MINT_QUOTE_SIG_TAG.length))).toBe(bytesToHex(utf8(MINT_QUOTE_SIG_TAG)))
  })

  it("the vector's signature verifies; the key is 1·G", () => {
    const one = new Uint8Array(32)
    one[31] = 1
    expect(publicKeyHex(one)).toBe(v20v1.pubkey)
    expect(verifyMintQuoteSignature(quote, outputs, signature, v20v1.pubkey)).toBe(true)
    expect(verifyMintQuoteSignature(quote, outputs.slice(1), signature, v20v1.pubkey)).toBe(false)
    // The amount is signed now: the same B_ with another amount is another message.
    const bumped = outputs.map((o, i) => (i === 0 ? { ...o, amount: 2n } : o))
    expect(verifyMintQuoteSignature(quote, bumped, signature, v20v1.pubkey)).toBe(false)
  })

  it("we sign the v1 message, not the legacy one", () => {
    const one = new Uint8Array(32)
    one[31] = 1
    const sig = signMintQuote(quote, outputs, one)
    const x = hexToBytes(v20v1.pubkey.slice(2))
    expect(verifyDigest(sig, hexToBytes(v20v1.msg_hash), x)).toBe(true)
    expect(verifyDigest(sig, sha256(legacyMintQuoteMessage(quote, outputs)), x)).toBe(false)
  })

  it("amounts are minimal big-endian (0 is empty), lengths 4-byte big-endian", () => {
    const B_ = publicKeyHex(key(9))
    const cases: Array<[bigint, string]> = [
      [0n, "00000000"],
      [1n, "0000000101"],
      [255n, "00000001ff"],
      [256n, "000000020100"],
      [2n ** 64n - 1n, "00000008ffffffffffffffff"],
    ]
    for (const [amount, hex] of cases) {
      const msg = bytesToHex(mintQuoteMessage("q", [{ amount, B_ }]))
      expect(msg).toBe(bytesToHex(utf8(MINT_QUOTE_SIG_TAG)) + "0000000171" + hex + "00000021" + B_)
    }
    expectTagged(() => mintQuoteMessage("q", [{ amount: 2n ** 64n, B_ }]), "CryptoError", "signature")
    expectTagged(() => mintQuoteMessage("q", [{ amount: -1n, B_ }]), "CryptoError", "signature")
    expectTagged(() => mintQuoteMessage("q", [{ amount: 1n, B_: "zz" }]), "CryptoError", "signature")
    expect(verifyMintQuoteSignature("q", [{ amount: 1n, B_: "zz" }], "00".repeat(64), B_)).toBe(false)
  })

  it("the NUT-29 batch vector: the signature covers quotes[0] and ALL outputs", () => {
    const outs = outputsOf(v29v1.request.outputs)
    expect(bytesToHex(mintQuoteMessage(v29v1.quote, outs))).toBe(v29v1.msg_to_sign)
    expect(bytesToHex(sha256(mintQuoteMessage(v29v1.quote, outs)))).toBe(v29v1.msg_hash)
    expect(v29v1.request.signatures).toEqual([v29v1.signature_0])
    expect(
      verifyBatchMintSignatures(
        [{ quoteId: v29v1.quote, pubkey: v29v1.pubkey }],
        outs,
        v29v1.request.signatures,
      ),
    ).toBe(true)
    expect(
      verifyBatchMintSignatures(
        [{ quoteId: v29v1.quote, pubkey: v29v1.pubkey }],
        [...outs].reverse(),
        v29v1.request.signatures,
      ),
    ).toBe(false)
  })
})

describe("NUT-20 legacy vectors (still accepted when verifying)", () => {
  const [valid, invalid] = v20.vectors

  it("builds the exact message bytes", () => {
    const msg = legacyMintQuoteMessage(valid.request.quote, valid.request.outputs)
    expect(Array.from(msg)).toEqual(valid.msg_to_sign_bytes)
  })

  for (const vec of v20.vectors) {
    it(`${vec.expected}: ${vec.description}`, () => {
      const { quote, signature } = vec.request
      const outputs = outputsOf(vec.request.outputs)
      expect(verifyMintQuoteSignature(quote, outputs, signature, v20.pubkey)).toBe(vec.expected === "valid")
    })
  }

  it("the valid signature does not cover a changed quote, output order or output set", () => {
    const { quote, signature } = valid.request
    const outputs = outputsOf(valid.request.outputs)
    expect(verifyMintQuoteSignature(quote + "0", outputs, signature, v20.pubkey)).toBe(false)
    expect(verifyMintQuoteSignature(quote, [...outputs].reverse(), signature, v20.pubkey)).toBe(false)
    expect(verifyMintQuoteSignature(quote, outputs.slice(1), signature, v20.pubkey)).toBe(false)
    expect(outputsOf(invalid.request.outputs)).toEqual(outputs)
  })

  it("malformed keys and signatures are invalid, not errors", () => {
    const { quote, signature } = valid.request
    const outputs = outputsOf(valid.request.outputs)
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
    const B_ = fc
      .tuple(fc.integer({ min: 1, max: 250 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
      .map(([n, amount]) => ({ amount, B_: publicKeyHex(key(n)) }))
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
  const outputs = outputsOf(vec.request.outputs)
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
    expect(bytesToHex(sha256(legacyMintQuoteMessage(vec.quote, outputs)))).not.toBe(vec.msg_hash)
    expect(bytesToHex(sha256(legacyMintQuoteMessage(oldId, outputs)))).not.toBe(vec.msg_hash)
    const rawBytes = concatBytes(utf8(oldId), ...outputs.map((o: { B_: string }) => hexToBytes(o.B_)))
    expect(bytesToHex(sha256(rawBytes))).toBe(vec.msg_hash)
  })
})

describe("NUT-29 batch signatures", () => {
  const outputs = [1, 2, 3].map((n) => ({ amount: BigInt(n), B_: publicKeyHex(key(100 + n)) }))
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
