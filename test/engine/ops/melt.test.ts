/**
 * Melt through the engine against the in-process mint: paid with NUT-08 change, fee-reserve and quote
 * checks, input fees, payments left pending and settled later, failed payments, and every ambiguous outcome
 * (lost response, 500 after the commit, request that never arrived) settled by the quote's state.
 */
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { Engine } from "../../../src/engine/engine.js"
import { walletRuntime, withHooks } from "../../../src/engine/internal.js"
import { defaultMaxFeeReserve } from "../../../src/engine/ops/melt.js"
import { bolt11AmountMsat } from "../../../src/engine/ops/melt-policy.js"
import { recoverMelt } from "../../../src/engine/ops/melt-recovery.js"
import type { Wallet } from "../../../src/engine/wallet.js"
import type { MintClientShape } from "../../../src/ports/mint-client.js"
import { directMintClient } from "../../support/direct-mint-client.js"
import { freshDir, openTestEngine, testMint } from "../../support/engine.js"
import type { TestMint, TestMintOptions } from "../../support/mint/index.js"

const engines: Engine[] = []
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close()
})

interface Setup {
  readonly mint: TestMint
  readonly engine: Engine
  readonly w: Wallet
}

/** A wallet funded with `fund` at a fresh mint; `client` wraps the mint client (to make the mint lie). */
const setup = async (
  name: string,
  options: TestMintOptions = {},
  fund = 1000n,
  client?: (base: MintClientShape) => MintClientShape,
  now?: () => number,
): Promise<Setup> => {
  const mint = testMint(name, options)
  const base = directMintClient((url) => (url === mint.baseUrl ? mint : undefined))
  const engine = await openTestEngine([mint], {
    ...(client !== undefined ? { mintClient: client(base) } : {}),
    ...(now !== undefined ? { now } : {}),
  })
  engines.push(engine)
  const w = await engine.createWallet({ walletId: "w" })
  await w.addMint(mint.baseUrl)
  const q = await w.mintQuote({ mintUrl: mint.baseUrl, amount: fund })
  await w.mint(q.operationId)
  return { mint, engine, w }
}

const rejection = async (p: Promise<unknown>): Promise<{ _tag: string; reason?: string; code?: number }> => {
  try {
    await p
  } catch (e) {
    return e as { _tag: string; reason?: string }
  }
  throw new Error("expected a rejection")
}

/** The quote id the wallet recorded (tests only: the wallet never exposes it). */
const quoteIdOf = async (w: Wallet, operationId: string): Promise<string> => {
  const events = await Effect.runPromise(walletRuntime(w).operationEvents(operationId))
  for (const r of events)
    if (r.event._tag === "OperationStarted" && r.event.kind === "melt") return r.event.quoteId
  throw new Error("no melt quote recorded")
}

/** Σ of the wallet's proofs in a state. */
const held = (w: Wallet, state: "pending" | "reserved" | "unspent"): bigint =>
  walletRuntime(w)
    .view()
    .proofs({ state })
    .reduce((s, p) => s + p.proof.amount, 0n)

const auditOk = async (engine: Engine) => expect((await engine.audit()).ok).toBe(true)

