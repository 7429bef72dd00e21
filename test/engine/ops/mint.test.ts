/**
 * The mint saga against the in-process mint: claim after payment, the quote phase, a seed whose counters
 * were used by an earlier life of the wallet (11003 on the claim), and two states nutshell can leave a quote
 * in for good when a mint request fails half-way under load (seen in the cluster soak: its SQLite lock timed
 * out): the quote back to PAID with our outputs held pending (11004 on every resend), and the quote stuck
 * PENDING after it signed our outputs.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { MintAmbiguous, MintUnreachable } from "../../../src/model/index.js"
import type { MintClientShape } from "../../../src/ports/mint-client.js"
import { directMintClient } from "../../support/direct-mint-client.js"
import { enginesClosedAfterEach, testMint } from "../../support/engine.js"
import type { TestMint } from "../../support/mint/index.js"

const open = enginesClosedAfterEach()

describe("mint", () => {
  it("waits for the payment, then claims exactly the quoted amount", async () => {
    const mint = testMint("pay", { config: { autoPay: false } })
    const engine = await open([mint])
    const w = await engine.createWallet({ walletId: "w" })
    await w.addMint(mint.baseUrl)
    const q = await w.mintQuote({ mintUrl: mint.baseUrl, amount: 21n })
    await expect(w.mint(q.operationId, { wait: false })).rejects.toMatchObject({
      _tag: "QuoteNotClaimable",
      state: "UNPAID",
    })
    expect(w.balance()).toBe(0n)
    mint.payQuote(mint.quoteIds("mint")[0]!)
    const r = await w.mint(q.operationId)
    expect(r.amount).toBe(21n)
    expect(w.balance()).toBe(21n)
    expect((await engine.audit()).ok).toBe(true)
  })

  it("claims with fresh outputs when a recreated wallet's counters were already used (11003)", async () => {
    const mint = testMint("reuse", { cacheTtlSeconds: null })
    const first = await open([mint])
    const original = await first.createWallet({ walletId: "original" })
    await original.addMint(mint.baseUrl)
    const q1 = await original.mintQuote({ mintUrl: mint.baseUrl, amount: 40n })
    await original.mint(q1.operationId)
    const mnemonic = original.mnemonic()

    // The same seed in a new engine, without a restore: its counters start at 0 again.
    const second = await open([mint])
    const copy = await second.createWallet({ walletId: "copy", mnemonic })
    await copy.addMint(mint.baseUrl)
    const q2 = await copy.mintQuote({ mintUrl: mint.baseUrl, amount: 40n })
    const r = await copy.mint(q2.operationId)
    expect(r.amount).toBe(40n)
    // The claim landed, and the restore on the way found the first life's proofs too.
    expect(copy.balance()).toBe(80n)
    expect(mint.stats().outstanding).toBe(80n)
    expect((await second.audit()).ok).toBe(true)
    const kinds = copy.history().map((h) => `${h.kind}:${h.status}`)
    expect(kinds).toContain("mint:compensated")
    expect(kinds).toContain("restore:completed")
    expect(kinds.filter((k) => k === "mint:completed")).toHaveLength(1)
  })

  /**
   * The in-process mint behind a client that plays nutshell's half-failed mint request: the first
   * `POST /v1/mint` stores its outputs and fails (no answer); `stuck: "paid"` — the quote goes back to PAID and
   * every request with those outputs is refused 11004, `stuck: "pending"` — the mint did sign them (a restore
   * finds them) but the quote reads PENDING from then on. Without NUT-19 caching (nutshell's default), so no
   * replay answers for the mint.
   */
  const halfFailingMint = (mint: TestMint, stuck: "paid" | "pending") => {
    const direct = directMintClient(mint)
    let pendingBody: string | undefined
    let posts = 0
    const client: MintClientShape = {
      ...direct,
      mint: ((url, method, body) =>
        Effect.suspend(() => {
          posts++
          const unreachable = new MintUnreachable({ mintUrl: url, endpoint: "mint", message: "dropped" })
          if (pendingBody === undefined) {
            pendingBody = body
            return stuck === "pending"
              ? Effect.andThen(direct.mint(url, method, body), Effect.fail(unreachable))
              : Effect.fail(unreachable)
          }
          if (stuck === "paid" && body === pendingBody)
            return Effect.fail(
              new MintAmbiguous({
                mintUrl: url,
                endpoint: "mint",
                status: 400,
                code: 11004,
                reason: "code",
                detail: "outputs are pending",
                message: "outputs are pending",
              }),
            )
          return direct.mint(url, method, body)
        })) as typeof direct.mint,
      mintQuoteState: ((url, method, quoteId) =>
        Effect.map(direct.mintQuoteState(url, method, quoteId), (q) =>
          stuck === "pending" && pendingBody !== undefined ? { ...q, state: "PENDING" as const } : q,
        )) as typeof direct.mintQuoteState,
    }
    return { client, posts: () => posts }
  }

  it("nutshell left our outputs pending and the quote PAID (11004 for good): claimed again with fresh outputs", async () => {
    const mint = testMint("stuck-paid", { cacheTtlSeconds: null })
    const { client, posts } = halfFailingMint(mint, "paid")
    const engine = await open([mint], { mintClient: client })
    const w = await engine.createWallet({ walletId: "w" })
    await w.addMint(mint.baseUrl)
    const q = await w.mintQuote({ mintUrl: mint.baseUrl, amount: 33n })
    // No answer → the claim's recovery pass: PAID → the same bytes again → 11004 → PAID still → this
    // operation ends, and a fresh claim of the quote lands.
    const r = await w.mint(q.operationId)
    expect(r.amount).toBe(33n)
    expect(posts()).toBe(3)
    expect(w.balance()).toBe(33n)
    expect(mint.stats().outstanding).toBe(33n)
    const mints = w.history().filter((h) => h.kind === "mint")
    expect(mints.map((h) => `${h.status}:${h.compensation ?? ""}:${h.code ?? ""}`).sort()).toEqual([
      "compensated:not-processed:11004",
      "completed::",
    ])
    expect((await engine.audit()).ok).toBe(true)
  })

  it("nutshell signed our outputs but left the quote PENDING: the outputs are restored and the mint completes", async () => {
    const mint = testMint("stuck-pending", { cacheTtlSeconds: null })
    const { client, posts } = halfFailingMint(mint, "pending")
    const engine = await open([mint], { mintClient: client })
    const w = await engine.createWallet({ walletId: "w" })
    await w.addMint(mint.baseUrl)
    const q = await w.mintQuote({ mintUrl: mint.baseUrl, amount: 21n })
    // No answer → the claim's recovery pass: PENDING → the restore finds our outputs signed.
    const r = await w.mint(q.operationId)
    expect(r.amount).toBe(21n)
    expect(posts()).toBe(1)
    expect(w.balance()).toBe(21n)
    expect(mint.stats().outstanding).toBe(21n)
    expect(w.history().find((h) => h.kind === "mint")?.status).toBe("completed")
    expect((await engine.audit()).ok).toBe(true)
  })
})
