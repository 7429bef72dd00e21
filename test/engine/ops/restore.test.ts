import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { walletRuntime } from "../../../src/engine/internal.js"
import type { Wallet } from "../../../src/engine/wallet.js"
import { walletEventId } from "../../../src/events/ids.js"
import { enginesClosedAfterEach, fund, testMint } from "../../support/engine.js"
import type { TestMint } from "../../support/mint/index.js"

const open = enginesClosedAfterEach()

/** Burns `count` counters of the active keyset the way a failed operation does: reserved, never used. */
const burnCounters = async (w: Wallet, mint: TestMint, count: number) => {
  const rt = walletRuntime(w)
  const keyset = rt.view().activeKeyset(mint.baseUrl, "sat")!
  const start = rt.view().nextCounter(keyset.id)
  const event = { _tag: "CountersReserved" as const, keysetId: keyset.id, start, count }
  await Effect.runPromise(
    rt.write((append) => append([{ eventId: walletEventId(rt.walletId, "burn", String(start), 0), event }])),
  )
}

/** Replaces the mint's request handler (a lying or failing mint). */
const intercept = (mint: TestMint, handle: TestMint["handle"]) => {
  ;(mint as { handle: TestMint["handle"] }).handle = handle
}

const activeId = (w: Wallet, mint: TestMint) => walletRuntime(w).view().activeKeyset(mint.baseUrl, "sat")!.id

