/**
 * Crash points of a send: swap-to-send with change, and an offline send from exact proofs. After every crash
 * the wallet's value (unspent + the token's pending proofs) equals what the mint has outstanding for it, the
 * send either produced its token (pending) or left every input spendable, and the next operation works.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  type CrashCase,
  type CrashMint,
  enumerateCrashPoints,
  freshWallet,
  fund,
  held,
  startCrashMint,
} from "./harness.js"

let cm: CrashMint
let uncached: CrashMint
beforeAll(async () => {
  cm = await startCrashMint()
  uncached = await startCrashMint({ cacheTtlSeconds: null })
})
afterAll(async () => {
  await cm.served.close()
  await uncached.served.close()
})

/** Pending value per completed send. */
const pendingOf = (w: Parameters<typeof held>[0]) => w.pending().reduce((s, p) => s + p.amount, 0n)

describe("crash points: send", { timeout: 600_000 }, () => {
  /** A send of 6 from 8 + 4 + 1: a swap with change. Counts the sends that recovery finished. */
  const swapSend = (stats: { completedByRecovery: number }): CrashCase<undefined> => ({
    setup: async (cm) => {
      const { dataDir, engine, wallet } = await freshWallet(cm)
      await fund(cm, wallet, 13n) // 8 + 4 + 1: no exact 6
      await engine.close()
      return { dataDir, op: { kind: "send", amount: "6" }, state: undefined }
    },
    check: async (cm, r, base) => {
      const w = r.wallet
      expect(cm.mint.stats().outstanding - base).toBe(13n)
      expect(held(w, cm.url)).toBe(13n)
      const sends = w.history().filter((op) => op.kind === "send")
      // Lost before its intent was durable (no record), or ended: completed with its token, or compensated.
      expect(sends.length).toBeLessThanOrEqual(1)
      if (sends[0]?.status === "completed") {
        if (sends[0].recoveries > 0) stats.completedByRecovery++
        expect(pendingOf(w)).toBe(6n)
        expect(w.balance(cm.url)).toBe(7n)
      } else {
        expect(pendingOf(w)).toBe(0n)
        expect(w.balance(cm.url)).toBe(13n)
      }
      if (!r.run.crashed) expect(sends[0]?.status).toBe("completed")
      // Counters moved past every output the crashed attempt may have had signed.
      await fund(cm, w, 3n)
      const again = await w.send({ mintUrl: cm.url, amount: 2n, forceSwap: true })
      expect(again.amount).toBe(2n)
      expect(held(w, cm.url)).toBe(cm.mint.stats().outstanding - base)
    },
  })

  it("swap to send with change: all or nothing at every crash point, and in recovery", async () => {
    const stats = { completedByRecovery: 0 }
    const result = await enumerateCrashPoints(cm, swapSend(stats))
    expect(result.points).toContain("request-lost swap")
    expect(result.crashes).toBeGreaterThanOrEqual(6)
    // The crashes after the swap left (lost, unrecorded) are finished by recovery, not rolled back.
    expect(stats.completedByRecovery).toBeGreaterThanOrEqual(2)
    // The swap's answer was lost; then recovery itself crashes at each of its points.
    const inRecovery = { completedByRecovery: 0 }
    const recovery = await enumerateCrashPoints(cm, swapSend(inRecovery), {
      thenRecoverFrom: result.points.indexOf("request-lost swap") + 1,
    })
    expect(recovery.points).toContain("after-append")
    expect(inRecovery.completedByRecovery).toBeGreaterThanOrEqual(recovery.crashes)
  })

  it("swap to send without NUT-19 caching: recovery by checkstate and restore", async () => {
    const stats = { completedByRecovery: 0 }
    // From the intent's durable append on: the point before it does not reach recovery.
    const result = await enumerateCrashPoints(uncached, swapSend(stats), { from: 2 })
    expect(result.points.slice(1, 3)).toEqual(["after-append", "request-lost swap"])
    expect(stats.completedByRecovery).toBeGreaterThanOrEqual(2)
  })

  it("offline send from exact proofs: all or nothing at every crash point", async () => {
    const result = await enumerateCrashPoints(cm, {
      setup: async (cm) => {
        const { dataDir, engine, wallet } = await freshWallet(cm)
        await fund(cm, wallet, 13n)
        await engine.close()
        return { dataDir, op: { kind: "send", amount: "5" }, state: undefined }
      },
      check: async (cm, r, base) => {
        const w = r.wallet
        expect(held(w, cm.url)).toBe(cm.mint.stats().outstanding - base)
        const sends = w.history().filter((op) => op.kind === "send")
        // One append: the send exists completely (token, proofs pending) or not at all.
        if (sends.length === 1) {
          expect(sends[0]!.status).toBe("completed")
          expect(pendingOf(w)).toBe(5n)
        } else {
          expect(sends).toHaveLength(0)
          expect(pendingOf(w)).toBe(0n)
        }
        if (!r.run.crashed) expect(sends).toHaveLength(1)
        await fund(cm, w, 3n)
        expect(held(w, cm.url)).toBe(cm.mint.stats().outstanding - base)
      },
    })
    expect(result.points).toEqual(["before-append", "after-append"])
  })
})
