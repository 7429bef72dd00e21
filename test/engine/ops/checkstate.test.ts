import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { walletRuntime } from "../../../src/engine/internal.js"
import type { Wallet } from "../../../src/engine/wallet.js"
import { enginesClosedAfterEach, fund, testMint } from "../../support/engine.js"
import type { TestMint } from "../../support/mint/index.js"

const open = enginesClosedAfterEach()

const setup = async (name: string, options: Parameters<typeof testMint>[1] = {}) => {
  const mint = testMint(name, { cacheTtlSeconds: null, ...options })
  const engine = await open([mint])
  const alice = await engine.createWallet({ walletId: "alice" })
  const bob = await engine.createWallet({ walletId: "bob" })
  await alice.addMint(mint.baseUrl)
  await bob.addMint(mint.baseUrl)
  return { mint, engine, alice, bob }
}

const pendingOf = (w: Wallet, operationId: string) =>
  w.pending().find((p) => p.operationId === operationId)?.amount ?? 0n

describe("checkPending", () => {
  it("records a claimed token's proofs spent and leaves an unclaimed one pending", async () => {
    const { mint, engine, alice, bob } = await setup("check-claim")
    await fund(alice, mint, 64n)
    const claimed = await alice.send({ mintUrl: mint.baseUrl, amount: 10n })
    const unclaimed = await alice.send({ mintUrl: mint.baseUrl, amount: 20n })
    await bob.receive(claimed.token)
    const claimedProofs = alice.pending().find((p) => p.operationId === claimed.operationId)!.proofs
    const unclaimedProofs = alice.pending().find((p) => p.operationId === unclaimed.operationId)!.proofs

    const r = await alice.checkPending()
    expect(r).toMatchObject({ spent: claimedProofs, unspent: unclaimedProofs, pending: 0, unchecked: 0 })
    expect(pendingOf(alice, claimed.operationId)).toBe(0n)
    expect(pendingOf(alice, unclaimed.operationId)).toBe(20n)
    const checks = alice.history().filter((o) => o.kind === "checkstate")
    expect(checks.map((c) => c.status)).toEqual(["completed"])

    // Nothing changed since: nothing is recorded.
    const again = await alice.checkPending(mint.baseUrl)
    expect(again).toMatchObject({ spent: 0, unspent: unclaimedProofs })
    expect(alice.history().filter((o) => o.kind === "checkstate").length).toBe(1)
    expect(alice.balance()).toBe(34n)
    expect(mint.stats().outstanding).toBe(alice.balance() + 20n + bob.balance())
    expect((await engine.audit()).ok).toBe(true)
  })

  it("decides nothing on a lying answer, nor when the mint is unreachable", async () => {
    const { mint, engine, alice, bob } = await setup("check-lie")
    await fund(alice, mint, 16n)
    const s = await alice.send({ mintUrl: mint.baseUrl, amount: 16n })
    await bob.receive(s.token)
    const original = mint.handle.bind(mint)
    // An answer that leaves out every Y it was asked about.
    ;(mint as { handle: TestMint["handle"] }).handle = async (req) =>
      req.path.endsWith("/v1/checkstate")
        ? { ...(await original(req)), body: '{"states":[]}' }
        : original(req)
    const lied = await alice.checkPending()
    expect(lied).toMatchObject({ spent: 0, unspent: 0, unchecked: 1 })
    expect(pendingOf(alice, s.operationId)).toBe(16n)
    ;(mint as { handle: TestMint["handle"] }).handle = original
    mint.faults.next({ path: "/v1/checkstate", kind: "drop-request" })
    expect(await alice.checkPending()).toMatchObject({ spent: 0, unchecked: 1 })
    expect(pendingOf(alice, s.operationId)).toBe(16n)
    expect(await alice.checkPending()).toMatchObject({ spent: 1, unchecked: 0 })
    expect(alice.pending()).toEqual([])
    expect((await engine.audit()).ok).toBe(true)
  })
})

/** The mint quote id a melt operation recorded (the test plays the Lightning side with it). */
const quoteIdOf = async (w: Wallet, operationId: string) => {
  const events = await Effect.runPromise(walletRuntime(w).operationEvents(operationId))
  const started = events.map((r) => r.event).find((e) => e._tag === "OperationStarted")
  if (started?._tag !== "OperationStarted" || started.kind !== "melt") throw new Error("not a melt")
  return started.quoteId
}

