/**
 * The chaos simulation, small: a few wallets, a few seconds, many faults. Conservation, nothing in flight and
 * a clean audit after recovering everything.
 */
import { describe, expect, it } from "vitest"
import { runChaos } from "../../simulations/chaos.js"

describe("chaos simulation", () => {
  it("conserves value and audits clean under random faults", async () => {
    const s = await runChaos({ wallets: 3, seconds: 3, seed: 42, faultRate: 0.5 })
    expect(s.bugs).toEqual([])
    expect(s.held).toBe(s.outstanding)
    expect(s.conservation).toBe(true)
    expect(s.inFlight).toBe(0)
    expect(s.reserved).toBe(0)
    expect(s.stale).toBe(0)
    expect(s.audit).toBe(true)
    expect(s.ok).toBe(true)
    // The run did something under fire: value moved and faults fired.
    expect(s.actions.mint?.ok ?? 0).toBeGreaterThan(0)
    expect((s.actions.send?.ok ?? 0) + (s.actions.receive?.ok ?? 0)).toBeGreaterThan(0)
    expect(s.faultsFired).toBeGreaterThan(0)
  })
})