describe("melt: paid", () => {
  it("pays an invoice, gets the unused reserve back as change, and records the fee exactly", async () => {
    const { mint, engine, w } = await setup("paid")
    const before = w.balance()
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    expect(q).toMatchObject({ amount: 100n, feeReserve: 2n, unit: "sat" })
    // A recorded quote is the caller's to pay: a recovery pass leaves it alone.
    expect(await w.recover()).toEqual({ recovered: 0, compensated: 0, pending: 0 })
    const r = await w.melt(q.operationId)
    expect(r.state).toBe("paid")
    expect(r.amount).toBe(100n)
    expect(r.feePaid).toBe(1n) // the test mint's Lightning fee
    expect(r.inputFee).toBe(0n)
    expect(r.change).toBeGreaterThan(0n)
    expect(r.preimage).toMatch(/^[0-9a-f]{64}$/)
    expect(w.balance()).toBe(before - r.amount - r.feePaid - r.inputFee)
    expect(mint.stats().outstanding).toBe(w.balance())
    expect(held(w, "pending") + held(w, "reserved")).toBe(0n)
    expect(mint.meltQuote(await quoteIdOf(w, q.operationId))?.state).toBe("PAID")
    const op = w.history().find((o) => o.operationId === q.operationId)
    expect(op).toMatchObject({ kind: "melt", status: "completed", fee: 1n, feeReserve: 2n })
    // Melting again is idempotent: the recorded outcome, no second request.
    const melts = mint.stats().requests["POST /v1/melt/bolt11"]
    expect(await w.melt(q.operationId)).toEqual(r)
    expect(mint.stats().requests["POST /v1/melt/bolt11"]).toBe(melts)
    await auditOk(engine)
  })

  it("charges NUT-02 input fees on top of the amount and the Lightning fee", async () => {
    const { mint, engine, w } = await setup("fees", { inputFeePpk: 100n })
    const before = w.balance()
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(300n) })
    expect(q.feeReserve).toBe(3n)
    const r = await w.melt(q.operationId)
    expect(r.state).toBe("paid")
    expect(r.inputFee).toBeGreaterThan(0n)
    expect(r.feePaid).toBe(1n)
    expect(w.balance()).toBe(before - 300n - r.feePaid - r.inputFee)
    expect(mint.stats().outstanding).toBe(w.balance())
    await auditOk(engine)
  })

  it("records the whole reserve as the fee when the route uses all of it", async () => {
    // 103 = 64 + 32 + 4 + 2 + 1 covers amount + reserve (102) with at most 1 to spare.
    const { mint, engine, w } = await setup("exact", {}, 103n)
    mint.config.lightningFee = (q) => q.feeReserve
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    expect(q.feeReserve).toBe(2n)
    const r = await w.melt(q.operationId)
    expect(r).toMatchObject({ state: "paid", feePaid: 2n, inputFee: 0n })
    expect(w.balance()).toBe(1n)
    expect(mint.stats().outstanding).toBe(1n)
    await auditOk(engine)
  })

  it("fails with InsufficientFunds and reserves nothing when the balance cannot cover amount + reserve", async () => {
    const { mint, engine, w } = await setup("poor", {}, 100n)
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    expect(await rejection(w.melt(q.operationId))).toMatchObject({ _tag: "InsufficientFunds" })
    expect(w.balance()).toBe(100n)
    expect(mint.stats().requests["POST /v1/melt/bolt11"]).toBeUndefined()
    await auditOk(engine)
  })
})