describe("checkPending: melts", () => {
  it("leaves a melt's inputs to the melt, and settles it through its quote once the payment went through", async () => {
    const { mint, engine, alice } = await setup("check-melt")
    await fund(alice, mint, 64n)
    mint.config.meltOutcome = "pending"
    const q = await alice.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(20n) })
    const m = await alice.melt(q.operationId)
    expect(m.state).toBe("pending")
    const held = alice.pending().find((p) => p.operationId === q.operationId)
    expect(held?.amount).toBeGreaterThan(0n)
    // Still in flight: the check neither spends nor releases the melt's inputs.
    const first = await alice.checkPending()
    expect(first).toMatchObject({ spent: 0, unspent: 0, settled: 0 })
    expect(alice.pending().find((p) => p.operationId === q.operationId)?.amount).toBe(held?.amount)
    mint.settleMelt(await quoteIdOf(alice, q.operationId), "paid")
    const second = await alice.checkPending()
    expect(second.settled).toBe(1)
    expect(alice.pending()).toEqual([])
    expect(alice.history().find((o) => o.operationId === q.operationId)?.status).toBe("completed")
    expect(mint.stats().outstanding).toBe(alice.balance())
    expect((await engine.audit()).ok).toBe(true)
  })
})

describe("reclaim", () => {
  it("takes an unclaimed send back, minus the swap's fee; the token is then worthless", async () => {
    const { mint, engine, alice, bob } = await setup("reclaim-free", { inputFeePpk: 100n })
    await fund(alice, mint, 64n)
    const s = await alice.send({ mintUrl: mint.baseUrl, amount: 10n })
    const before = alice.balance()
    const held = alice.pending().find((p) => p.operationId === s.operationId)!
    const r = await alice.reclaim(s.operationId)
    // 100 ppk per input, rounded up per request (NUT-02).
    expect(r.fee).toBe(BigInt(Math.ceil((held.proofs * 100) / 1000)))
    expect(r.amount).toBe(10n - r.fee)
    expect(alice.balance()).toBe(before + r.amount)
    expect(alice.pending()).toEqual([])
    const op = alice.history().find((o) => o.operationId === r.operationId)
    expect(op).toMatchObject({ kind: "swap", status: "completed" })
    await expect(bob.receive(s.token)).rejects.toBeDefined()
    expect(bob.balance()).toBe(0n)
    expect(mint.stats().outstanding).toBe(alice.balance())
    expect((await engine.audit()).ok).toBe(true)
    // Nothing left to reclaim.
    await expect(alice.reclaim(s.operationId)).rejects.toMatchObject({ _tag: "OperationFailed" })
  })

  it("loses the race to a recipient who claimed first: token-spent, and exactly one side holds the value", async () => {
    // NUT-19 caching on: recovery first replays the refused swap (refusals are not cached), then decides.
    const { mint, engine, alice, bob } = await setup("reclaim-race", { cacheTtlSeconds: 300 })
    await fund(alice, mint, 64n)
    const s = await alice.send({ mintUrl: mint.baseUrl, amount: 24n })
    const before = alice.balance()
    await bob.receive(s.token)
    await expect(alice.reclaim(s.operationId)).rejects.toMatchObject({
      _tag: "OperationFailed",
      reason: "token-spent",
    })
    expect(alice.balance()).toBe(before)
    expect(alice.pending()).toEqual([])
    expect(bob.balance()).toBe(24n)
    const swap = alice.history().find((o) => o.kind === "swap")
    expect(swap).toMatchObject({ status: "compensated", compensation: "token-spent" })
    expect(mint.stats().outstanding).toBe(alice.balance() + bob.balance())
    expect((await engine.audit()).ok).toBe(true)
  })

  it("wins the race when it swaps first: the recipient's claim is refused", async () => {
    const { mint, engine, alice, bob } = await setup("reclaim-first")
    await fund(alice, mint, 64n)
    const s = await alice.send({ mintUrl: mint.baseUrl, amount: 24n })
    const [reclaimed, received] = await Promise.allSettled([
      alice.reclaim(s.operationId),
      bob.receive(s.token),
    ])
    // Exactly one side holds the value, whichever the mint served first.
    const won = [reclaimed.status === "fulfilled", received.status === "fulfilled"]
    expect(won.filter(Boolean).length).toBe(1)
    expect(alice.balance() + bob.balance()).toBe(64n)
    expect(mint.stats().outstanding).toBe(64n)
    expect((await engine.audit()).ok).toBe(true)
  })
})

