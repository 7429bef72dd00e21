/**
 * Crash points of a reclaim (the sender takes back an unclaimed token by swapping its proofs): after every
 * crash the value is either still pending under the send or back in the wallet as fresh proofs — never both,
 * never gone — and a reclaim that did not finish can be done again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type CrashMint, enumerateCrashPoints, freshWallet, fund, held, startCrashMint } from "./harness.js"

let cm: CrashMint
beforeAll(async () => {
  cm = await startCrashMint()
})
afterAll(async () => {
  await cm.served.close()
})

const pendingOf = (w: Parameters<typeof held>[0]) => w.pending().reduce((s, p) => s + p.amount, 0n)

describe("crash points: reclaim", { timeout: 600_000 }, () => {
  it("takes the token back exactly once at every crash point", async () => {
    const result = await enumerateCrashPoints(cm, {
      setup: async (cm) => {
        const { dataDir, engine, wallet } = await freshWallet(cm)
        await fund(cm, wallet, 13n)
        const sent = await wallet.send({ mintUrl: cm.url, amount: 5n })
        await engine.close()
        return { dataDir, op: { kind: "reclaim", operationId: sent.operationId }, state: sent.operationId }
      },
      check: async (cm, r, base, sendId) => {
        const w = r.wallet
        expect(cm.mint.stats().outstanding - base).toBe(13n)
        expect(held(w, cm.url)).toBe(13n)
        const pending = pendingOf(w)
        expect([0n, 5n]).toContain(pending)
        expect(w.balance(cm.url)).toBe(13n - pending)
        if (!r.run.crashed) expect(pending).toBe(0n)
        if (pending > 0n) {
          const again = await w.reclaim(sendId)
          expect(again.amount).toBe(5n)
        }
        expect(w.balance(cm.url)).toBe(13n)
        await fund(cm, w, 3n)
        expect(held(w, cm.url)).toBe(16n)
      },
    })
    expect(result.points).toContain("request-lost swap")
  })
})
