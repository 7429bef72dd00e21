/**
 * Recovery of a mint operation (NUT-04), and the claim of a quote the mint reports paid.
 *
 * A prepared mint whose outcome is not known: replay under NUT-19 → the quote's state: `ISSUED` → restore
 * the stored outputs (NUT-09) and finalise (the mint answers and signed none of them: the quote went to other
 * outputs, compensated `not-processed`); `PENDING` → restore too (signed outputs are ours), else wait;
 * `PAID` → the request was not processed: send the same bytes again (recorded as the next attempt first;
 * outputs the mint already signed (11003) or holds pending for good (11004) → claimed again with fresh
 * outputs); `UNPAID` → back to waiting (the quote may still be paid); unreachable → the next pass.
 *
 * **Only the mint's answer decides a quote's fate** ({@link settleQuote}). A quote past its expiry on our
 * clock is asked about (`GET` its state), never written off: `PAID` → it is claimed (the payer's money is
 * there, whatever our clock says); `UNPAID` with its expiry passed → the only answer that closes it
 * (`quote-expired`); `PENDING`, `ISSUED` without outputs of ours, an expiry the mint still honours, or no
 * answer → it stays open.
 *
 * @module
 */
import { Effect } from "effect"
import { intentOf, type OperationState } from "../../machines/decider.js"
import type { WalletError } from "../../model/index.js"
import { isStepError, type StepError, type WalletRuntime } from "../runtime.js"
import { appendMintIntent, finalizeMint, mintStarted, requestMint, restartedClaim } from "./mint-steps.js"
import { advancePastSignedOutputs, OUTPUTS_ALREADY_SIGNED } from "./restore.js"
import { endedOutcome, inDoubt, type Settled } from "./settled.js"
import { codeOf, replayStep, restoreOutputs, stayInDoubt } from "./shared.js"
import { compensate } from "./swap.js"

/** Nutshell's "outputs are pending": another request stored these outputs (see {@link claimPastPendingOutputs}). */
const OUTPUTS_PENDING = 11004

