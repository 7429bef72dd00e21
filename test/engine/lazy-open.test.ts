/**
 * Issue #15: `Engine.open` does no per-wallet work before it returns. Seeds are derived on first use, and the
 * recovery of operations a previous process left in flight runs in the background — but a wallet's first
 * call runs (or joins) its own recovery pass before its operation starts.
 */
import { Effect } from "effect"
import { describe, expect, it, vi } from "vitest"
import { mnemonicToSeed } from "../../src/crypto/nut13.js"
import { walletRuntime } from "../../src/engine/internal.js"
import { hasPendingRecovery } from "../../src/engine/startup.js"
import type { Wallet } from "../../src/engine/wallet.js"
import type { MintClientShape } from "../../src/ports/mint-client.js"
import { directMintClient } from "../support/direct-mint-client.js"
import { enginesClosedAfterEach, freshDir, fund, testMint } from "../support/engine.js"
import type { TestMint } from "../support/mint/index.js"

// Counts BIP-39 seed derivations (the real function, spied on).
vi.mock("../../src/crypto/nut13.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/crypto/nut13.js")>()
  return { ...real, mnemonicToSeed: vi.fn(real.mnemonicToSeed) }
})
const derivations = vi.mocked(mnemonicToSeed)

const open = enginesClosedAfterEach()

const inFlight = (w: Wallet) =>
  w.history().filter((o) => o.status !== "completed" && o.status !== "compensated")

/** The mint, with the calls recovery of an in-doubt swap makes (checkstate, restore) answered late. */
const slowRecoveryClient = (mint: TestMint, ms: number): MintClientShape => {
  const direct = directMintClient(mint)
  return {
    ...direct,
    checkState: (...args) => Effect.delay(direct.checkState(...args), ms),
    restore: (...args) => Effect.delay(direct.restore(...args), ms),
  }
}

/**
 * A data directory where `alice` has a send in doubt (its swap applied, the answer lost, the live recovery's
 * checkstate refused) and `bob` nothing in flight; the engine is closed.
 */
const leftInDoubt = async (name: string) => {
  const mint = testMint(name, { cacheTtlSeconds: null })
  const dataDir = freshDir()
  const e1 = await open([mint], { dataDir })
  const alice = await e1.createWallet({ walletId: "alice" })
  const bob = await e1.createWallet({ walletId: "bob" })
  await alice.addMint(mint.baseUrl)
  await bob.addMint(mint.baseUrl)
  await fund(alice, mint, 64n)
  mint.faults.next({ path: "/v1/swap", kind: "drop-response" })
  mint.faults.next({ path: "/v1/checkstate", kind: "drop-request" })
  await expect(alice.send({ mintUrl: mint.baseUrl, amount: 7n })).rejects.toMatchObject({
    _tag: "OperationInDoubt",
  })
  const [stuck] = inFlight(alice)
  expect(stuck?.kind).toBe("send")
  await e1.close()
  return { mint, dataDir, stuckId: stuck!.operationId }
}