describe("melt: quote checks", () => {
  it("refuses a fee reserve above the default cap (10 % + 100) or above the caller's cap", async () => {
    expect(defaultMaxFeeReserve(1000n, "sat")).toBe(200n)
    expect(defaultMaxFeeReserve(1000n, "msat")).toBe(100_100n)
    const { mint, engine, w } = await setup("cap")
    mint.config.feeReserve = (amount) => amount / 2n
    const high = await rejection(w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(400n) }))
    expect(high).toMatchObject({ _tag: "QuoteRejected", reason: "fee-reserve-too-high" })
    // Just inside the default cap: 10 % of 400 + 100 = 140.
    mint.config.feeReserve = () => 140n
    const ok = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(400n) })
    expect(ok.feeReserve).toBe(140n)
    mint.config.feeReserve = () => 2n
    const capped = await rejection(
      w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(400n), maxFeeReserve: 1n }),
    )
    expect(capped).toMatchObject({ _tag: "QuoteRejected", reason: "fee-reserve-too-high" })
    // Refused quotes leave no trace; the accepted one is recorded (started, nothing reserved).
    expect(w.history().filter((o) => o.kind === "melt")).toHaveLength(1)
    expect(w.balance()).toBe(1000n)
    await auditOk(engine)
  })

  it("refuses a quote whose amount, unit or invoice is not what was asked", async () => {
    let lie: "amount" | "unit" | "request" | undefined
    const { mint, w } = await setup("liar", {}, 100n, (base) => ({
      ...base,
      meltQuote: (url, method, request) =>
        base
          .meltQuote(url, method, request)
          .pipe(
            Effect.map((q) =>
              lie === "amount"
                ? { ...q, amount: q.amount + 1n }
                : lie === "unit"
                  ? { ...q, unit: "usd" }
                  : lie === "request"
                    ? { ...q, request: mint.invoice(q.amount) }
                    : q,
            ),
          ),
    }))
    for (const [what, reason] of [
      ["amount", "amount-mismatch"],
      ["unit", "unit-mismatch"],
      ["request", "amount-mismatch"],
    ] as const) {
      lie = what
      const e = await rejection(w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(10n) }))
      expect(e).toMatchObject({ _tag: "QuoteRejected", reason })
    }
    expect(w.history().filter((o) => o.kind === "melt")).toHaveLength(0)
  })

  it("reads the amount of a BOLT11 invoice in msat", () => {
    const tail = "1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs"
    expect(bolt11AmountMsat(`lnbc2500u${tail}`)).toBe(250_000_000n)
    expect(bolt11AmountMsat(`lnbc20m${tail}`)).toBe(2_000_000_000n)
    expect(bolt11AmountMsat(`lnbcrt1000n${tail}`)).toBe(100_000n)
    expect(bolt11AmountMsat(`lntb10p${tail}`)).toBe(1n)
    expect(bolt11AmountMsat(`LNBC2${tail.toUpperCase()}`)).toBe(200_000_000_000n)
    expect(bolt11AmountMsat(`lnbc11p${tail}`)).toBeUndefined() // not a whole msat
    expect(bolt11AmountMsat(`lnbc${tail}`)).toBeUndefined() // amountless
    expect(bolt11AmountMsat(`lnbc01u${tail}`)).toBeUndefined() // leading zero
    expect(bolt11AmountMsat("cashuBo2Fteo")).toBeUndefined()
  })
})

describe("melt: payment pending", () => {
  it("answers pending, keeps the inputs pending, and completes once the mint reports it paid", async () => {
    const { mint, engine, w } = await setup("pending")
    mint.config.meltOutcome = "pending"
    const before = w.balance()
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    const r = await w.melt(q.operationId)
    expect(r).toMatchObject({ state: "pending", amount: 100n, feePaid: 0n, change: 0n })
    const inFlight = held(w, "pending")
    expect(inFlight).toBeGreaterThanOrEqual(102n)
    expect(w.balance()).toBe(before - inFlight)
    expect(w.pending()).toEqual([expect.objectContaining({ operationId: q.operationId, amount: inFlight })])
    expect(w.history().find((o) => o.operationId === q.operationId)?.pendingReason).toBe("payment-pending")

    // Still in flight: recovery leaves it, and polling does not grow the log.
    const events = (await Effect.runPromise(walletRuntime(w).operationEvents(q.operationId))).length
    expect(await w.recover()).toEqual({ recovered: 0, compensated: 0, pending: 1 })
    expect(await w.melt(q.operationId)).toMatchObject({ state: "pending" })
    expect((await Effect.runPromise(walletRuntime(w).operationEvents(q.operationId))).length).toBe(events)
    expect(held(w, "pending")).toBe(inFlight)
    await auditOk(engine)

    mint.settleMelt(await quoteIdOf(w, q.operationId), "paid")
    expect(await w.recover()).toEqual({ recovered: 1, compensated: 0, pending: 0 })
    const done = await w.melt(q.operationId)
    expect(done).toMatchObject({ state: "paid", amount: 100n, feePaid: 1n })
    expect(done.change).toBe(inFlight - 101n)
    expect(w.balance()).toBe(before - 100n - done.feePaid)
    expect(mint.stats().outstanding).toBe(w.balance())
    expect(w.pending()).toEqual([])
    await auditOk(engine)
  })

  it("releases the inputs when the pending payment fails (recoverMelt, quote back to UNPAID)", async () => {
    const { mint, engine, w } = await setup("pending-failed")
    mint.config.meltOutcome = "pending"
    const before = w.balance()
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    expect((await w.melt(q.operationId)).state).toBe("pending")
    mint.settleMelt(await quoteIdOf(w, q.operationId), "failed")
    const ctx = await Effect.runPromise(walletRuntime(w).existingOperation(q.operationId))
    const settled = await Effect.runPromise(recoverMelt(walletRuntime(w), ctx))
    expect(settled).toMatchObject({ _tag: "Compensated", reason: "payment-failed" })
    expect(w.balance()).toBe(before)
    expect(await rejection(w.melt(q.operationId))).toMatchObject({
      _tag: "OperationFailed",
      reason: "payment-failed",
    })
    expect(mint.stats().outstanding).toBe(before)
    await auditOk(engine)
  })

  it("leaves a melt alone while its request is still on its way (no recovery races it)", async () => {
    const { mint, engine, w } = await setup("racing")
    mint.faults.next({ path: "/v1/melt/bolt11", kind: "delay", ms: 150 })
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    const paying = w.melt(q.operationId)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(held(w, "reserved")).toBeGreaterThan(0n)
    expect(await w.recover()).toEqual({ recovered: 0, compensated: 0, pending: 1 })
    const ctx = await Effect.runPromise(walletRuntime(w).existingOperation(q.operationId))
    expect(await Effect.runPromise(recoverMelt(walletRuntime(w), ctx))).toEqual({
      _tag: "InDoubt",
      code: undefined,
    })
    expect(await w.melt(q.operationId)).toMatchObject({ state: "pending" })
    expect((await paying).state).toBe("paid")
    expect(mint.stats().outstanding).toBe(w.balance())
    await auditOk(engine)
  })
})