describe("restore", () => {
  it("after wiping the data dir restores exactly the unspent value and advances the counters", async () => {
    const mint = testMint("restore-wipe", { cacheTtlSeconds: null })
    const e1 = await open([mint])
    const alice = await e1.createWallet({ walletId: "alice" })
    const bob = await e1.createWallet({ walletId: "bob" })
    await alice.addMint(mint.baseUrl)
    await bob.addMint(mint.baseUrl)
    await fund(alice, mint, 100n)
    const sent = await alice.send({ mintUrl: mint.baseUrl, amount: 37n, forceSwap: true })
    await bob.receive(sent.token)
    const unclaimed = await alice.send({ mintUrl: mint.baseUrl, amount: 5n, forceSwap: true })
    // What the mint still owes alice's seed: her spendable proofs plus the unclaimed token.
    const owed = alice.balance() + 5n
    expect(owed).toBe(63n)
    const keysetId = activeId(alice, mint)
    const next = walletRuntime(alice).view().nextCounter(keysetId)
    const mnemonic = alice.mnemonic()

    const e2 = await open([mint])
    const restored = await e2.createWallet({ walletId: "alice", mnemonic })
    await restored.addMint(mint.baseUrl)
    const r = await restored.restore({ mintUrl: mint.baseUrl })
    expect(r.amount).toBe(owed)
    expect(restored.balance()).toBe(owed)
    // The minted 100, the 37 bob claimed, and the swaps' inputs are spent: none came back.
    expect(r.spent).toBeGreaterThan(0)
    expect(r.counters.find((c) => c.keysetId === keysetId)?.next).toBe(next)
    expect(walletRuntime(restored).view().nextCounter(keysetId)).toBe(next)
    // The restored wallet holds the unclaimed token's proofs: bob can no longer be the only claimant, but
    // whoever swaps first wins; the restored wallet's own new mint must not collide with used counters.
    const m = await fund(restored, mint, 50n)
    expect(m.amount).toBe(50n)
    expect(restored.balance()).toBe(owed + 50n)
    expect(mint.stats().outstanding).toBe(bob.balance() + restored.balance())
    expect(unclaimed.amount).toBe(5n)
    expect((await e2.audit()).ok).toBe(true)
    const h = restored.history().find((o) => o.operationId === r.operationId)
    expect(h?.status).toBe("completed")
  })

  it("is idempotent: a second restore finds nothing new and moves nothing backwards", async () => {
    const mint = testMint("restore-twice", { cacheTtlSeconds: null })
    const e1 = await open([mint])
    const a = await e1.createWallet({ walletId: "a" })
    await a.addMint(mint.baseUrl)
    await fund(a, mint, 21n)
    const r1 = await a.restore({ mintUrl: mint.baseUrl })
    expect(r1.found).toBe(0)
    expect(a.balance()).toBe(21n)
    const e2 = await open([mint])
    const b = await e2.createWallet({ walletId: "b", mnemonic: a.mnemonic() })
    await b.addMint(mint.baseUrl)
    const first = await b.restore({ mintUrl: mint.baseUrl })
    expect(first.amount).toBe(21n)
    const second = await b.restore({ mintUrl: mint.baseUrl })
    expect(second.found).toBe(0)
    expect(second.amount).toBe(0n)
    expect(second.counters).toEqual(first.counters)
    expect(b.balance()).toBe(21n)
    expect((await e2.audit()).ok).toBe(true)
  })

  // Batches of 5, stop after 2 empty ones: a gap of g burned counters is always crossed when g < 10 and
  // never when g ≥ 14 (see the module comment of src/engine/ops/restore.ts).
  for (const [gap, crossed] of [
    [9, true],
    [14, false],
  ] as const) {
    it(`gap limit: a gap of ${gap} burned counters is ${crossed ? "crossed" : "not crossed"}`, async () => {
      const mint = testMint(`restore-gap-${gap}`, { cacheTtlSeconds: null })
      const e1 = await open([mint])
      const a = await e1.createWallet({ walletId: "a" })
      await a.addMint(mint.baseUrl)
      await fund(a, mint, 8n) // one output: counter 0
      await burnCounters(a, mint, gap)
      await fund(a, mint, 4n) // one output: counter 1 + gap
      const id = activeId(a, mint)
      expect(walletRuntime(a).view().nextCounter(id)).toBe(gap + 2)

      const e2 = await open([mint])
      const b = await e2.createWallet({ walletId: "b", mnemonic: a.mnemonic() })
      await b.addMint(mint.baseUrl)
      const r = await b.restore({ mintUrl: mint.baseUrl, batchSize: 5, emptyBatches: 2 })
      expect(r.amount).toBe(crossed ? 12n : 8n)
      expect(walletRuntime(b).view().nextCounter(id)).toBe(crossed ? gap + 2 : 1)
      // Scanning from past the gap finds the rest.
      if (!crossed) {
        const more = await b.restore({
          mintUrl: mint.baseUrl,
          fromCounter: gap + 1,
          batchSize: 5,
          emptyBatches: 2,
        })
        expect(more.amount).toBe(4n)
        expect(walletRuntime(b).view().nextCounter(id)).toBe(gap + 2)
      }
      expect((await e2.audit()).ok).toBe(true)
    })
  }

  it("records nothing when the mint fails midway", async () => {
    const mint = testMint("restore-fail", { cacheTtlSeconds: null })
    const e1 = await open([mint])
    const a = await e1.createWallet({ walletId: "a" })
    await a.addMint(mint.baseUrl)
    await fund(a, mint, 30n)
    const e2 = await open([mint])
    const b = await e2.createWallet({ walletId: "b", mnemonic: a.mnemonic() })
    await b.addMint(mint.baseUrl)
    const before = b.history().length
    // The first batch finds the proofs, the second request is refused: nothing may be recorded.
    const original = mint.handle.bind(mint)
    let calls = 0
    intercept(mint, async (req) => {
      if (req.path.endsWith("/v1/restore") && ++calls === 2) throw new TypeError("fetch failed")
      return original(req)
    })
    await expect(b.restore({ mintUrl: mint.baseUrl, batchSize: 5, emptyBatches: 2 })).rejects.toMatchObject({
      _tag: "MintUnreachable",
    })
    expect(calls).toBe(2)
    expect(b.history().length).toBe(before)
    expect(b.balance()).toBe(0n)
    intercept(mint, original)
    const r = await b.restore({ mintUrl: mint.baseUrl, batchSize: 5, emptyBatches: 2 })
    expect(r.amount).toBe(30n)
    expect((await e2.audit()).ok).toBe(true)
  })

  it("ignores signatures for outputs it did not ask for", async () => {
    const mint = testMint("restore-lie", { cacheTtlSeconds: null })
    const e1 = await open([mint])
    const a = await e1.createWallet({ walletId: "a" })
    const other = await e1.createWallet({ walletId: "other" })
    await a.addMint(mint.baseUrl)
    await other.addMint(mint.baseUrl)
    await fund(a, mint, 3n)
    await fund(other, mint, 64n)
    const original = mint.handle.bind(mint)
    // Capture the other wallet's signed outputs (an honest restore of its seed)...
    let foreign: { outputs: unknown[]; signatures: unknown[] } | undefined
    intercept(mint, async (req) => {
      const res = await original(req)
      if (req.path.endsWith("/v1/restore")) {
        const parsed = JSON.parse(res.body) as { outputs: unknown[]; signatures: unknown[] }
        if (parsed.outputs.length > 0) foreign = parsed
      }
      return res
    })
    const e2 = await open([mint])
    const spy = await e2.createWallet({ walletId: "spy", mnemonic: other.mnemonic() })
    await spy.addMint(mint.baseUrl)
    await spy.restore({ mintUrl: mint.baseUrl })
    expect(foreign?.outputs.length).toBeGreaterThan(0)
    // ...then a lying mint appends them to every restore answer.
    intercept(mint, async (req) => {
      const res = await original(req)
      if (!req.path.endsWith("/v1/restore") || foreign === undefined) return res
      const parsed = JSON.parse(res.body) as { outputs: unknown[]; signatures: unknown[] }
      return {
        ...res,
        body: JSON.stringify({
          outputs: [...parsed.outputs, ...foreign.outputs],
          signatures: [...parsed.signatures, ...foreign.signatures],
        }),
      }
    })
    const b = await e2.createWallet({ walletId: "b", mnemonic: a.mnemonic() })
    await b.addMint(mint.baseUrl)
    const r = await b.restore({ mintUrl: mint.baseUrl })
    expect(r.amount).toBe(3n)
    expect(b.balance()).toBe(3n)
    expect((await e2.audit()).ok).toBe(true)
  })
  it("a restore answer signing with another keyset fails typed (SignatureMismatch) and records nothing", async () => {
    const mint = testMint("restore-keyset-lie", { cacheTtlSeconds: null })
    const e1 = await open([mint])
    const a = await e1.createWallet({ walletId: "a" })
    await a.addMint(mint.baseUrl)
    await fund(a, mint, 5n)
    const original = mint.handle.bind(mint)
    intercept(mint, async (req) => {
      const res = await original(req)
      if (!req.path.endsWith("/v1/restore")) return res
      const parsed = JSON.parse(res.body) as { outputs: unknown[]; signatures: Array<{ id: string }> }
      return {
        ...res,
        body: JSON.stringify({
          ...parsed,
          signatures: parsed.signatures.map((g) => ({ ...g, id: "00ffffffffffffff" })),
        }),
      }
    })
    const e2 = await open([mint])
    const b = await e2.createWallet({ walletId: "b", mnemonic: a.mnemonic() })
    await b.addMint(mint.baseUrl)
    const before = walletRuntime(b).view().nextCounter(activeId(b, mint))
    const failed = await b.restore({ mintUrl: mint.baseUrl }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(failed).toMatchObject({ _tag: "SignatureMismatch" })
    expect(b.balance()).toBe(0n)
    expect(b.history().filter((op) => op.kind === "restore")).toEqual([])
    expect(walletRuntime(b).view().nextCounter(activeId(b, mint))).toBe(before)
    expect((await e2.audit()).ok).toBe(true)
  })
})

describe("restore: proofs pending at the mint", () => {
  it("does not import the inputs of a melt in flight, but passes their counters", async () => {
    const mint = testMint("restore-pending", { cacheTtlSeconds: null })
    const e1 = await open([mint])
    const a = await e1.createWallet({ walletId: "a" })
    await a.addMint(mint.baseUrl)
    await fund(a, mint, 64n)
    await fund(a, mint, 8n)
    mint.config.meltOutcome = "pending"
    const q = await a.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(40n) })
    expect((await a.melt(q.operationId)).state).toBe("pending")
    const inFlight = a.pending().reduce((s, p) => s + p.proofs, 0)
    expect(inFlight).toBeGreaterThan(0)
    const id = activeId(a, mint)

    const e2 = await open([mint])
    const b = await e2.createWallet({ walletId: "b", mnemonic: a.mnemonic() })
    await b.addMint(mint.baseUrl)
    const r = await b.restore({ mintUrl: mint.baseUrl })
    expect(r.pending).toBe(inFlight)
    expect(r.amount).toBe(a.balance())
    expect(b.balance()).toBe(a.balance())
    expect(b.pending()).toEqual([])
    // Past the two signed outputs (counters 0 and 1). The melt's NUT-08 blanks (reserved by `a`, not signed
    // yet) are invisible to a restore: only signed counters can be found.
    expect(walletRuntime(b).view().nextCounter(id)).toBe(2)
    expect(walletRuntime(a).view().nextCounter(id)).toBeGreaterThan(2)
    expect((await e2.audit()).ok).toBe(true)
  })
})