describe("Engine.open defers per-wallet work (issue #15)", () => {
  it("derives no wallet's seed at open; each on first use, once; none after close", async () => {
    const mint = testMint("lazy-seed")
    const dataDir = freshDir()
    const e1 = await open([mint], { dataDir })
    const keys = new Map<string, string>()
    for (let i = 0; i < 30; i++) {
      const w = await e1.createWallet({ walletId: `w${i}` })
      keys.set(w.id, w.publicKey())
    }
    await e1.close()
    derivations.mockClear()
    const e2 = await open([mint], { dataDir })
    expect(e2.walletIds().length).toBe(30)
    expect(derivations).toHaveBeenCalledTimes(0)
    const w7 = e2.wallet("w7")
    // Derived on first use, from the mnemonic in the log: the same key as before the restart.
    expect(w7.publicKey()).toBe(keys.get("w7"))
    expect(derivations).toHaveBeenCalledTimes(1)
    expect(w7.publicKey()).toBe(keys.get("w7"))
    await w7.addMint(mint.baseUrl)
    await fund(w7, mint, 16n) // derives outputs from the seed
    expect(w7.balance()).toBe(16n)
    expect(derivations).toHaveBeenCalledTimes(1)
    expect(e2.wallet("w8").publicKey()).toBe(keys.get("w8"))
    expect(derivations).toHaveBeenCalledTimes(2)
    const rt = walletRuntime(e2.wallet("w9"))
    await e2.close()
    // Closed before its first use: nothing derives it any more (nor a wiped seed of another wallet).
    expect(() => rt.seed).toThrow(/closed/)
    expect(() => walletRuntime(w7).seed).toThrow(/closed/)
    expect(derivations).toHaveBeenCalledTimes(2)
  })

  it("a wallet's first call waits for the recovery of what it had in flight at open", async () => {
    const { mint, dataDir, stuckId } = await leftInDoubt("lazy-gate")
    // Recovery's mint calls answer 300 ms late: the call below comes long before the pass could end.
    const e2 = await open([mint], { dataDir, mintClient: slowRecoveryClient(mint, 300) })
    const alice = e2.wallet("alice")
    expect(hasPendingRecovery(walletRuntime(alice))).toBe(true)
    expect(hasPendingRecovery(walletRuntime(e2.wallet("bob")))).toBe(false)
    // Before recovery the 64 sat proof is reserved by the stuck send: a call that did not wait would find
    // nothing to spend, or start its operation before the stuck one ended.
    expect(alice.balance()).toBe(0n)
    const sent = await alice.send({ mintUrl: mint.baseUrl, amount: 5n })
    const history = alice.history()
    const stuck = history.find((o) => o.operationId === stuckId)!
    const next = history.find((o) => o.operationId === sent.operationId)!
    expect(stuck.status).not.toBe("pending")
    expect(inFlight(alice).map((o) => o.operationId)).not.toContain(stuckId)
    expect(stuck.lastSequence).toBeLessThan(next.firstSequence)
    expect(hasPendingRecovery(walletRuntime(alice))).toBe(false)
    expect(alice.balance()).toBe(64n - 7n - 5n)
    expect((await e2.audit()).ok).toBe(true)
  })

  it("the first recover() returns the pending pass's report instead of running a second pass", async () => {
    const { mint, dataDir } = await leftInDoubt("lazy-recover")
    const e2 = await open([mint], { dataDir, mintClient: slowRecoveryClient(mint, 100) })
    const alice = e2.wallet("alice")
    const [a, b] = await Promise.all([alice.recover(), alice.recover()])
    expect(a).toEqual({ recovered: 1, compensated: 0, pending: 0 })
    expect(b).toEqual(a) // both joined the one pass
    expect(inFlight(alice)).toEqual([])
    expect(await alice.recover()).toEqual({ recovered: 0, compensated: 0, pending: 0 })
  })

  it("the background sweep recovers a wallet nobody calls", async () => {
    const { mint, dataDir, stuckId } = await leftInDoubt("lazy-sweep")
    const e2 = await open([mint], { dataDir, mintClient: slowRecoveryClient(mint, 100) })
    const alice = e2.wallet("alice")
    expect(inFlight(alice).map((o) => o.operationId)).toEqual([stuckId])
    await vi.waitFor(() => expect(inFlight(alice)).toEqual([]), { timeout: 10_000, interval: 20 })
    expect(hasPendingRecovery(walletRuntime(alice))).toBe(false)
    expect(alice.balance()).toBe(57n)
    expect(alice.pending().reduce((s, p) => s + p.amount, 0n)).toBe(7n)
  })

  it("recover: false gates nothing and recovers nothing", async () => {
    const { mint, dataDir, stuckId } = await leftInDoubt("lazy-norecover")
    const e2 = await open([mint], { dataDir, recover: false })
    const alice = e2.wallet("alice")
    expect(hasPendingRecovery(walletRuntime(alice))).toBe(false)
    await alice.addMint(mint.baseUrl)
    await new Promise((r) => setTimeout(r, 300))
    expect(inFlight(alice).map((o) => o.operationId)).toEqual([stuckId])
    expect(alice.balance()).toBe(0n)
  })
})
