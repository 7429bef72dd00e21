/**
 * Melt (NUT-05 + NUT-23 bolt11, NUT-08 change): pay a Lightning invoice with proofs.
 *
 * 1. `meltQuote`: ask the mint for a quote, check it (unit, invoice, amount, fee-reserve cap
 *    in `./melt-policy.ts`) and record it (`OperationStarted`, quote id encrypted at rest, never in errors
 *    or logs).
 * 2. `melt`: the intent in one append (`CountersReserved` for the NUT-08 blank outputs, `ProofsReserved`,
 *    `OperationPrepared` with the exact `POST /v1/melt/{method}` body, `OperationRequested` #1), then the
 *    request — with **no timeout** (NUT-05: a synchronous melt lasts as long as the payment). The answer:
 *    - `PAID` → one append: `OperationSigned` (the change signatures, when any), `ProofsIssued` (change),
 *      `ProofsSpent` (inputs), `OperationCompleted` (amount, fee reserve, fee actually paid, input fee,
 *      change, preimage);
 *    - any other state in a 200 → the payment is in flight: `OperationPending{payment-pending}` and the
 *      inputs turn `pending`; the call answers `state: "pending"` (a normal outcome, not an error);
 *    - a definitive refusal → compensated (inputs released), `OperationFailed`;
 *    - anything ambiguous (connection lost, 5xx, 20004, a garbled answer) → `OperationPending{ambiguous}`
 *      and one recovery pass right away.
 * 3. Recovery (`./melt-recovery.ts`): only the quote's state decides a melt. The steps are `./melt-steps.ts`,
 *    the quote checks (fee-reserve cap; the invoice decoded as BOLT #11, unexpired, for the quote's amount)
 *    `./melt-policy.ts`.
 *
 * One path at a time settles a given melt in this process (the live call, `recover`, `checkPending`): it
 * holds the operation's claim (`WalletRuntime.claimOperation`); a second one finds it claimed and reports
 * it pending instead of racing the first with a stale view.
 *
 * @module
 */
import { Effect } from "effect"
import type { OperationCompleted } from "../../events/catalogue.js"
import { newOperationId } from "../../events/ids.js"
import { intentOf, type OperationState } from "../../machines/decider.js"
import {
  EngineInvariant,
  OperationFailed,
  OperationInDoubt,
  QuoteRejected,
  type WalletError,
} from "../../model/index.js"
import type { StepError, WalletRuntime } from "../runtime.js"
import { checkInvoice, defaultMaxFeeReserve } from "./melt-policy.js"
import { recoverAfterAmbiguity, recoverMeltHeld } from "./melt-recovery.js"
import { appendMeltIntent, inputsOf, type MeltStarted, meltStarted, requestMelt } from "./melt-steps.js"
import { type MeltOutcome, paymentInFlight } from "./settled.js"
import { activeKeysetOrFail } from "./shared.js"
import { compensate } from "./swap.js"

export { DEFAULT_FEE_RESERVE_CAP, defaultMaxFeeReserve } from "./melt-policy.js"

/** What to pay. */
export interface MeltQuoteRequest {
  readonly mintUrl: string
  /** The payment request (a bolt11 invoice). */
  readonly request: string
  /** Default `sat`. */
  readonly unit?: string
  /** Default `bolt11`. */
  readonly method?: string
  /**
   * Refuse quotes whose fee reserve exceeds this (absolute, in the unit). Default:
   * 10 % of the quoted amount plus 100 in the unit (100 000 for `msat`; `./melt-policy.ts`).
   */
  readonly maxFeeReserve?: bigint
}

/** A recorded melt quote. */
export interface MeltQuoteResult {
  /** The operation that will pay the quote (pass it to `melt`). */
  readonly operationId: string
  readonly amount: bigint
  readonly feeReserve: bigint
  readonly unit: string
  readonly expiry: number | undefined
}

/** The outcome of a melt. */
export interface MeltResult {
  readonly operationId: string
  /** `paid`: done; `pending`: the payment is in flight (inputs stay pending; `checkPending` settles it). */
  readonly state: "paid" | "pending"
  readonly amount: bigint
  /**
   * The Lightning fee actually paid: `Σ inputs − input fee − amount − change` (0 while pending). It can
   * exceed the part of the reserve the mint kept only if the mint kept more than it owed (logged).
   */
  readonly feePaid: bigint
  /** NUT-02 input fees. */
  readonly inputFee: bigint
  /** Value returned as NUT-08 change (0 while pending). */
  readonly change: bigint
  readonly preimage: string | undefined
}

// ---------------------------------------------------------------------------------------------------------
// The quote
// ---------------------------------------------------------------------------------------------------------

