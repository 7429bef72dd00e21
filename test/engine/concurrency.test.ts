/**
 * Concurrency: the wallet's single writer. Many concurrent calls on one wallet never reserve a proof twice,
 * two wallets do not wait for each other, and a token received twice at once is received once.
 */
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { Engine } from "../../src/engine/engine.js"
import { engineStore, walletRuntime } from "../../src/engine/internal.js"
import type { Wallet } from "../../src/engine/wallet.js"
import { decodeToken } from "../../src/protocol/token.js"
import { openTestEngine, testMint } from "../support/engine.js"
import { proofY, type TestMint } from "../support/mint/index.js"

const engines: Engine[] = []
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close()
})

const open = async (mints: ReadonlyArray<TestMint>) => {
  const e = await openTestEngine(mints)
  engines.push(e)
  return e
}

const fund = async (w: Wallet, mint: TestMint, amount: bigint) => {
  const q = await w.mintQuote({ mintUrl: mint.baseUrl, amount })
  await w.mint(q.operationId)
}

/** Σ unspent + reserved + pending. */
const held = (w: Wallet): bigint => w.balances().reduce((s, b) => s + b.unspent + b.reserved + b.pending, 0n)

const settle = <A>(p: Promise<A>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error: error as { readonly _tag?: string } }),
  )

describe("one wallet, many concurrent calls", () => {
  it("100 concurrent sends over 10 proofs: no proof in two sends, no reservation twice", async () => {
    const mint = testMint("conc-a")
    const engine = await open([mint])
    const alice = await engine.createWallet({ walletId: "alice" })
    await alice.addMint(mint.baseUrl)
    // Ten proofs of 8: a send of 8, 16 or 24 is exact (offline); 5 and 3 need a swap with change.
    for (let i = 0; i < 10; i++) await fund(alice, mint, 8n)
    expect(walletRuntime(alice).view().proofs({ state: "unspent" })).toHaveLength(10)
    const amounts = [8n, 16n, 5n, 24n, 3n]
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        settle(alice.send({ mintUrl: mint.baseUrl, amount: amounts[i % amounts.length]! })),
      ),
    )
    const ok = results.flatMap((r) => (r.ok ? [r.value] : []))
    const failed = results.flatMap((r) => (r.ok ? [] : [r.error]))
    expect(ok.length).toBeGreaterThan(0)
    expect(failed.length).toBeGreaterThan(0)
    for (const e of failed) expect(e._tag).toBe("InsufficientFunds")
    // Both paths raced: offline sends decided while swaps were out at the mint.
    expect(ok.some((r) => r.offline)).toBe(true)
    expect(ok.some((r) => !r.offline)).toBe(true)
    const sentTotal = ok.reduce((s, r) => s + r.amount, 0n)
    expect(sentTotal).toBeLessThanOrEqual(80n)
    // Each proof is in at most one token, and each token is worth what its send says.
    const seen = new Set<string>()
    for (const r of ok) {
      const proofs = decodeToken(r.token).entries.flatMap((e) => e.proofs)
      expect(proofs.reduce((s, p) => s + p.amount, 0n)).toBe(r.amount)
      for (const p of proofs) {
        const y = proofY(p.secret)
        expect(seen.has(y)).toBe(false)
        seen.add(y)
      }
    }
    // Nothing is reserved any more; the value is unspent or pending in tokens, as the mint counts it.
    expect(walletRuntime(alice).view().proofs({ state: "reserved" })).toEqual([])
    expect(held(alice)).toBe(80n)
    expect(mint.stats().outstanding).toBe(80n)
    // The log: a Y is reserved again only after its owner released it.
    const records = await Effect.runPromise(engineStore(engine).read(walletRuntime(alice).stream))
    const owner = new Map<string, string>()
    let reservations = 0
    for (const { event: e } of records) {
      if (e._tag === "ProofsReserved")
        for (const y of e.ys) {
          expect(owner.has(y), "a proof reserved while another operation holds it").toBe(false)
          owner.set(y, e.operationId)
          reservations++
        }
      if (e._tag === "ProofsReleased" || e._tag === "ProofsSpent") for (const y of e.ys) owner.delete(y)
    }
    expect(reservations).toBeGreaterThanOrEqual(10)
    expect((await engine.audit()).ok).toBe(true)
    // Every token is good: a second wallet receives them all.
    const bob = await engine.createWallet({ walletId: "bob" })
    await bob.addMint(mint.baseUrl)
    for (const r of ok) await bob.receive(r.token)
    expect(bob.balance()).toBe(sentTotal)
    expect(mint.stats().outstanding).toBe(80n)
  })

  it("the same token received twice at once is received once", async () => {
    const mint = testMint("conc-b")
    const engine = await open([mint])
    const alice = await engine.createWallet({ walletId: "alice" })
    const bob = await engine.createWallet({ walletId: "bob" })
    await alice.addMint(mint.baseUrl)
    await bob.addMint(mint.baseUrl)
    await fund(alice, mint, 13n)
    const sent = await alice.send({ mintUrl: mint.baseUrl, amount: 5n })
    const both = await Promise.all([settle(bob.receive(sent.token)), settle(bob.receive(sent.token))])
    expect(both.filter((r) => r.ok)).toHaveLength(1)
    const loser = both.find((r) => !r.ok)
    expect(loser?.ok === false ? loser.error._tag : undefined).toBe("TokenRejected")
    expect(bob.balance()).toBe(5n)
    expect((await engine.audit()).ok).toBe(true)
  })

  it("the same token received by two wallets at once lands in exactly one", async () => {
    const mint = testMint("conc-c")
    const engine = await open([mint])
    const [alice, bob, carol] = await Promise.all(
      ["alice", "bob", "carol"].map((walletId) => engine.createWallet({ walletId })),
    )
    for (const w of [alice!, bob!, carol!]) await w.addMint(mint.baseUrl)
    await fund(alice!, mint, 13n)
    const sent = await alice!.send({ mintUrl: mint.baseUrl, amount: 5n })
    const both = await Promise.all([settle(bob!.receive(sent.token)), settle(carol!.receive(sent.token))])
    expect(both.filter((r) => r.ok)).toHaveLength(1)
    const loser = both.find((r) => !r.ok)
    // The mint refused the second swap (already spent): a definitive failure, nothing received.
    expect(loser?.ok === false ? loser.error._tag : undefined).toBe("OperationFailed")
    expect(bob!.balance() + carol!.balance()).toBe(5n)
    expect(held(bob!) + held(carol!)).toBe(5n)
    expect((await engine.audit()).ok).toBe(true)
  })
})

