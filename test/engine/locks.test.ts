/**
 * What the wallet can spend (issue 10, item 5): plain proofs, and locks it can satisfy with its own key.
 */
import { describe, expect, it } from "vitest"
import { createHtlcSecret } from "../../src/crypto/htlc.js"
import { createP2pkSecret, verifySpendingConditions } from "../../src/crypto/p2pk.js"
import { publicKeyHex } from "../../src/crypto/schnorr.js"
import { isLocked, spendableInput } from "../../src/engine/locks.js"
import type { StoredProof } from "../../src/events/catalogue.js"

const mine = "11".repeat(32)
const theirs = "22".repeat(32)
const other = "33".repeat(32)
const NOW = 1_700_000_000

const proof = (secret: string): StoredProof => ({
  amount: 8n,
  id: "00ad268c4d1f5826",
  secret,
  C: `02${"ab".repeat(32)}`,
  Y: `02${"cd".repeat(32)}`,
})

const p2pk = (key: string, opts: Parameters<typeof createP2pkSecret>[1] = {}) =>
  proof(createP2pkSecret(publicKeyHex(key), opts))

/** The input as the mint would check it at `now`. */
const accepted = (p: StoredProof, now = NOW) => {
  try {
    verifySpendingConditions({ inputs: [p], now })
    return true
  } catch {
    return false
  }
}

describe("spendableInput", () => {
  it("passes a plain proof through unchanged", () => {
    const plain = proof("ff".repeat(32))
    expect(isLocked(plain)).toBe(false)
    expect(spendableInput(plain, mine, NOW)).toBe(plain)
  })

  it("signs a lock to the wallet's own key, and the signature satisfies the lock", () => {
    const input = spendableInput(p2pk(mine), mine, NOW)
    expect(input?.witness).toBeDefined()
    expect(accepted(input!)).toBe(true)
  })

  it("refuses a lock to another key, a 2-of-2 multisig and an HTLC", () => {
    expect(spendableInput(p2pk(theirs), mine, NOW)).toBeUndefined()
    expect(
      spendableInput(p2pk(mine, { pubkeys: [publicKeyHex(theirs)], nSigs: 2 }), mine, NOW),
    ).toBeUndefined()
    expect(spendableInput(proof(createHtlcSecret("aa".repeat(32))), mine, NOW)).toBeUndefined()
  })

  it("takes the refund pathway only after the locktime, and only with a refund key of its own", () => {
    const refundable = p2pk(theirs, { locktime: NOW + 10, refund: [publicKeyHex(mine)] })
    expect(spendableInput(refundable, mine, NOW)).toBeUndefined()
    const later = spendableInput(refundable, mine, NOW + 10)
    expect(later?.witness).toBeDefined()
    expect(accepted(later!, NOW + 10)).toBe(true)
    const foreignRefund = p2pk(theirs, { locktime: NOW - 10, refund: [publicKeyHex(other)] })
    expect(spendableInput(foreignRefund, mine, NOW)).toBeUndefined()
  })

  it("treats an expired lock without refund keys as anyone's", () => {
    const open = p2pk(theirs, { locktime: NOW - 10 })
    expect(spendableInput(open, mine, NOW)).toBe(open)
    expect(spendableInput(p2pk(theirs, { locktime: NOW + 10 }), mine, NOW)).toBeUndefined()
  })

  it("refuses SIG_ALL locks (signed per transaction) and malformed conditions", () => {
    expect(spendableInput(p2pk(mine, { sigflag: "SIG_ALL" }), mine, NOW)).toBeUndefined()
    const malformed = proof('["P2PK",{"nonce":"00","data":"not a key","tags":[]}]')
    expect(isLocked(malformed)).toBe(true)
    expect(spendableInput(malformed, mine, NOW)).toBeUndefined()
  })
})
