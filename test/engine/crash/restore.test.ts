/**
 * Crash points of a restore (NUT-09 + NUT-13): a wallet is restored from another wallet's mnemonic into an
 * empty data directory and dies at every point of the scan. After recovery it never holds more than the mint
 * has outstanding, a second restore finds the rest, and its counters end past every used output (the next mint
 * works: no 11003).
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

describe("crash points: restore", { timeout: 600_000 }, () => {
  it("restores each proof once at every crash point, and the counters move past them", async () => {
    const result = await enumerateCrashPoints(cm, {
      setup: async (cm) => {
        const original = await freshWallet(cm)
        await fund(cm, original.wallet, 13n)
        await fund(cm, original.wallet, 6n)
        const mnemonic = original.wallet.mnemonic()
        await original.engine.close()
        const { dataDir, engine } = await freshWallet(cm, { mnemonic })
        await engine.close()
        return { dataDir, op: { kind: "restore", batchSize: 8, emptyBatches: 1 }, state: undefined }
      },
      check: async (cm, r, base) => {
        const w = r.wallet
        const outstanding = cm.mint.stats().outstanding - base
        expect(outstanding).toBe(19n)
        const got = held(w, cm.url)
        expect(got).toBeLessThanOrEqual(outstanding)
        if (!r.run.crashed) expect(got).toBe(outstanding)
        if (got < outstanding) await w.restore({ mintUrl: cm.url, batchSize: 8, emptyBatches: 1 })
        expect(held(w, cm.url)).toBe(outstanding)
        await fund(cm, w, 3n)
        expect(held(w, cm.url)).toBe(22n)
      },
    })
    expect(result.points).toContain("request-lost restore")
  })
})
