/**
 * The hostile-mint simulation, small: 30 wallet operations through a proxy that spoils a third of the real
 * nutshell mint's answers (dropped after applying, 500s, stalls, drips, truncated, oversized, malformed, flipped
 * signatures and DLEQ proofs, connections closed mid-answer). Every operation ends well or with a tagged error;
 * after recovery through the plain proxy the books kept against the mint balance. The long run and its figures:
 * `RELIABILITY.md` (Hostile mint).
 */
import { describe, expect, it } from "vitest"
import { runHostileMint } from "../../simulations/hostile-mint.js"

describe("hostile mint (proxy in front of the real nutshell mint)", () => {
  it("fails every spoiled answer typed, and loses and double-counts nothing after recovery", async () => {
    const s = await runHostileMint({ operations: 30, seed: 3 })
    expect(s.bugs).toEqual([])
    expect(s.untyped).toBe(0)
    const b = s.books
    expect(b.openOperations).toEqual([])
    expect(b.satsLost).toBe("0")
    expect(b.doubleCounted).toBe("0")
    expect(b.duplicates).toBe(0)
    expect(b.stale).toBe(0)
    expect(b.stuck).toEqual({
      inFlight: 0,
      inDoubt: 0,
      reserved: 0,
      incoming: 0,
      paidUnclaimed: 0,
      meltsPending: 0,
    })
    expect(b.audit).toBe(true)
    expect(s.ok).toBe(true)
    // The proxy was hostile, in many ways, and value still moved.
    expect(s.hostile).toBeGreaterThan(10)
    expect(Object.keys(s.byKind).length).toBeGreaterThanOrEqual(6)
    expect(BigInt(b.minted)).toBeGreaterThan(0n)
    expect(b.held).toBe(String(BigInt(b.minted) - BigInt(b.melted)))
  }, 300_000)
})