/** One recovery pass over a mint operation (see the module comment). The caller holds its claim. */
export const recoverMint = (rt: WalletRuntime, s: OperationState): Effect.Effect<Settled, StepError> =>
  Effect.gen(function* () {
    const id = s.operationId
    const started = yield* mintStarted(s)
    const prepared = intentOf(s)
    if (prepared === undefined || s.attempts === 0) return inDoubt()
    // 1. Replay under NUT-19.
    const replayed = yield* replayStep(
      rt,
      s,
      `/v1/mint/${started.method}`,
      (body) => rt.services.mint.mint(started.mintUrl, started.method, body),
      finalizeMint,
    )
    if (replayed !== undefined) return replayed
    // 2. The quote's state says whether the mint issued.
    const state = yield* rt.services.mint
      .mintQuoteState(started.mintUrl, started.method, started.quoteId)
      .pipe(Effect.result)
    if (state._tag === "Failure")
      return yield* stayInDoubt(rt, id, "quote-state", "skipped", codeOf(state.failure))
    const quoteState = state.success.state
    // ISSUED, or PENDING — which nutshell can leave a quote in for good when its request failed after
    // signing (a database lock timed out before the quote was marked issued): our outputs, if signed, are
    // ours, whatever the quote says.
    if (quoteState === "ISSUED" || quoteState === "PENDING") {
      const restored = yield* restoreOutputs(rt, started.mintUrl, prepared.outputs).pipe(Effect.result)
      if (restored._tag === "Success" && restored.success.answered.length > 0) {
        const done = yield* finalizeMint(rt, id, restored.success.answered, restored.success.signatures, {
          step: "restore",
          outcome: "recovered",
        }).pipe(Effect.result)
        if (done._tag === "Success") return done.success
        if (isStepError(done.failure)) return yield* done.failure
      }
      if (quoteState === "PENDING") return yield* stayInDoubt(rt, id, "quote-state", "pending")
      if (restored._tag === "Success" && restored.success.answered.length === 0)
        // Issued, and not one of our outputs signed: the quote went to other outputs (an earlier request of
        // ours that arrived late and was restored, say, before this operation claimed it afresh). Nothing of
        // this operation happened, and nothing can any more: the mint issues a quote once.
        return yield* compensate(rt, id, "not-processed", undefined, {
          finding: { step: "restore", outcome: "compensated" },
        })
      return yield* stayInDoubt(rt, id, "restore", "failed")
    }
    if (quoteState === "PAID") {
      // Paid but not issued: our request was not processed. The same bytes are safe to send again — once,
      // recorded as the next attempt before they leave.
      yield* rt.record(id, [{ _tag: "Request" }])
      const again = yield* rt.services.mint
        .mint(started.mintUrl, started.method, prepared.request.body)
        .pipe(Effect.result)
      if (again._tag === "Success") {
        const done = yield* finalizeMint(rt, id, prepared.outputs, again.success.signatures, {
          step: "quote-state",
          outcome: "recovered",
        }).pipe(Effect.result)
        if (done._tag === "Success") return done.success
        if (isStepError(done.failure)) return yield* done.failure
      }
      if (again._tag === "Failure" && codeOf(again.failure) === OUTPUTS_ALREADY_SIGNED) {
        const retried = yield* claimWithFreshOutputs(rt, yield* rt.existingOperation(id))
        if (retried !== undefined) return retried
      }
      if (again._tag === "Failure" && codeOf(again.failure) === OUTPUTS_PENDING) {
        const retried = yield* claimPastPendingOutputs(rt, yield* rt.existingOperation(id))
        if (retried !== undefined) return retried
      }
      return yield* stayInDoubt(
        rt,
        id,
        "quote-state",
        "pending",
        again._tag === "Failure" ? codeOf(again.failure) : undefined,
      )
    }
    return yield* stayInDoubt(rt, id, "quote-state", "pending")
  })

/**
 * A paid, unissued quote whose outputs the mint says it signed before (11003): our counters were used by an
 * earlier life of this seed (a wallet recreated from its mnemonic without a restore). Nothing of this attempt
 * happened — the quote is still unissued — so: restore that counter range (which moves the counter past it
 * and recovers whatever it finds), end this operation, and claim the quote again under a new operation with
 * fresh outputs. Returns undefined (stay in doubt) when the restore could not move the counter, so this can
 * never loop.
 */
const claimWithFreshOutputs = (
  rt: WalletRuntime,
  s: OperationState,
): Effect.Effect<Settled | undefined, StepError> =>
  Effect.gen(function* () {
    const first = intentOf(s)?.outputs.find((o) => o.counter !== undefined)
    if (first?.counter === undefined) return undefined
    yield* advancePastSignedOutputs(rt, s)
    if (rt.view().nextCounter(first.id) <= first.counter) return undefined
    return yield* claimAfresh(rt, s, OUTPUTS_ALREADY_SIGNED)
  })

/**
 * A paid, unissued quote whose outputs the mint holds as pending (11004): nutshell keeps the outputs of a
 * mint request that failed after storing them (its database lock timed out, say) and refuses them from then
 * on, while the quote goes back to PAID. Asked again: still PAID → no request is in progress on the quote (one
 * would hold it PENDING until it ends), so those outputs can never be signed for it: this operation ends
 * (`not-processed`) and the quote is claimed again with fresh outputs — the mint issues a quote once, so at
 * worst the fresh claim is refused. Anything else (PENDING, ISSUED, no answer): undefined, stay in doubt.
 */
const claimPastPendingOutputs = (
  rt: WalletRuntime,
  s: OperationState,
): Effect.Effect<Settled | undefined, StepError> =>
  Effect.gen(function* () {
    const started = yield* mintStarted(s)
    const again = yield* rt.services.mint
      .mintQuoteState(started.mintUrl, started.method, started.quoteId)
      .pipe(Effect.result)
    if (again._tag === "Failure" || again.success.state !== "PAID") return undefined
    return yield* claimAfresh(rt, s, OUTPUTS_PENDING)
  })

