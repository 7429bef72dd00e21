import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { enginesClosedAfterEach, freshDir, fund, openTestEngine, testMint } from "../support/engine.js"

const open = enginesClosedAfterEach()

describe("engine: mint → send → receive", () => {
  it("moves value between two wallets and the audit holds", async () => {
    const mint = testMint("a")
    const engine = await open([mint])
    const alice = await engine.createWallet({ walletId: "alice" })
    const bob = await engine.createWallet({ walletId: "bob" })
    await alice.addMint(mint.baseUrl)
    await bob.addMint(mint.baseUrl)
    const quote = await alice.mintQuote({ mintUrl: mint.baseUrl, amount: 100n })
    const minted = await alice.mint(quote.operationId)
    expect(minted.amount).toBe(100n)
    expect(alice.balance()).toBe(100n)

    const sent = await alice.send({ mintUrl: mint.baseUrl, amount: 37n })
    expect(sent.amount).toBe(37n)
    expect(alice.balance()).toBe(63n)
    expect(alice.pending().reduce((s, p) => s + p.amount, 0n)).toBe(37n)

    const got = await bob.receive(sent.token)
    expect(got.amount).toBe(37n)
    expect(bob.balance()).toBe(37n)

    expect(mint.stats().outstanding).toBe(100n)
    const audit = await engine.audit()
    expect(audit.ok).toBe(true)
    expect(await bob.audit()).toEqual(audit)
  })
})

describe("engine: swap", () => {
  it("re-splits 8 proofs into 8 new ones, charging the NUT-02 fee exactly", async () => {
    const mint = testMint("fees", { inputFeePpk: 100n })
    const engine = await open([mint])
    const w = await engine.createWallet({ walletId: "w" })
    await w.addMint(mint.baseUrl)
    const q = await w.mintQuote({ mintUrl: mint.baseUrl, amount: 256n })
    await w.mint(q.operationId)
    const before = w.balance()
    const r = await w.swap({ mintUrl: mint.baseUrl, amount: 100n })
    expect(r.fee).toBe(1n)
    expect(w.balance()).toBe(before - r.fee)
    expect((await engine.audit()).ok).toBe(true)
  })
})

describe("engine: opening", () => {
  it("refuses a wrong passphrase and a second opener with typed errors, and reopens with every wallet", async () => {
    const mint = testMint("reopen")
    const dir = freshDir()
    const first = await openTestEngine([mint], { dataDir: dir })
    const w = await first.createWallet({ walletId: "keeper" })
    await w.addMint(mint.baseUrl)
    await fund(w, mint, 42n)
    await expect(openTestEngine([mint], { dataDir: dir })).rejects.toMatchObject({ _tag: "StoreLocked" })
    await first.close()
    // Closing saved sealed projection checkpoints: present, and no secret in clear.
    const files = readdirSync(join(dir, "checkpoints")).filter((f) => f.endsWith(".checkpoint"))
    expect(files.length).toBeGreaterThan(0)
    for (const f of files)
      expect(readFileSync(join(dir, "checkpoints", f)).includes(w.mnemonic())).toBe(false)
    await expect(
      openTestEngine([mint], { dataDir: dir, passphrase: "not the passphrase" } as never),
    ).rejects.toMatchObject({ _tag: "VaultError" })
    const again = await open([mint], { dataDir: dir })
    expect(again.walletIds()).toEqual(["keeper"])
    expect(again.wallet("keeper").balance()).toBe(42n)
    expect(again.wallet("keeper").mnemonic()).toBe(w.mnemonic())
  })
})
