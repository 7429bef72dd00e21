/**
 * The hostile-mint simulation, small: 30 wallet operations through a proxy that spoils a third of the real
 * nutshell mint's answers (dropped after applying, 500s, stalls, drips, truncated, oversized, malformed, flipped
 * signatures and DLEQ proofs, connections closed mid-answer). Every operation ends well or with a tagged error;
 * after recovery through the plain proxy the books kept against the mint balance. The long run and its figures:
 * `RELIABILITY.md` (Hostile mint).
 */
import { describe, expect, it } from "vitest"
import { runHostileMint } from "../../simulations/hostile-mint.js"
import { expectCleanBooks } from "../support/books.js"

describe("hostile mint (proxy in front of the real nutshell mint)", () => {
  it("fails every spoiled answer typed, and loses and double-counts nothing after recovery", async () => {
    const s = await runHostileMint({ operations: 30, seed: 3 })
    expect(s.bugs).toEqual([])
    expect(s.untyped).toBe(0)
    expectCleanBooks(s.books)
    expect(s.ok).toBe(true)
    // The proxy was hostile, in many ways, and value still moved.
    expect(s.hostile).toBeGreaterThan(10)
    expect(Object.keys(s.byKind).length).toBeGreaterThanOrEqual(6)
  }, 300_000)
})
