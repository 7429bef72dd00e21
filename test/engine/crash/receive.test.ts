/**
 * Crash points of a receive: a sender (another wallet, in its own data directory) hands over a token; the
 * receiver dies at every point of the receive. After recovery the token's value is in the receiver's wallet
 * exactly when the mint has the token's proofs spent (never both, never neither), and a receive that did not
 * happen can be done again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { decodeToken } from "../../../src/protocol/token.js"
import { proofY } from "../../support/mint/index.js"
import { type CrashMint, enumerateCrashPoints, freshWallet, fund, held, startCrashMint } from "./harness.js"

let cm: CrashMint
beforeAll(async () => {
  cm = await startCrashMint()
})
afterAll(async () => {
  await cm.served.close()
})

describe("crash points: receive", { timeout: 600_000 }, () => {
  it("the token's value lands exactly once at every crash point", async () => {
    let receivedByRecovery = 0
    const result = await enumerateCrashPoints(cm, {
      setup: async (cm) => {
        const sender = await freshWallet(cm)
        await fund(cm, sender.wallet, 5n)
        const sent = await sender.wallet.send({ mintUrl: cm.url, amount: 5n })
        await sender.engine.close()
        const { dataDir, engine } = await freshWallet(cm)
        await engine.close()
        return { dataDir, op: { kind: "receive", token: sent.token }, state: sent.token }
      },
      check: async (cm, r, base, token) => {
        const w = r.wallet
        const ys = decodeToken(token).entries[0]!.proofs.map((p) => proofY(p.secret))
        const spent = ys.filter((y) => cm.mint.isSpent(y)).length
        expect([0, ys.length]).toContain(spent)
        // The sender still holds the token as pending (5); once spent, the mint no longer counts it.
        const tokenOutstanding = spent === 0 ? 5n : 0n
        expect(held(w, cm.url) + tokenOutstanding).toBe(cm.mint.stats().outstanding - base)
        expect(held(w, cm.url)).toBe(spent === 0 ? 0n : 5n)
        const receives = w.history().filter((op) => op.kind === "receive")
        if (spent > 0 && receives[0]!.recoveries > 0) receivedByRecovery++
        if (!r.run.crashed) expect(spent).toBe(ys.length)
        if (spent === 0) {
          const again = await w.receive(token)
          expect(again.amount).toBe(5n)
        }
        expect(held(w, cm.url)).toBe(5n)
        await fund(cm, w, 3n)
        expect(held(w, cm.url)).toBe(8n)
      },
    })
    expect(result.points).toContain("request-lost swap")
    expect(receivedByRecovery).toBeGreaterThanOrEqual(2)
  })
})
