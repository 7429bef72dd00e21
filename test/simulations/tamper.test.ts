/**
 * The tamper campaign, small: a forger without the key changes a real engine's data directory in every way
 * the campaign knows; nothing may change what the engine shows without the audit or the engine's open
 * refusing it, and every refusal is typed. The long run and its figures: RELIABILITY.md.
 */
import { describe, expect, it } from "vitest"
import { runTamperCampaign } from "../../simulations/tamper.js"

describe("tamper campaign", () => {
  it("misses nothing harmful, and fails typed, over 90 random tamperings", async () => {
    const report = await runTamperCampaign({ trials: 90, seed: 7 })
    expect(report.examples).toEqual([])
    expect(report.missed).toBe(0)
    expect(report.untyped).toBe(0)
    // The campaign reached the kinds that matter, and they were caught, not shrugged off as harmless.
    const detected = (prefix: string) =>
      Object.entries(report.byKind)
        .filter(([kind]) => kind.startsWith(prefix))
        .reduce((n, [, row]) => n + row.detected, 0)
    for (const family of ["forge:", "marker:", "record:", "index:", "flip:"])
      expect(detected(family)).toBeGreaterThan(0)
  })
})
