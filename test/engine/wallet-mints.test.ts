/**
 * `wallet.mints()`: the mints a wallet trusts (the CLI's `mints` command lists them), per wallet, with units.
 */
import { describe, expect, it } from "vitest"
import { enginesClosedAfterEach, testMint } from "../support/engine.js"

const open = enginesClosedAfterEach()

describe("wallet.mints()", () => {
  it("lists each trusted mint once with its units, per wallet", async () => {
    const a = testMint("a")
    const b = testMint("b")
    const engine = await open([a, b])
    const alice = await engine.createWallet({ walletId: "alice" })
    const bob = await engine.createWallet({ walletId: "bob" })
    expect(alice.mints()).toEqual([])
    await alice.addMint(a.baseUrl)
    await alice.addMint(`${b.baseUrl}/`)
    await alice.addMint(a.baseUrl)
    const urls = alice
      .mints()
      .map((m) => m.mintUrl)
      .sort()
    expect(urls).toEqual([a.baseUrl, b.baseUrl].sort())
    expect(alice.mints().every((m) => m.units.length === 1 && m.units[0] === "sat")).toBe(true)
    expect(bob.mints()).toEqual([])
  })
})
