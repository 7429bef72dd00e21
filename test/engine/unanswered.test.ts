/**
 * A request that timed out unanswered may still be applied by the mint later (queued at a slow mint, or held on
 * the way): the hostile-mint simulation found it against nutshell. The swap timed out, the live recovery's
 * checkstate came back all-unspent (the mint had not reached the request yet), the inputs were released — then
 * the mint applied the swap: the wallet counted spent proofs as its balance and never stored the outputs.
 * Now an all-unspent checkstate within `unansweredGraceMs` of the timeout keeps the operation in doubt.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { walletRuntime } from "../../src/engine/internal.js"
import type { Wallet } from "../../src/engine/wallet.js"
import { MintAmbiguous, MintTimeout } from "../../src/model/index.js"
import { directMintClient } from "../support/direct-mint-client.js"
import { enginesClosedAfterEach, fund, testMint } from "../support/engine.js"
import type { TestMint } from "../support/mint/index.js"

const open = enginesClosedAfterEach()

/**
 * The in-process client, except that the next swap (or melt) times out at once while its request is held:
 * `deliver()` hands it to the mint afterwards, as a mint that took it up late would.
 */
const lateClient = (mint: TestMint) => {
  const direct = directMintClient(mint)
  const held: Array<() => Promise<unknown>> = []
  let arm: "swap" | "melt" | undefined
  const timeout = (endpoint: "swap" | "melt") =>
    new MintTimeout({
      mintUrl: mint.baseUrl,
      endpoint,
      afterMs: 400,
      message: `${endpoint}: the answer stalled (nothing received for 400 ms)`,
    })
  const client = {
    ...direct,
    swap: ((mintUrl, body) =>
      Effect.suspend(() => {
        if (arm !== "swap") return direct.swap(mintUrl, body)
        arm = undefined
        held.push(() => Effect.runPromise(Effect.result(direct.swap(mintUrl, body))))
        return Effect.fail(timeout("swap"))
      })) as typeof direct.swap,
    melt: ((mintUrl, method, body) =>
      Effect.suspend(() => {
        if (arm !== "melt") return direct.melt(mintUrl, method, body)
        arm = undefined
        held.push(() => Effect.runPromise(Effect.result(direct.melt(mintUrl, method, body))))
        return Effect.fail(timeout("melt"))
      })) as typeof direct.melt,
  }
  return {
    client,
    armNext: (what: "swap" | "melt") => {
      arm = what
    },
    deliver: async () => {
      for (const f of held.splice(0)) await f()
    },
  }
}

/** Every proof the wallet calls spendable is unspent at the mint, and the wallet holds what the mint issued. */
const matchesMint = (w: Wallet, mint: TestMint) => {
  for (const p of walletRuntime(w).view().proofs({ state: "unspent" }))
    expect(mint.isSpent(p.proof.Y)).toBe(false)
  expect(w.balance()).toBe(mint.stats().outstanding)
}

