/**
 * Crash points of the mint operation (quote → claim): after every crash the wallet holds exactly what the
 * mint issued to it, nothing is in flight, and the next mint works (no counter reused: no 11003). The same
 * with the crash in the recovery pass, and against a mint without NUT-19 caching (recovery by quote state
 * and NUT-09 restore instead of a replay).
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

let cached: CrashMint
let uncached: CrashMint
beforeAll(async () => {
  cached = await startCrashMint()
  uncached = await startCrashMint({ cacheTtlSeconds: null })
})
afterAll(async () => {
  await cached.served.close()
  await uncached.served.close()
})

const mintCase = (stats: { byRecovery: number }): CrashCase<undefined> => ({
  setup: async (cm) => {
    const { dataDir, engine } = await freshWallet(cm)
    await engine.close()
    return { dataDir, op: { kind: "mint", amount: "13" }, state: undefined }
  },
  check: async (cm, r, base) => {
    const issued = cm.mint.stats().outstanding - base
    // The quote is claimed (now or by recovery) or was never recorded: all or nothing.
    expect([0n, 13n]).toContain(issued)
    expect(held(r.wallet, cm.url)).toBe(issued)
    if (!r.run.crashed) expect(issued).toBe(13n)
    const mints = r.wallet.history().filter((op) => op.kind === "mint" && op.status === "completed")
    if (mints.some((op) => op.recoveries > 0)) stats.byRecovery++
    await fund(cm, r.wallet, 3n)
    expect(held(r.wallet, cm.url)).toBe(cm.mint.stats().outstanding - base)
  },
})

describe("crash points: mint", { timeout: 600_000 }, () => {
  it("loses nothing and counts nothing twice at any crash point, nor in recovery", async () => {
    const stats = { byRecovery: 0 }
    const result = await enumerateCrashPoints(cached, mintCase(stats))
    expect(result.points).toEqual([
      "request-lost mintQuote",
      "response-unrecorded mintQuote",
      "before-append",
      "after-append",
      "request-lost mintQuoteState",
      "response-unrecorded mintQuoteState",
      "before-append",
      "after-append",
      "request-lost mint",
      "response-unrecorded mint",
      "before-append",
      "after-append",
    ])
    expect(stats.byRecovery).toBeGreaterThanOrEqual(2)
    const inRecovery = { byRecovery: 0 }
    const recovery = await enumerateCrashPoints(cached, mintCase(inRecovery), {
      thenRecoverFrom: result.points.indexOf("request-lost mint") + 1,
    })
    expect(recovery.points).toContain("after-append")
    expect(inRecovery.byRecovery).toBe(recovery.crashes + 1)
  })

  it("recovers by quote state and restore when the mint does not cache (no NUT-19)", async () => {
    const stats = { byRecovery: 0 }
    // From the intent's durable append on (point 8 above): the earlier points do not reach recovery.
    const result = await enumerateCrashPoints(uncached, mintCase(stats), { from: 8 })
    expect(result.points[7]).toBe("after-append")
    expect(result.points[8]).toBe("request-lost mint")
    expect(stats.byRecovery).toBeGreaterThanOrEqual(2)
  })
})