describe("melt: failures", () => {
  it("a failed payment (20004) is settled by the quote state: compensated, inputs spendable again", async () => {
    const { mint, engine, w } = await setup("failed")
    mint.config.meltOutcome = "failed"
    const before = w.balance()
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    expect(await rejection(w.melt(q.operationId))).toMatchObject({
      _tag: "OperationFailed",
      reason: "payment-failed",
    })
    expect(w.balance()).toBe(before)
    expect(held(w, "pending") + held(w, "reserved")).toBe(0n)
    // The same proofs pay a new quote.
    mint.config.meltOutcome = "paid"
    const again = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    const r = await w.melt(again.operationId)
    expect(r.state).toBe("paid")
    expect(w.balance()).toBe(before - 100n - r.feePaid)
    expect(mint.stats().outstanding).toBe(w.balance())
    await auditOk(engine)
  })

  it("a definitive refusal (11014, too many inputs) compensates at once", async () => {
    const { mint, engine, w } = await setup("refused")
    mint.config.maxInputs = 1
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(600n) })
    expect(await rejection(w.melt(q.operationId))).toMatchObject({
      _tag: "OperationFailed",
      reason: "rejected",
      code: 11014,
    })
    expect(w.balance()).toBe(1000n)
    expect(held(w, "pending") + held(w, "reserved")).toBe(0n)
    expect(mint.stats().outstanding).toBe(1000n)
    await auditOk(engine)
  })

  it("an expired quote is refused (at quote time, or before anything is reserved)", async () => {
    let skew = 0
    const { mint, engine, w } = await setup(
      "expired",
      { config: { quoteTtlSeconds: 60 } },
      1000n,
      undefined,
      () => Date.now() + skew,
    )
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    expect(q.expiry).toBeGreaterThan(Date.now() / 1000)
    skew = 120_000
    expect(await rejection(w.melt(q.operationId))).toMatchObject({ _tag: "QuoteRejected", reason: "expired" })
    expect(w.history().find((o) => o.operationId === q.operationId)).toMatchObject({
      status: "compensated",
      compensation: "quote-expired",
    })
    expect(mint.stats().requests["POST /v1/melt/bolt11"]).toBeUndefined()
    mint.config.quoteTtlSeconds = 0
    skew = 0
    expect(
      await rejection(w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })),
    ).toMatchObject({
      _tag: "QuoteRejected",
      reason: "expired",
    })
    expect(w.balance()).toBe(1000n)
    await auditOk(engine)
  })
})