/** Asks for a melt quote, checks it and records it (see the module comment). */
export const meltQuote = (
  rt: WalletRuntime,
  req: MeltQuoteRequest,
): Effect.Effect<MeltQuoteResult, WalletError> =>
  Effect.gen(function* () {
    const unit = req.unit ?? "sat"
    const method = req.method ?? "bolt11"
    yield* activeKeysetOrFail(rt.view(), req.mintUrl, unit)
    const quote = yield* rt.services.mint.meltQuote(req.mintUrl, method, { request: req.request, unit })
    if (quote.unit !== undefined && quote.unit !== unit)
      return yield* new QuoteRejected({ reason: "unit-mismatch", message: "the quote is in another unit" })
    if (quote.request !== undefined && quote.request !== req.request)
      return yield* new QuoteRejected({
        reason: "amount-mismatch",
        message: "the quote is for another payment request",
      })
    if (quote.amount <= 0n)
      return yield* new QuoteRejected({
        reason: "amount-mismatch",
        message: `the quote's amount (${quote.amount} ${unit}) is not the invoice's`,
      })
    yield* checkInvoice(req.request, {
      method,
      unit,
      quoteAmount: quote.amount,
      nowSeconds: Math.floor(rt.services.now() / 1000),
    })
    const cap = req.maxFeeReserve ?? defaultMaxFeeReserve(quote.amount, unit)
    if (quote.fee_reserve > cap)
      return yield* new QuoteRejected({
        reason: "fee-reserve-too-high",
        message: `the quote's fee reserve (${quote.fee_reserve} ${unit}) exceeds the cap (${cap} ${unit})`,
      })
    if (quote.expiry !== undefined && quote.expiry > 0 && quote.expiry * 1000 <= rt.services.now())
      return yield* new QuoteRejected({ reason: "expired", message: "the melt quote has already expired" })
    const operationId = newOperationId(rt.services.now())
    const started: MeltStarted = {
      _tag: "OperationStarted",
      operationId,
      kind: "melt",
      mintUrl: req.mintUrl,
      unit,
      method,
      quoteId: quote.quote,
      amount: quote.amount,
      feeReserve: quote.fee_reserve,
      request: req.request,
      ...(quote.expiry !== undefined ? { expiry: quote.expiry } : {}),
    }
    yield* rt.record(operationId, [{ _tag: "Start", started }])
    return { operationId, amount: quote.amount, feeReserve: quote.fee_reserve, unit, expiry: quote.expiry }
  })

// ---------------------------------------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------------------------------------

/** The API's answer for a melt that did not complete (yet). */
const pendingResult = (rt: WalletRuntime, s: OperationState, started: MeltStarted) =>
  Effect.gen(function* () {
    const prepared = intentOf(s)
    const inputFee =
      prepared === undefined
        ? 0n
        : (yield* inputsOf(rt, prepared.inputs).pipe(Effect.orElseSucceed(() => ({ fee: 0n })))).fee
    return {
      operationId: s.operationId,
      state: "pending",
      amount: started.amount,
      feePaid: 0n,
      inputFee,
      change: 0n,
      preimage: undefined,
    } satisfies MeltResult
  })

const paidResult = (operationId: string, c: OperationCompleted): Effect.Effect<MeltResult, StepError> =>
  c.kind === "melt"
    ? Effect.succeed({
        operationId,
        state: "paid",
        amount: c.amount,
        feePaid: c.feePaid,
        inputFee: c.inputFee,
        change: c.change,
        preimage: c.preimage,
      })
    : Effect.fail(new EngineInvariant({ message: "a melt completed with another kind's record" }))

/** Turns a melt's outcome into the API's answer (see {@link MeltResult}). */
const resultOf = (rt: WalletRuntime, operationId: string, outcome: MeltOutcome) =>
  Effect.gen(function* () {
    const s = yield* rt.existingOperation(operationId)
    const started = yield* meltStarted(s)
    switch (outcome._tag) {
      case "Completed":
        return yield* paidResult(operationId, outcome.completed)
      case "PaymentPending":
        return yield* pendingResult(rt, s, started)
      case "Compensated":
        return yield* new OperationFailed({
          operationId,
          kind: "melt",
          reason: outcome.reason,
          code: outcome.code,
          message: `the melt did not happen (${outcome.reason}); its inputs are spendable again`,
        })
      case "InDoubt":
        if (s.state === "paymentPending") return yield* pendingResult(rt, s, started)
        return yield* new OperationInDoubt({
          operationId,
          kind: "melt",
          reason: "ambiguous",
          code: outcome.code,
          message: "the melt's outcome is not known yet; recovery will settle it",
        })
    }
  })

/**
 * Pays a recorded melt quote (see the module comment). Called again on a melt already sent, it runs a
 * recovery pass instead (never a second request). While another call is settling the same melt, it
 * answers `pending`.
 */
export const melt = (rt: WalletRuntime, operationId: string): Effect.Effect<MeltResult, WalletError> =>
  Effect.gen(function* () {
    yield* meltStarted(yield* rt.existingOperation(operationId))
    const outcome = yield* rt.claimOperation(
      operationId,
      Effect.gen(function* () {
        const s = yield* rt.existingOperation(operationId)
        const started = yield* meltStarted(s)
        if (s.state !== "started") return yield* recoverMeltHeld(rt, operationId)
        const { expiry } = started
        if (expiry !== undefined && expiry > 0 && expiry * 1000 <= rt.services.now()) {
          yield* compensate(rt, operationId, "quote-expired", undefined)
          return yield* new QuoteRejected({ reason: "expired", message: "the melt quote has expired" })
        }
        const prepared = yield* rt.write((_, record) => appendMeltIntent(rt, record, s))
        return yield* requestMelt(rt, prepared, recoverAfterAmbiguity)
      }),
      Effect.succeed<MeltOutcome>(paymentInFlight),
    )
    return yield* resultOf(rt, operationId, outcome)
  })
