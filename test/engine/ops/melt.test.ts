/**
 * Melt through the engine against the in-process mint: paid with NUT-08 change, fee-reserve and quote
 * checks, input fees, payments left pending and settled later, failed payments, and every ambiguous outcome
 * (lost response, 500 after the commit, request that never arrived) settled by the quote's state.
 */
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { utf8 } from "../../../src/crypto/bytes.js"
import type { Engine } from "../../../src/engine/engine.js"
import { engineStore, walletRuntime, withHooks } from "../../../src/engine/internal.js"
import { defaultMaxFeeReserve } from "../../../src/engine/ops/melt.js"
import { checkInvoice, type InvoiceCheck } from "../../../src/engine/ops/melt-policy.js"
import { recoverMelt } from "../../../src/engine/ops/melt-recovery.js"
import type { Wallet } from "../../../src/engine/wallet.js"
import type { MintClientShape } from "../../../src/ports/mint-client.js"
import { decodeBolt11 } from "../../../src/protocol/bolt11.js"
import { bytesWords, field, writeInvoice } from "../../support/bolt11-encode.js"
import { directMintClient } from "../../support/direct-mint-client.js"
import { freshDir, openTestEngine, testMint } from "../../support/engine.js"
import type { TestMint, TestMintOptions } from "../../support/mint/index.js"
import { fakeInvoice, parseFakeInvoice, TEST_NODE_PUBKEY } from "../../support/mint/invoice.js"

/**
 * A regtest invoice (LND) that nutshell's FakeWallet tests melt (`tests/mint/test_mint_melt.py`,
 * `invoice_64_sat`): a real node's invoice, with `c`, `x` and optional feature bits our writer does not set.
 */
const NUTSHELL_INVOICE_64_SAT =
  "lnbcrt640n1pn0r3tfpp5e30xac756gvd26cn3tgsh8ug6ct555zrvl7vsnma5cwp4g7auq5qdqqcqzzsxqyz5vqsp5xfhtzg0y3mekv6nsdnj43c346smh036t4f8gcfa2zwpxzwcryqvs9qxpqysgqw5juev8y3zxpdu0mvdrced5c6a852f9x7uh57g6fgjgcg5muqzd5474d7xgh770frazel67eejfwelnyr507q46hxqehala880rhlqspw07ta0"

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
})