describe("melt: ambiguous outcomes", () => {
  const paidAfter = async (name: string, fault: Parameters<TestMint["faults"]["next"]>[0]) => {
    const { mint, engine, w } = await setup(name)
    const before = w.balance()
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    mint.faults.next(fault)
    const r = await w.melt(q.operationId)
    expect(r).toMatchObject({ state: "paid", amount: 100n, feePaid: 1n })
    expect(r.change).toBeGreaterThan(0n)
    expect(w.balance()).toBe(before - 100n - 1n)
    expect(mint.stats().outstanding).toBe(w.balance())
    const op = w.history().find((o) => o.operationId === q.operationId)
    expect(op).toMatchObject({ status: "completed", lastRecovery: "quote-state:recovered" })
    await auditOk(engine)
  }

  it("a lost response: the quote state says PAID, the change comes with it", () =>
    paidAfter("dropped", { path: "/v1/melt/bolt11", kind: "drop-response" }))

  it("a 500 after the mint applied the melt: same", () =>
    paidAfter("five-hundred", { path: "/v1/melt/bolt11", kind: "error-500", apply: true }))

  it("a garbled 200: same", () => paidAfter("garbled", { path: "/v1/melt/bolt11", kind: "malformed-200" }))

  it("in doubt while the mint is unreachable; a later recovery completes it and restores the change", async () => {
    // The quote-state answer carries no change here: recovery must restore the blank outputs (NUT-09).
    const { mint, engine, w } = await setup("in-doubt", {}, 1000n, (base) => ({
      ...base,
      meltQuoteState: (url, method, id) =>
        base.meltQuoteState(url, method, id).pipe(Effect.map(({ change: _change, ...q }) => q)),
    }))
    const before = w.balance()
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    const quoteId = await quoteIdOf(w, q.operationId)
    mint.faults.next({ path: "/v1/melt/bolt11", kind: "drop-response" })
    mint.faults.next({ path: `/v1/melt/quote/bolt11/${quoteId}`, kind: "drop-request" })
    const e = await rejection(w.melt(q.operationId))
    expect(e).toMatchObject({ _tag: "OperationInDoubt", reason: "ambiguous" })
    expect(JSON.stringify(e)).not.toContain(quoteId)
    const inFlight = held(w, "reserved") + held(w, "pending")
    expect(inFlight).toBeGreaterThan(101n)
    expect(w.balance()).toBe(before - inFlight)
    await auditOk(engine)

    const restores = mint.stats().requests["POST /v1/restore"] ?? 0
    expect(await w.recover()).toEqual({ recovered: 1, compensated: 0, pending: 0 })
    expect(mint.stats().requests["POST /v1/restore"]).toBe(restores + 1)
    const r = await w.melt(q.operationId)
    expect(r).toMatchObject({ state: "paid", feePaid: 1n })
    expect(r.change).toBe(inFlight - 101n)
    expect(w.balance()).toBe(before - 101n)
    expect(mint.stats().outstanding).toBe(w.balance())
    await auditOk(engine)
  })

  it("a request that never reached the mint: the quote is UNPAID and the inputs unspent → released", async () => {
    const { mint, engine, w } = await setup("never-sent")
    const before = w.balance()
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    mint.faults.next({ path: "/v1/melt/bolt11", kind: "drop-request" })
    expect(await rejection(w.melt(q.operationId))).toMatchObject({
      _tag: "OperationFailed",
      reason: "payment-failed",
    })
    expect(mint.meltQuote(await quoteIdOf(w, q.operationId))?.state).toBe("UNPAID")
    expect(w.balance()).toBe(before)
    expect(held(w, "pending") + held(w, "reserved")).toBe(0n)
    expect(w.history().find((o) => o.operationId === q.operationId)?.lastRecovery).toBe(
      "quote-state:compensated",
    )
    await auditOk(engine)
  })

  it("never releases on UNPAID while the mint still holds the inputs", async () => {
    // A mint that reports UNPAID for a payment it is in fact still making (inputs pending at the mint).
    let hide = false
    const { mint, engine, w } = await setup("liar-unpaid", {}, 1000n, (base) => ({
      ...base,
      meltQuoteState: (url, method, id) =>
        base.meltQuoteState(url, method, id).pipe(Effect.map((q) => (hide ? { ...q, state: "UNPAID" } : q))),
    }))
    mint.config.meltOutcome = "pending"
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    expect((await w.melt(q.operationId)).state).toBe("pending")
    const inFlight = held(w, "pending")
    hide = true
    expect(await w.recover()).toEqual({ recovered: 0, compensated: 0, pending: 1 })
    expect(held(w, "pending")).toBe(inFlight)
    hide = false
    mint.settleMelt(await quoteIdOf(w, q.operationId), "paid")
    expect(await w.recover()).toEqual({ recovered: 1, compensated: 0, pending: 0 })
    expect(mint.stats().outstanding).toBe(w.balance())
    await auditOk(engine)
  })
})

