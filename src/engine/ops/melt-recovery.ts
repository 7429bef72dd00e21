/**
 * Recovery of a melt: only the quote's state decides a melt (after CDK's melt saga).
 *
 * - `PAID`, or any state with a payment preimage → finalise (change from the answer, or restored from the
 *   blank outputs, NUT-09);
 * - `PENDING`/`UNKNOWN` → stays payment-pending (inputs pending);
 * - `UNPAID`/`FAILED` → released only when the mint holds no payment preimage AND a checkstate shows every
 *   input unspent (a belt on top of CDK's braces: a quote may read UNPAID while our request is still queued
 *   at the mint) AND no melt request of this process timed out within `unansweredGraceMs` (the inputs read
 *   unspent too while it is queued);
 * - unreachable or garbled → stays as it is. Nothing ambiguous ever releases inputs.
 *
 * Every function here expects its caller to hold the operation's claim (`WalletRuntime.claimOperation`).
 *
 * @module
 */
import { Effect } from "effect"
import { intentOf, type OperationState } from "../../machines/decider.js"
import { matchProofStates } from "../../protocol/schemas/checkstate.js"
import type { StepError, WalletRuntime } from "../runtime.js"
import { markPaymentPending, meltStarted, note, settlePaid } from "./melt-steps.js"
import { endedOutcome, inDoubt, type MeltOutcome, paymentInFlight, type Settled } from "./settled.js"
import { codeOf, markPending } from "./shared.js"
import { compensate } from "./swap.js"

/** In doubt, or — while the payment is known to be in flight — still in flight. */
const undecided = (s: OperationState, code?: number): MeltOutcome =>
  s.state === "paymentPending" ? paymentInFlight : inDoubt(code)

/**
 * The quote says the payment did not happen (UNPAID/FAILED, no preimage). Released only when every input
 * is unspent at the mint; anything else (pending or spent inputs, a failed or garbled check) stays.
 */
const settleUnpaid = (rt: WalletRuntime, s: OperationState): Effect.Effect<MeltOutcome, StepError> =>
  Effect.gen(function* () {
    const started = yield* meltStarted(s)
    const ys = intentOf(s)?.inputs ?? []
    if (ys.length > 0) {
      const checked = yield* rt.services.mint.checkState(started.mintUrl, ys).pipe(Effect.result)
      if (checked._tag === "Failure") {
        yield* note(rt, s, "checkstate", "skipped", codeOf(checked.failure))
        return inDoubt(codeOf(checked.failure))
      }
      let unspent: boolean
      try {
        const states = matchProofStates(ys, checked.success)
        unspent = ys.every((y) => states.get(y.toLowerCase())?.state === "UNSPENT")
      } catch {
        yield* note(rt, s, "checkstate", "failed")
        return inDoubt()
      }
      // Our melt request timed out a moment ago: the mint may still take it up and spend the inputs.
      if (!unspent || rt.mayStillApply(s.operationId)) {
        yield* note(rt, s, "checkstate", "pending")
        return undecided(s)
      }
    }
    return yield* compensate(rt, s.operationId, "payment-failed", undefined, {
      finding: { step: "quote-state", outcome: "compensated" },
    })
  })

/** One recovery pass over a melt (see the module comment), on its state read now. */
export const recoverMeltHeld = (
  rt: WalletRuntime,
  operationId: string,
): Effect.Effect<MeltOutcome, StepError> =>
  Effect.gen(function* () {
    const s = yield* rt.existingOperation(operationId)
    const started = yield* meltStarted(s)
    const ended = endedOutcome(s)
    if (ended !== undefined) return ended
    // A quote not yet paid from (no request left): nothing to recover.
    if (intentOf(s) === undefined || s.attempts === 0) return inDoubt()
    const state = yield* rt.services.mint
      .meltQuoteState(started.mintUrl, started.method, started.quoteId)
      .pipe(Effect.result)
    if (state._tag === "Failure") {
      yield* note(rt, s, "quote-state", "skipped", codeOf(state.failure))
      return undecided(s, codeOf(state.failure))
    }
    const answer = state.success
    if (answer.quote !== started.quoteId) {
      yield* note(rt, s, "quote-state", "failed")
      return inDoubt()
    }
    const preimage = answer.payment_preimage
    // A payment preimage proves the payment whatever the state says (CDK: compensating then "would let the
    // wallet re-spend proofs the mint has already used").
    if (answer.state === "PAID" || (preimage !== undefined && preimage !== ""))
      return yield* settlePaid(rt, s, answer, true)
    if (answer.state === "UNPAID" || answer.state === "FAILED") return yield* settleUnpaid(rt, s)
    // PENDING, or UNKNOWN (treated as pending: CDK's live path releases on it, its recovery does not).
    if (s.state === "paymentPending") return paymentInFlight
    return yield* markPaymentPending(rt, s, true)
  })

/** Records an ambiguous outcome (when the melt is still `requested`), then runs one recovery pass. */
export const recoverAfterAmbiguity = (
  rt: WalletRuntime,
  operationId: string,
  code: number | undefined,
): Effect.Effect<MeltOutcome, StepError> =>
  Effect.gen(function* () {
    const s = yield* rt.existingOperation(operationId)
    if (s.state === "requested") yield* markPending(rt, operationId, "ambiguous", code)
    return yield* recoverMeltHeld(rt, operationId)
  })

/**
 * One recovery pass over a melt whose claim the caller holds (the wallet's recovery pass), as a settled
 * outcome: a payment in flight is in doubt.
 */
export const recoverClaimedMelt = (rt: WalletRuntime, s: OperationState): Effect.Effect<Settled, StepError> =>
  recoverMeltHeld(rt, s.operationId).pipe(Effect.map((o) => (o._tag === "PaymentPending" ? inDoubt() : o)))

/**
 * One recovery pass over a melt (from an ambiguous outcome, a crash while requested, or to poll a payment in
 * flight), taking its claim first: while another path settles it, in doubt without touching it.
 */
export const recoverMelt = (rt: WalletRuntime, s: OperationState): Effect.Effect<Settled, StepError> =>
  rt.claimOperation(s.operationId, recoverClaimedMelt(rt, s), Effect.succeed(inDoubt()))