describe("wallets run in parallel", () => {
  it("a wallet whose writer is busy does not block another wallet", async () => {
    const mint = testMint("conc-d")
    const engine = await open([mint])
    const alice = await engine.createWallet({ walletId: "alice" })
    const bob = await engine.createWallet({ walletId: "bob" })
    await alice.addMint(mint.baseUrl)
    await bob.addMint(mint.baseUrl)
    await fund(alice, mint, 13n)
    await fund(bob, mint, 13n)
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    // Hold alice's single writer until the gate opens.
    const holding = Effect.runPromise(walletRuntime(alice).write(() => Effect.promise(() => gate)))
    let aliceDone = false
    const aliceSend = alice.send({ mintUrl: mint.baseUrl, amount: 6n }).then((r) => {
      aliceDone = true
      return r
    })
    // Bob swaps and sends while alice waits.
    const bobSend = await bob.send({ mintUrl: mint.baseUrl, amount: 6n })
    const bobMint = await bob.mintQuote({ mintUrl: mint.baseUrl, amount: 2n })
    await bob.mint(bobMint.operationId)
    expect(bobSend.offline).toBe(false)
    expect(bob.balance()).toBe(9n)
    expect(aliceDone).toBe(false)
    release()
    await holding
    const a = await aliceSend
    expect(a.amount).toBe(6n)
    expect(alice.balance()).toBe(7n)
    expect((await engine.audit()).ok).toBe(true)
  })
})