describe("melt: crash and reopen", () => {
  /** Funds a wallet, then runs a melt in an engine that dies (throws) at the first append `crashAt` accepts. */
  const crashDuring = async (
    name: string,
    crashAt: (events: ReadonlyArray<{ readonly event: { readonly _tag: string } }>) => boolean,
    when: "beforeAppend" | "afterAppend",
  ) => {
    const mint = testMint(name)
    const dataDir = freshDir()
    const first = await openTestEngine([mint], { dataDir })
    const w = await first.createWallet({ walletId: "w" })
    await w.addMint(mint.baseUrl)
    const mq = await w.mintQuote({ mintUrl: mint.baseUrl, amount: 1000n })
    await w.mint(mq.operationId)
    const q = await w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
    await first.close()
    let armed = true
    const hook = (_wallet: string, events: ReadonlyArray<{ readonly event: { readonly _tag: string } }>) => {
      if (armed && crashAt(events)) {
        armed = false
        throw new Error("simulated crash")
      }
    }
    const dying = await openTestEngine([mint], withHooks({ dataDir }, { [when]: hook }))
    await expect(dying.wallet("w").melt(q.operationId)).rejects.toBeDefined()
    await dying.close()
    const engine = await openTestEngine([mint], { dataDir })
    engines.push(engine)
    return { mint, engine, w: engine.wallet("w"), operationId: q.operationId }
  }
  const has = (tag: string) => (events: ReadonlyArray<{ readonly event: { readonly _tag: string } }>) =>
    events.some((e) => e.event._tag === tag)

  it("after the intent, before the request: reopening releases the inputs (quote UNPAID, inputs unspent)", async () => {
    const { mint, engine, w, operationId } = await crashDuring(
      "crash-intent",
      has("OperationRequested"),
      "afterAppend",
    )
    expect(mint.stats().requests["POST /v1/melt/bolt11"]).toBeUndefined()
    expect(w.history().find((o) => o.operationId === operationId)).toMatchObject({
      status: "compensated",
      compensation: "payment-failed",
    })
    expect(w.balance()).toBe(1000n)
    expect(mint.stats().outstanding).toBe(1000n)
    await auditOk(engine)
  })

  it("after the mint paid, before the outcome was recorded: reopening completes it with its change", async () => {
    const { mint, engine, w, operationId } = await crashDuring(
      "crash-paid",
      has("OperationCompleted"),
      "beforeAppend",
    )
    expect(mint.stats().requests["POST /v1/melt/bolt11"]).toBe(1)
    const r = await w.melt(operationId)
    expect(r).toMatchObject({ state: "paid", amount: 100n, feePaid: 1n })
    expect(w.balance()).toBe(1000n - 101n)
    expect(mint.stats().outstanding).toBe(w.balance())
    expect(w.history().find((o) => o.operationId === operationId)?.lastRecovery).toBe("quote-state:recovered")
    await auditOk(engine)
  })
})