describe("melt: the invoice (decoded with the BOLT #11 decoder before anything is recorded)", () => {
  /** Unix seconds now. */
  const nowSec = () => Math.floor(Date.now() / 1000)

  /**
   * A wallet whose mint quotes any request when `lax` is set (a mint with a laxer decoder than the wallet's,
   * or one that quotes without looking): the quote is `lax`'s amount for whatever request was sent. Unset,
   * the in-process mint answers. `skew` moves the engine's clock (ms).
   */
  const laxSetup = async (name: string) => {
    const ctl = { lax: undefined as bigint | undefined, skew: 0 }
    const s = await setup(
      name,
      {},
      1000n,
      (base) => ({
        ...base,
        meltQuote: (url, method, request) =>
          ctl.lax === undefined
            ? base.meltQuote(url, method, request)
            : Effect.succeed({
                quote: "lax-quote",
                amount: ctl.lax,
                fee_reserve: 2n,
                state: "UNPAID" as const,
                unit: request.unit,
                request: request.request,
                expiry: nowSec() + 600,
              }),
      }),
      () => Date.now() + ctl.skew,
    )
    return { ...s, ctl }
  }

  /** The log head of the engine (one wallet: the wallet's log). */
  const head = (engine: Engine) => Effect.runPromise(engineStore(engine).head)

  /** `p` is refused; the refusal recorded nothing: the log head, the history and the balance did not move. */
  const refusedWithoutTrace = async (s: Setup, p: Promise<unknown>) => {
    const before = { head: await head(s.engine), history: s.w.history().length, balance: s.w.balance() }
    const e = await rejection(p)
    expect({ head: await head(s.engine), history: s.w.history().length, balance: s.w.balance() }).toEqual(
      before,
    )
    return e
  }

  const quote = (s: Setup, request: string, unit?: string) =>
    s.w.meltQuote({ mintUrl: s.mint.baseUrl, request, ...(unit !== undefined ? { unit } : {}) })

  it("the test mint's invoices are real: signed regtest invoices the decoder reads back", () => {
    const invoice = fakeInvoice(100n)
    expect(invoice.startsWith("lnbcrt1000n1")).toBe(true)
    const decoded = decodeBolt11(invoice)
    expect(decoded).toMatchObject({ network: "regtest", amountMsat: 100_000n, payeePubkey: TEST_NODE_PUBKEY })
    expect(decoded.paymentSecret).toMatch(/^[0-9a-f]{64}$/)
    expect(decodeBolt11(fakeInvoice(100n)).paymentHash).not.toBe(decoded.paymentHash)
    expect(parseFakeInvoice(invoice)?.amount).toBe(100n)
    // Not an invoice, amountless, or not regtest: the test mint does not quote it.
    expect(parseFakeInvoice("lnbcrt1000n1qqqqqqqqqqqqqqqq")).toBeUndefined()
    expect(parseFakeInvoice(fakeInvoice(0n, { amountless: true }))).toBeUndefined()
    expect(parseFakeInvoice(NUTSHELL_INVOICE_64_SAT)?.amount).toBe(64n)
  })

  it("an invoice for another amount than the quote's is refused (amount-mismatch), recording nothing", async () => {
    const s = await laxSetup("inv-amount")
    const invoice = s.mint.invoice(100n)
    for (const amount of [99n, 101n, 1n]) {
      s.ctl.lax = amount
      expect(await refusedWithoutTrace(s, quote(s, invoice))).toMatchObject({
        _tag: "QuoteRejected",
        reason: "amount-mismatch",
      })
    }
    // The quote the honest mint gives for it is accepted (and recorded).
    s.ctl.lax = undefined
    const before = await head(s.engine)
    expect((await quote(s, invoice)).amount).toBe(100n)
    expect(await head(s.engine)).toBeGreaterThan(before)
  })

  it("an expired invoice is refused (expired), by the engine's clock, recording nothing", async () => {
    const s = await laxSetup("inv-expired")
    // The test mint quotes expired invoices; the wallet refuses them itself.
    const old = fakeInvoice(100n, { timestamp: nowSec() - 7200 })
    expect(await refusedWithoutTrace(s, quote(s, old))).toMatchObject({
      _tag: "QuoteRejected",
      reason: "expired",
    })
    // Expiring within the minute: fine now, refused once the engine's clock passes timestamp + x.
    const short = fakeInvoice(100n, { timestamp: nowSec(), expirySeconds: 60 })
    s.ctl.skew = 120_000
    expect(await refusedWithoutTrace(s, quote(s, short))).toMatchObject({
      _tag: "QuoteRejected",
      reason: "expired",
    })
    s.ctl.skew = 0
    expect((await quote(s, short)).amount).toBe(100n)
    expect(s.mint.stats().requests["POST /v1/melt/quote/bolt11"]).toBe(3)
  })

  it("a malformed invoice fails with the decoder's DecodeError (the caller's input), recording nothing", async () => {
    const s = await laxSetup("inv-malformed")
    const good = s.mint.invoice(10n)
    const last = good.at(-1) === "q" ? "p" : "q"
    const key = new Uint8Array(32).fill(7)
    const ts = nowSec()
    const p = field("p", bytesWords(new Uint8Array(32).fill(1)))
    const secret = field("s", bytesWords(new Uint8Array(32).fill(2)))
    const d = field("d", bytesWords(utf8("x")))
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      [`${good.slice(0, -1)}${last}`, "bech32", "checksum"],
      ["lnbc1qqqqqqq", "bech32", "checksum"],
      ["cashuBo2Fteo", "bech32", "input"],
      [
        writeInvoice("lnbcrt100n", ts, [p, secret, d], key, { raw: new Uint8Array(65) }),
        "signature",
        "signature",
      ],
      [writeInvoice("lnbcrt100n", ts, [p, d], key), "schema", "tagged.s"],
      [writeInvoice("lnxx100n", ts, [p, secret, d], key), "prefix", "hrp"],
    ]
    // The in-process mint decodes too: it refuses them first ("could not decode invoice", its generic code 0).
    expect(await refusedWithoutTrace(s, quote(s, cases[0]![0]))).toMatchObject({ code: 0 })
    // A mint that quotes them anyway: the wallet's decoder refuses them.
    s.ctl.lax = 10n
    for (const [invoice, reason, path] of cases) {
      const e = await refusedWithoutTrace(s, quote(s, invoice))
      expect(e).toMatchObject({ _tag: "DecodeError", reason, path })
      expect(JSON.stringify({ ...e, message: (e as { message?: string }).message })).not.toContain(
        invoice.slice(4, 20),
      )
    }
  })

  it("an amountless invoice is not checked for an amount (the mint chose it); it must still decode and be unexpired", async () => {
    const s = await laxSetup("inv-amountless")
    s.ctl.lax = 42n
    const q = await quote(s, fakeInvoice(0n, { amountless: true }))
    expect(q.amount).toBe(42n)
    expect(s.w.history().filter((o) => o.kind === "melt")).toHaveLength(1)
    expect(
      await refusedWithoutTrace(
        s,
        quote(s, fakeInvoice(0n, { amountless: true, timestamp: nowSec() - 7200 })),
      ),
    ).toMatchObject({ _tag: "QuoteRejected", reason: "expired" })
  })

  it("a sat quote for a sub-satoshi invoice may round either way, no further", async () => {
    const s = await laxSetup("inv-subsat")
    const invoice = fakeInvoice(0n, { amountMsat: 10_500n }) // 10.5 sat
    // The in-process mint rounds up (as nutshell does): 11.
    expect((await quote(s, invoice)).amount).toBe(11n)
    // A mint that rounds down (as CDK does): 10.
    s.ctl.lax = 10n
    expect((await quote(s, invoice)).amount).toBe(10n)
    for (const amount of [9n, 12n]) {
      s.ctl.lax = amount
      expect(await refusedWithoutTrace(s, quote(s, invoice))).toMatchObject({
        _tag: "QuoteRejected",
        reason: "amount-mismatch",
      })
    }
    // 1 msat over a whole sat: 10 or 11.
    const tiny = fakeInvoice(0n, { amountMsat: 10_001n })
    for (const amount of [10n, 11n]) {
      s.ctl.lax = amount
      expect((await quote(s, tiny)).amount).toBe(amount)
    }
    expect(s.w.history().filter((o) => o.kind === "melt")).toHaveLength(4)
  })

  it("checkInvoice: the rule by unit and method, the expiry boundary, a recorded nutshell test invoice", async () => {
    const run = (request: string, o: Partial<InvoiceCheck> = {}) =>
      Effect.runPromise(
        Effect.result(
          checkInvoice(request, {
            method: "bolt11",
            unit: "sat",
            quoteAmount: 0n,
            nowSeconds: nowSec(),
            ...o,
          }),
        ),
      )
    const ok = { _tag: "Success" }
    const refused = (reason: string) => ({ _tag: "Failure", failure: { _tag: "QuoteRejected", reason } })
    const sub = fakeInvoice(0n, { amountMsat: 1_500n }) // 1.5 sat
    expect(await run(sub, { quoteAmount: 1n })).toMatchObject(ok)
    expect(await run(sub, { quoteAmount: 2n })).toMatchObject(ok)
    expect(await run(sub, { quoteAmount: 3n })).toMatchObject(refused("amount-mismatch"))
    // msat: exact.
    expect(await run(sub, { unit: "msat", quoteAmount: 1_500n })).toMatchObject(ok)
    expect(await run(sub, { unit: "msat", quoteAmount: 1_501n })).toMatchObject(refused("amount-mismatch"))
    // Another unit: the mint's exchange rate is not checked; the invoice still is.
    expect(await run(sub, { unit: "usd", quoteAmount: 7n })).toMatchObject(ok)
    expect(await run("lnbc1qqqqqqq", { unit: "usd", quoteAmount: 7n })).toMatchObject({
      _tag: "Failure",
      failure: { _tag: "DecodeError" },
    })
    // Another method: its request is not a bolt11 invoice, nothing to check here.
    expect(await run("lno1qqqq", { method: "bolt12", quoteAmount: 7n })).toMatchObject(ok)
    // Expiry: refused from timestamp + x on (that second included).
    const ts = 1_800_000_000
    const x = fakeInvoice(5n, { timestamp: ts, expirySeconds: 60 })
    expect(await run(x, { quoteAmount: 5n, nowSeconds: ts + 59 })).toMatchObject(ok)
    expect(await run(x, { quoteAmount: 5n, nowSeconds: ts + 60 })).toMatchObject(refused("expired"))
    // An LND regtest invoice from nutshell's FakeWallet tests: 64 sat, created 2024-09-23, 1 day expiry.
    const created = decodeBolt11(NUTSHELL_INVOICE_64_SAT).timestamp
    expect(await run(NUTSHELL_INVOICE_64_SAT, { quoteAmount: 64n, nowSeconds: created + 60 })).toMatchObject(
      ok,
    )
    expect(await run(NUTSHELL_INVOICE_64_SAT, { quoteAmount: 63n, nowSeconds: created + 60 })).toMatchObject(
      refused("amount-mismatch"),
    )
    expect(await run(NUTSHELL_INVOICE_64_SAT, { quoteAmount: 64n })).toMatchObject(refused("expired"))
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
    await engine.recovered() // open defers recovery to a background sweep (issue #15)
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
