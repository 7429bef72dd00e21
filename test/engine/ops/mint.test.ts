/**
 * The mint saga against the in-process mint: claim after payment, the quote phase, and a seed whose counters
 * were used by an earlier life of the wallet (11003 on the claim).
 */
import { describe, expect, it } from "vitest"
import { enginesClosedAfterEach, testMint } from "../../support/engine.js"

const open = enginesClosedAfterEach()

describe("mint", () => {
  it("waits for the payment, then claims exactly the quoted amount", async () => {
    const mint = testMint("pay", { config: { autoPay: false } })
    const engine = await open([mint])
    const w = await engine.createWallet({ walletId: "w" })
    await w.addMint(mint.baseUrl)
    const q = await w.mintQuote({ mintUrl: mint.baseUrl, amount: 21n })
    await expect(w.mint(q.operationId, { wait: false })).rejects.toMatchObject({
      _tag: "QuoteNotClaimable",
      state: "UNPAID",
    })
    expect(w.balance()).toBe(0n)
    mint.payQuote(mint.quoteIds("mint")[0]!)
    const r = await w.mint(q.operationId)
    expect(r.amount).toBe(21n)
    expect(w.balance()).toBe(21n)
    expect((await engine.audit()).ok).toBe(true)
  })

  it("claims with fresh outputs when a recreated wallet's counters were already used (11003)", async () => {
    const mint = testMint("reuse", { cacheTtlSeconds: null })
    const first = await open([mint])
    const original = await first.createWallet({ walletId: "original" })
    await original.addMint(mint.baseUrl)
    const q1 = await original.mintQuote({ mintUrl: mint.baseUrl, amount: 40n })
    await original.mint(q1.operationId)
    const mnemonic = original.mnemonic()

    // The same seed in a new engine, without a restore: its counters start at 0 again.
    const second = await open([mint])
    const copy = await second.createWallet({ walletId: "copy", mnemonic })
    await copy.addMint(mint.baseUrl)
    const q2 = await copy.mintQuote({ mintUrl: mint.baseUrl, amount: 40n })
    const r = await copy.mint(q2.operationId)
    expect(r.amount).toBe(40n)
    // The claim landed, and the restore on the way found the first life's proofs too.
    expect(copy.balance()).toBe(80n)
    expect(mint.stats().outstanding).toBe(80n)
    expect((await second.audit()).ok).toBe(true)
    const kinds = copy.history().map((h) => `${h.kind}:${h.status}`)
    expect(kinds).toContain("mint:compensated")
    expect(kinds).toContain("restore:completed")
    expect(kinds.filter((k) => k === "mint:completed")).toHaveLength(1)
  })
})
