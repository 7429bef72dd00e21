/**
 * The crash soak, small: 20 random `SIGKILL`s of a child running random wallet operations against the real
 * nutshell mint, then recovery with the mint reachable and the books kept against the mint. The long run and
 * its figures: `RELIABILITY.md` (Crash soak).
 */
import { describe, expect, it } from "vitest"
import { runSoak } from "../../simulations/soak.js"
import { expectCleanBooks } from "../support/books.js"

describe("crash soak (real nutshell mint)", () => {
  it("loses nothing, counts nothing twice and leaves nothing stuck across 20 random SIGKILLs", async () => {
    const s = await runSoak({ kills: 20, seed: 20260901 })
    expect(s.bugs).toEqual([])
    expect(s.childDeaths).toEqual([])
    expect(s.kills).toBe(20)
    expectCleanBooks(s.books)
    expect(s.ok).toBe(true)
    // Value moved between the kills: the mint issued it and the wallets hold it.
    expect(s.actions.mint?.ok ?? 0).toBeGreaterThan(0)
  }, 300_000)
})