describe("reclaim of a locked send (issue 10, item 5)", () => {
  /** A mint and an engine on one clock the test moves (P2PK locktimes are judged by both). */
  const clocked = async (name: string) => {
    const clock = { now: Date.now() }
    const mint = testMint(name, { cacheTtlSeconds: null, nowMs: () => clock.now })
    const engine = await open([mint], { now: () => clock.now })
    const alice = await engine.createWallet({ walletId: "alice" })
    const bob = await engine.createWallet({ walletId: "bob" })
    await alice.addMint(mint.baseUrl)
    await bob.addMint(mint.baseUrl)
    await fund(alice, mint, 64n)
    return { clock, mint, engine, alice, bob }
  }

  it("leaves proofs locked to another wallet with the send: no balance gained, the recipient still claims them", async () => {
    const { mint, engine, alice, bob } = await clocked("reclaim-foreign")
    const s = await alice.send({ mintUrl: mint.baseUrl, amount: 20n, lock: { pubkey: bob.publicKey() } })
    const before = alice.balance()
    const swaps = mint.stats().requests["POST /v1/swap"] ?? 0
    await expect(alice.reclaim(s.operationId)).rejects.toMatchObject({
      _tag: "OperationFailed",
      reason: "cancelled",
    })
    // Nothing was asked of the mint, nothing moved: the proofs are still the send's, pending.
    expect(mint.stats().requests["POST /v1/swap"] ?? 0).toBe(swaps)
    expect(alice.balance()).toBe(before)
    expect(pendingOf(alice, s.operationId)).toBe(20n)
    expect(alice.balances()[0]?.unspent).toBe(before)
    expect(await bob.receive(s.token)).toMatchObject({ amount: 20n })
    await alice.checkPending()
    expect(pendingOf(alice, s.operationId)).toBe(0n)
    expect(alice.balance()).toBe(before)
    expect(mint.stats().outstanding).toBe(alice.balance() + bob.balance())
    expect((await engine.audit()).ok).toBe(true)
  })

  it("signs for a send locked to its own key and takes it back", async () => {
    const { mint, engine, alice } = await clocked("reclaim-own")
    const s = await alice.send({ mintUrl: mint.baseUrl, amount: 20n, lock: { pubkey: alice.publicKey() } })
    const r = await alice.reclaim(s.operationId)
    expect(r.amount).toBe(20n)
    expect(alice.balance()).toBe(64n)
    expect(alice.pending()).toEqual([])
    expect(mint.stats().outstanding).toBe(64n)
    expect((await engine.audit()).ok).toBe(true)
  })

  it("takes a send back through its own refund key once the locktime passed, not before", async () => {
    const { clock, mint, engine, alice, bob } = await clocked("reclaim-refund")
    const locktime = Math.floor(clock.now / 1000) + 3600
    const s = await alice.send({
      mintUrl: mint.baseUrl,
      amount: 20n,
      lock: { pubkey: bob.publicKey(), locktime, refund: [alice.publicKey()] },
    })
    await expect(alice.reclaim(s.operationId)).rejects.toMatchObject({ _tag: "OperationFailed" })
    expect(alice.balance()).toBe(44n)
    expect(pendingOf(alice, s.operationId)).toBe(20n)
    clock.now += 2 * 3600 * 1000
    const r = await alice.reclaim(s.operationId)
    expect(r.amount).toBe(20n)
    expect(alice.balance()).toBe(64n)
    await expect(bob.receive(s.token)).rejects.toBeDefined()
    expect(bob.balance()).toBe(0n)
    expect(mint.stats().outstanding).toBe(64n)
    expect((await engine.audit()).ok).toBe(true)
  })

  it("hands locked proofs back to the send when the reclaim ends without effect", async () => {
    const { mint, engine, alice } = await clocked("reclaim-back")
    const s = await alice.send({ mintUrl: mint.baseUrl, amount: 20n, lock: { pubkey: alice.publicKey() } })
    mint.faults.next({ path: "/v1/swap", kind: "error-500" })
    await expect(alice.reclaim(s.operationId)).rejects.toMatchObject({
      _tag: "OperationFailed",
      reason: "not-processed",
    })
    expect(alice.balance()).toBe(44n)
    expect(alice.balances()[0]?.unspent).toBe(44n)
    expect(pendingOf(alice, s.operationId)).toBe(20n)
    expect((await engine.audit()).ok).toBe(true)
    const r = await alice.reclaim(s.operationId)
    expect(r.amount).toBe(20n)
    expect(alice.balance()).toBe(64n)
    expect(mint.stats().outstanding).toBe(64n)
    expect((await engine.audit()).ok).toBe(true)
  })
})