/** Ends `s` (`not-processed`, the mint's `code`) and claims its quote again under a new operation. */
const claimAfresh = (
  rt: WalletRuntime,
  s: OperationState,
  code: number,
): Effect.Effect<Settled | undefined, StepError> =>
  Effect.gen(function* () {
    yield* compensate(rt, s.operationId, "not-processed", code, {
      finding: { step: "quote-state", outcome: "compensated", code },
    })
    const fresh = yield* restartedClaim(rt, yield* mintStarted(s))
    return yield* rt.claimOperation(
      fresh.operationId,
      Effect.gen(function* () {
        const prepared = yield* rt
          .write((_, record) => appendMintIntent(rt, record, fresh))
          .pipe(Effect.result)
        if (prepared._tag === "Failure") {
          if (isStepError(prepared.failure)) return yield* prepared.failure
          return undefined
        }
        return yield* requestMint(rt, prepared.success, recoverMint)
      }),
      Effect.succeed(undefined),
    )
  })

/** Whether `expiry` (unix seconds; absent or 0: none) has passed on the wallet's clock. */
export const pastExpiry = (rt: WalletRuntime, expiry: number | undefined): boolean =>
  expiry !== undefined && expiry > 0 && rt.services.now() / 1000 > expiry

/**
 * Claims a quote the mint reports PAID: records the intent (once: another call may have prepared it
 * meanwhile) and sends it. The caller holds the operation's claim.
 */
export const claimPaidQuote = (rt: WalletRuntime, operationId: string): Effect.Effect<Settled, WalletError> =>
  Effect.gen(function* () {
    const claim = yield* rt.write((_, record) =>
      Effect.gen(function* () {
        const now = yield* rt.existingOperation(operationId)
        if (now.state !== "started") return { s: now, fresh: false }
        return { s: yield* appendMintIntent(rt, record, now), fresh: true }
      }),
    )
    const ended = endedOutcome(claim.s)
    if (ended !== undefined) return ended
    // Our intent, attempt 1 recorded: send it. Prepared by an earlier call: its attempt may have reached the
    // mint, so recovery decides (a resend is only ever a recorded attempt).
    return claim.fresh ? yield* requestMint(rt, claim.s, recoverMint) : yield* recoverMint(rt, claim.s)
  })

/**
 * Recovery of a recorded quote nothing was prepared for (see the module comment): nothing happens before
 * its expiry passed on our clock (waiting for the user's payment is not in doubt); after that only the
 * mint's answer decides. Undefined: left open, not in doubt. The caller holds the operation's claim.
 */
export const settleQuote = (
  rt: WalletRuntime,
  s: OperationState,
): Effect.Effect<Settled | undefined, StepError> =>
  Effect.gen(function* () {
    const started = yield* mintStarted(s)
    if (!pastExpiry(rt, started.expiry)) return undefined
    const state = yield* rt.services.mint
      .mintQuoteState(started.mintUrl, started.method, started.quoteId)
      .pipe(Effect.result)
    if (state._tag === "Failure") return inDoubt(codeOf(state.failure))
    const quote = state.success
    if (quote.state === "PAID") {
      const claimed = yield* claimPaidQuote(rt, s.operationId).pipe(Effect.result)
      if (claimed._tag === "Success") return claimed.success
      if (isStepError(claimed.failure)) return yield* claimed.failure
      return inDoubt()
    }
    if (quote.state === "UNPAID" && pastExpiry(rt, quote.expiry ?? started.expiry))
      return yield* compensate(rt, s.operationId, "quote-expired", undefined, {
        finding: { step: "quote-state", outcome: "compensated" },
      })
    // PENDING, ISSUED to someone else (no outputs of ours ever left), or an expiry the mint still honours.
    return undefined
  })
