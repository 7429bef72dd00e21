import { Wallet } from "@cashu/cashu-ts"
import { describe, expect, it } from "vitest"
import { createTestMint, proofY, serve } from "../support/mint/index.js"

/** A third-party client (cashu-ts, the interop oracle) over real HTTP: the wire format is not only ours. */
describe("test mint: cashu-ts as a client", () => {
  it("mints, sends with fees and melts with change, DLEQ required", async () => {
    const mint = createTestMint({ inputFeePpk: 100n, config: { feeReserve: () => 4n } })
    const server = await serve(mint)
    try {
      const wallet = new Wallet(server.url, { unit: "sat", requireSigDleq: true })
      await wallet.loadMint()
      const quote = await wallet.createMintQuoteBolt11(64)
      const proofs = await wallet.mintProofsBolt11(64, quote)
      expect(proofs.reduce((s, p) => s + BigInt(p.amount.toString()), 0n)).toBe(64n)
      const { keep, send } = await wallet.send(10, proofs, { includeFees: false })
      const kept = keep.reduce((s, p) => s + BigInt(p.amount.toString()), 0n)
      const sent = send.reduce((s, p) => s + BigInt(p.amount.toString()), 0n)
      // One 64-sat input at 100 ppk costs 1.
      expect(kept + sent).toBe(63n)
      expect(mint.isSpent(proofY(proofs[0]!.secret))).toBe(true)
      const meltQuote = await wallet.createMeltQuoteBolt11(mint.invoice(40n))
      const melted = await wallet.meltProofsBolt11(meltQuote, keep)
      expect(melted.quote.state).toBe("PAID")
      expect(mint.stats().outstanding).toBe(
        sent + melted.change.reduce((s, p) => s + BigInt(p.amount.toString()), 0n),
      )
    } finally {
      await server.close()
    }
  })
})