describe("a request that timed out unanswered is not taken for never processed", () => {
  it("a swap the mint applies after the timeout: in doubt, then recovered from the mint — nothing lost", async () => {
    const mint = testMint("late-swap", { cacheTtlSeconds: null })
    const late = lateClient(mint)
    const engine = await open([mint], { mintClient: late.client })
    const alice = await engine.createWallet({ walletId: "alice" })
    await alice.addMint(mint.baseUrl)
    await fund(alice, mint, 64n)

    late.armNext("swap")
    // The live recovery's checkstate sees every input unspent: the mint has not taken the request up yet.
    await expect(alice.swap({ mintUrl: mint.baseUrl, amount: 20n })).rejects.toMatchObject({
      _tag: "OperationInDoubt",
    })
    expect(walletRuntime(alice).view().proofs({ state: "reserved" }).length).toBeGreaterThan(0)
    expect(await alice.recover()).toEqual({ recovered: 0, compensated: 0, pending: 1 })

    await late.deliver()
    expect(await alice.recover()).toEqual({ recovered: 1, compensated: 0, pending: 0 })
    expect(alice.balance()).toBe(64n)
    matchesMint(alice, mint)
    expect((await engine.audit()).ok).toBe(true)
  })

  it("a melt the mint pays after the timeout: in doubt, then settled paid — no input released", async () => {
    const mint = testMint("late-melt", { cacheTtlSeconds: null })
    const late = lateClient(mint)
    const engine = await open([mint], { mintClient: late.client })
    const alice = await engine.createWallet({ walletId: "alice" })
    await alice.addMint(mint.baseUrl)
    await fund(alice, mint, 64n)

    const q = await alice.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(10n) })
    late.armNext("melt")
    await expect(alice.melt(q.operationId)).rejects.toMatchObject({ _tag: "OperationInDoubt" })
    expect(
      walletRuntime(alice)
        .view()
        .proofs({ state: "unspent" })
        .some((p) => mint.isSpent(p.proof.Y)),
    ).toBe(false)

    await late.deliver()
    await alice.recover()
    expect(alice.history().find((o) => o.operationId === q.operationId)?.status).toBe("completed")
    matchesMint(alice, mint)
    expect((await engine.audit()).ok).toBe(true)
  })

  it("a timed-out request that never arrives is compensated once the grace is over", async () => {
    const mint = testMint("late-never", { cacheTtlSeconds: null })
    const late = lateClient(mint)
    const engine = await open([mint], {
      mintClient: late.client,
      options: { quotePollMs: 5, unansweredGraceMs: 50 },
    })
    const alice = await engine.createWallet({ walletId: "alice" })
    await alice.addMint(mint.baseUrl)
    await fund(alice, mint, 64n)

    late.armNext("swap")
    await expect(alice.swap({ mintUrl: mint.baseUrl, amount: 20n })).rejects.toMatchObject({
      _tag: "OperationInDoubt",
    })
    await new Promise((r) => setTimeout(r, 80))
    expect(await alice.recover()).toEqual({ recovered: 0, compensated: 1, pending: 0 })
    expect(alice.balance()).toBe(64n)
    matchesMint(alice, mint)
  })

  it("a mint request that lands late, while the claim is sent again: the value restored, nothing left in doubt", async () => {
    // The first request times out and is held; the live recovery reads the quote PAID and sends the same bytes
    // again; meanwhile the held one lands (the quote is issued), so the second gets 11003 "outputs already
    // signed" (as nutshell answers while it processes the first). The engine restores those outputs and claims
    // the quote afresh under a new operation, which the mint refuses (issued): that operation must end, not
    // stay in doubt for ever (found by the hostile-mint simulation).
    const mint = testMint("late-mint", { cacheTtlSeconds: null })
    const direct = directMintClient(mint)
    let calls = 0
    let held: (() => Promise<unknown>) | undefined
    const client = {
      ...direct,
      mint: ((mintUrl, method, body) =>
        Effect.suspend(() => {
          calls++
          if (calls === 1) {
            held = () => Effect.runPromise(Effect.result(direct.mint(mintUrl, method, body)))
            return Effect.fail(
              new MintTimeout({
                mintUrl,
                endpoint: "mint",
                afterMs: 400,
                message: "mint: the answer stalled",
              }),
            )
          }
          if (calls === 2)
            return Effect.promise(() => held!()).pipe(
              Effect.andThen(
                Effect.fail(
                  new MintAmbiguous({
                    mintUrl,
                    endpoint: "mint",
                    status: 400,
                    code: 11003,
                    reason: "code",
                    detail: "outputs have already been signed before.",
                    message: "mint: outputs have already been signed before",
                  }),
                ),
              ),
            )
          return direct.mint(mintUrl, method, body)
        })) as typeof direct.mint,
    }
    const engine = await open([mint], { mintClient: client })
    const alice = await engine.createWallet({ walletId: "alice" })
    await alice.addMint(mint.baseUrl)
    const q = await alice.mintQuote({ mintUrl: mint.baseUrl, amount: 40n })
    await alice.mint(q.operationId).catch(() => undefined)
    await alice.recover()
    expect(alice.history().filter((o) => o.status !== "completed" && o.status !== "compensated")).toEqual([])
    expect(alice.balance()).toBe(40n)
    matchesMint(alice, mint)
    expect((await engine.audit()).ok).toBe(true)
  })
})