describe("restore after 11003 (outputs already signed)", () => {
  it("a wallet recreated from its mnemonic without a scan hits 11003 once, then its counters move past", async () => {
    const mint = testMint("restore-11003", { cacheTtlSeconds: null })
    const e1 = await open([mint])
    const a = await e1.createWallet({ walletId: "a" })
    const bob = await e1.createWallet({ walletId: "bob" })
    await a.addMint(mint.baseUrl)
    await bob.addMint(mint.baseUrl)
    await fund(a, mint, 64n)
    await fund(bob, mint, 10n)
    const token = (await bob.send({ mintUrl: mint.baseUrl, amount: 10n })).token

    const e2 = await open([mint])
    const twin = await e2.createWallet({ walletId: "twin", mnemonic: a.mnemonic() })
    await twin.addMint(mint.baseUrl)
    const id = activeId(twin, mint)
    expect(walletRuntime(twin).view().nextCounter(id)).toBe(0)
    // Its receive's outputs derive from counters the mint signed for `a`: refused with 11003.
    await expect(twin.receive(token)).rejects.toMatchObject({
      _tag: "OperationFailed",
      reason: "not-processed",
    })
    const failed = twin.history().find((o) => o.kind === "receive")
    expect(failed?.status).toBe("compensated")
    // The refusal triggered a restore from the operation's first counter: the counter moved past `a`'s
    // outputs and `a`'s unspent proofs (the same seed's) came in.
    const restores = twin.history().filter((o) => o.kind === "restore")
    expect(restores.length).toBe(1)
    // (Counters only move forward: past `a`'s outputs, and past the 2 the failed receive reserved.)
    expect(walletRuntime(twin).view().nextCounter(id)).toBe(
      Math.max(walletRuntime(a).view().nextCounter(id), 2),
    )
    expect(twin.balance()).toBe(64n)
    // The next operation uses fresh counters.
    const s = await twin.swap({ mintUrl: mint.baseUrl, amount: 20n })
    expect(s.amountOut).toBe(20n + (64n - 20n))
    expect(twin.balance()).toBe(64n)
    expect(mint.stats().outstanding).toBe(74n)
    expect((await e2.audit()).ok).toBe(true)
  })
})
