/**
 * Mint (NUT-04 + NUT-23 bolt11, NUT-20 locked quotes): new proofs for a paid payment request.
 *
 * 1. `mintQuote`: ask the mint for a quote and record it at once (`OperationStarted`, with the quote id, the
 *    invoice, and — when the mint supports NUT-20 — the quote's own fresh secret key; all encrypted at rest).
 *    The quote id is a bearer credential: it never appears in errors or logs.
 * 2. `mintProofs`: wait until the quote is paid (poll), then the intent (`CountersReserved`,
 *    `OperationPrepared` with the exact `POST /v1/mint/{method}` body, `OperationRequested`), the request, and
 *    finalisation (`OperationSigned`, `ProofsIssued`, `OperationCompleted`). No inputs: a definitive refusal
 *    just compensates; an ambiguous one is settled by {@link recoverMint}.
 *
 * Recovery: replay under NUT-19 → quote state: `ISSUED` → restore the stored outputs (NUT-09) and finalise
 * (the mint answers and signed none of them: the quote went to other outputs, compensated `not-processed`);
 * `PAID` → the request was not processed: send the same bytes again; `UNPAID`/`PENDING` → back to waiting
 * (the quote may still be paid); unreachable → leave it for the next pass.
 *
 * **Only the mint's answer decides a quote's fate** ({@link settleQuote}). A quote past its expiry on our
 * clock is asked about (`GET` its state), never written off: `PAID` → it is claimed (the payer's money is
 * there, whatever our clock says); `UNPAID` with its expiry passed → the only answer that closes it
 * (`quote-expired`); `PENDING`, `ISSUED` without outputs of ours, an expiry the mint still honours, or no
 * answer → it stays open. A quote an older version wrote off on expiry is asked about again by `mint()` and
 * claimed under a new operation when the mint still holds it paid ({@link mintProofs}).
 *
 * @module
 */
import { Effect } from "effect"
import { bytesToHex } from "../../crypto/bytes.js"
import { signMintQuote } from "../../crypto/nut20.js"
import { publicKeyHex } from "../../crypto/schnorr.js"
import type { OperationStarted, OutputIntent, Signature, WalletEvent } from "../../events/catalogue.js"
import { newOperationId } from "../../events/ids.js"
import { isDefinitive } from "../../infra/mint-client/service.js"
import { encodeMintRequest } from "../../protocol/decode.js"
import { supportsNut } from "../../protocol/schemas/info.js"
import { MintRequestSchema } from "../../protocol/schemas/mint.js"
import { EngineInvariant, QuoteNotClaimable, type WalletError } from "../errors.js"
import { planOutputs, proofsFromSignatures, type SignatureCheckError } from "../outputs.js"
import { attempt } from "../pure.js"
import type { WalletRuntime } from "../runtime.js"
import { ifAny, stepEvents, sumAmounts } from "./batch.js"
import { loadOpContext, type OpContext } from "./context.js"
import { restoreOutputs } from "./recover-swap.js"
import { advancePastSignedOutputs } from "./restore.js"
import { activeKeysetOrFail, outputsFor } from "./send.js"
import { noteRecovery, recordAttempt, recovering, replayStep } from "./steps.js"
import {
  codeOf,
  compensate,
  dleqRequired,
  finalEvents,
  markPending,
  outputKeyset,
  type Settled,
  settledOrFail,
} from "./swap.js"

/** What to mint. */
export interface MintQuoteRequest {
  readonly mintUrl: string
  readonly amount: bigint
  /** Default `sat`. */
  readonly unit?: string
  /** Default `bolt11`. */
  readonly method?: string
  readonly description?: string
}

/** A recorded mint quote. */
export interface MintQuoteResult {
  /** The operation that will claim the quote (pass it to `mint`). */
  readonly operationId: string
  /** The payment request to pay (a bolt11 invoice). */
  readonly request: string
  readonly amount: bigint
  readonly unit: string
  readonly expiry: number | undefined
  /** Whether the quote is locked to a key of ours (NUT-20). */
  readonly locked: boolean
}

/** What a mint brought in. */
export interface MintResult {
  readonly operationId: string
  readonly amount: bigint
  readonly proofs: number
}

type MintStarted = Extract<OperationStarted, { kind: "mint" }>

/** Asks for a mint quote and records it (see the module comment). */
export const mintQuote = (
  rt: WalletRuntime,
  req: MintQuoteRequest,
): Effect.Effect<MintQuoteResult, WalletError> =>
  Effect.gen(function* () {
    const unit = req.unit ?? "sat"
    const method = req.method ?? "bolt11"
    yield* activeKeysetOrFail(rt.view(), req.mintUrl, unit)
    const info = yield* rt.info(req.mintUrl)
    // NUT-20: one fresh key per quote, so quotes cannot be linked to each other or to the wallet.
    const lockKey = supportsNut(info, "20")
      ? bytesToHex(crypto.getRandomValues(new Uint8Array(32)))
      : undefined
    const quote = yield* rt.services.mint.mintQuote(req.mintUrl, method, {
      amount: req.amount,
      unit,
      ...(req.description !== undefined ? { description: req.description } : {}),
      ...(lockKey !== undefined ? { pubkey: publicKeyHex(lockKey) } : {}),
    })
    const operationId = newOperationId(rt.services.now())
    const started: MintStarted = {
      _tag: "OperationStarted",
      operationId,
      kind: "mint",
      mintUrl: req.mintUrl,
      unit,
      method,
      quoteId: quote.quote,
      amount: quote.amount ?? req.amount,
      request: quote.request,
      ...(quote.expiry !== undefined ? { expiry: quote.expiry } : {}),
      ...(lockKey !== undefined ? { lockKey } : {}),
    }
    yield* rt.write((append) => append(stepEvents(operationId, "started", [started])))
    return {
      operationId,
      request: quote.request,
      amount: started.amount,
      unit,
      expiry: quote.expiry,
      locked: lockKey !== undefined,
    }
  })

/** The `POST /v1/mint/{method}` intent for a paid quote. Call inside `rt.write`. */
const appendMintIntent = (
  rt: WalletRuntime,
  append: Parameters<Parameters<WalletRuntime["write"]>[0]>[0],
  ctx: OpContext,
) =>
  Effect.gen(function* () {
    const started = ctx.started as MintStarted
    const view = rt.view()
    const keyset = yield* activeKeysetOrFail(view, started.mintUrl, started.unit)
    const outputs = yield* attempt(() => outputsFor(keyset, started.amount, "keep"))
    const plan = yield* attempt(() => planOutputs(rt.seed, keyset.id, view.nextCounter(keyset.id), outputs))
    const signature =
      started.lockKey === undefined
        ? undefined
        : signMintQuote(started.quoteId, plan.blinded, started.lockKey)
    const body = encodeMintRequest(MintRequestSchema, {
      quote: started.quoteId,
      outputs: [...plan.blinded],
      ...(signature !== undefined ? { signature } : {}),
    })
    const prepared = {
      _tag: "OperationPrepared" as const,
      operationId: ctx.operationId,
      kind: "mint" as const,
      inputs: [],
      outputs: plan.intents,
      request: { path: `/v1/mint/${started.method}`, body },
    }
    yield* append([
      ...stepEvents(ctx.operationId, "prepared", [
        ...(plan.counters !== undefined ? [plan.counters] : []),
        prepared,
      ]),
      ...stepEvents(
        ctx.operationId,
        "requested",
        [{ _tag: "OperationRequested", operationId: ctx.operationId, kind: "mint", attempt: 1 }],
        1,
      ),
    ])
    // Live from now until `requestMint` settles it: recovery passes must not decide it meanwhile.
    rt.live.add(ctx.operationId)
    return { ...ctx, prepared, attempts: 1, firstSentAt: rt.services.now() } satisfies OpContext
  })

/** Finalises a mint from signatures for `answered` outputs (all of them, or the restored ones). */
const finalizeMint = (
  rt: WalletRuntime,
  ctx: OpContext,
  answered: ReadonlyArray<OutputIntent>,
  signatures: ReadonlyArray<Signature>,
  recovery?: WalletEvent,
): Effect.Effect<Settled, EngineInvariant | SignatureCheckError> =>
  Effect.gen(function* () {
    const started = ctx.started as MintStarted
    const keyset = yield* outputKeyset(rt, ctx.prepared?.outputs ?? [])
    const requireDleq = yield* dleqRequired(rt, started.mintUrl)
    const proofs = yield* Effect.try({
      try: () => proofsFromSignatures(rt.seed, keyset, answered, signatures, { requireDleq }),
      catch: (e) => e as SignatureCheckError,
    })
    return yield* rt.write((append) =>
      Effect.gen(function* () {
        const op = rt.view().operation(ctx.operationId)
        if (op?.status === "completed")
          return { _tag: "Completed", completed: undefined, proofs: [] } as Settled
        if (op?.status === "compensated")
          return { _tag: "Compensated", reason: op.compensation ?? "rejected", code: op.code } as Settled
        const operationId = ctx.operationId
        const amount = sumAmounts(proofs)
        const completed = { _tag: "OperationCompleted" as const, operationId, kind: "mint" as const, amount }
        yield* append(
          finalEvents(
            operationId,
            recovery,
            { _tag: "OperationSigned", operationId, kind: "mint", signatures: [...signatures] },
            [
              ...ifAny(proofs, (p) => ({
                _tag: "ProofsIssued",
                mintUrl: started.mintUrl,
                unit: started.unit,
                operationId,
                proofs: p,
              })),
              completed,
            ],
          ),
        )
        return { _tag: "Completed", completed, proofs } as Settled
      }),
    )
  })

/** Sends the prepared mint request (attempt `ctx.attempts`) and settles it. */
const requestMint = (rt: WalletRuntime, ctx: OpContext): Effect.Effect<Settled, EngineInvariant> =>
  Effect.gen(function* () {
    const started = ctx.started as MintStarted
    const prepared = ctx.prepared!
    const sent = yield* rt.services.mint
      .mint(started.mintUrl, started.method, prepared.request.body, {
        firstSentAt: ctx.firstSentAt ?? rt.services.now(),
      })
      .pipe(Effect.result)
    if (sent._tag === "Success") {
      const done = yield* finalizeMint(rt, ctx, prepared.outputs, sent.success.signatures).pipe(Effect.result)
      if (done._tag === "Success") return done.success
      if (done.failure._tag === "EngineInvariant") return yield* done.failure
      const pending = yield* markPending(rt, ctx, "ambiguous", undefined)
      return yield* recoverMint(rt, pending)
    }
    const error = sent.failure
    if (isDefinitive(error)) {
      yield* compensate(rt, ctx, "rejected", codeOf(error))
      return { _tag: "Compensated", reason: "rejected", code: codeOf(error) } as Settled
    }
    const pending = yield* markPending(rt, ctx, "ambiguous", codeOf(error))
    return yield* recoverMint(rt, pending)
  }).pipe(Effect.ensuring(Effect.sync(() => rt.live.delete(ctx.operationId))))

/** One recovery pass over a mint operation (see the module comment). */
export const recoverMint = (rt: WalletRuntime, ctx0: OpContext): Effect.Effect<Settled, EngineInvariant> =>
  Effect.gen(function* () {
    let ctx = ctx0
    const started = ctx.started as MintStarted
    const prepared = ctx.prepared
    if (prepared === undefined || ctx.attempts === 0) return { _tag: "InDoubt", code: undefined } as Settled
    // 1. Replay under NUT-19.
    const firstSentAt = ctx.firstSentAt ?? 0
    const replayed = yield* replayStep(
      rt,
      ctx,
      `/v1/mint/${started.method}`,
      (body, sentAt) => rt.services.mint.mint(started.mintUrl, started.method, body, { firstSentAt: sentAt }),
      finalizeMint,
    )
    if (replayed.settled !== undefined) return replayed.settled
    ctx = replayed.ctx
    // 2. The quote's state says whether the mint issued.
    const state = yield* rt.services.mint
      .mintQuoteState(started.mintUrl, started.method, started.quoteId)
      .pipe(Effect.result)
    if (state._tag === "Failure") {
      yield* noteRecovery(rt, recovering(ctx, "quote-state", "skipped", codeOf(state.failure)))
      return { _tag: "InDoubt", code: codeOf(state.failure) } as Settled
    }
    const quoteState = state.success.state
    if (quoteState === "ISSUED") {
      const restored = yield* restoreOutputs(rt, started.mintUrl, prepared.outputs).pipe(Effect.result)
      if (restored._tag === "Success" && restored.success.answered.length > 0) {
        const done = yield* finalizeMint(
          rt,
          ctx,
          restored.success.answered,
          restored.success.signatures,
          recovering(ctx, "restore", "recovered"),
        ).pipe(Effect.result)
        if (done._tag === "Success") return done.success
        if (done.failure._tag === "EngineInvariant") return yield* done.failure
      }
      if (restored._tag === "Success" && restored.success.answered.length === 0) {
        // Issued, and not one of our outputs signed: the quote went to other outputs (an earlier request of
        // ours that arrived late and was restored, say, before this operation claimed it afresh). Nothing of
        // this operation happened, and nothing can any more: the mint issues a quote once.
        yield* compensate(rt, ctx, "not-processed", undefined, {
          recovery: recovering(ctx, "restore", "compensated"),
        })
        return { _tag: "Compensated", reason: "not-processed", code: undefined } as Settled
      }
      yield* noteRecovery(rt, recovering(ctx, "restore", "failed"))
      return { _tag: "InDoubt", code: undefined } as Settled
    }
    if (quoteState === "PAID") {
      // Paid but not issued: our request was not processed. The same bytes are safe to send again.
      ctx = yield* recordAttempt(rt, ctx)
      const again = yield* rt.services.mint
        .mint(started.mintUrl, started.method, prepared.request.body, { firstSentAt, allowReplay: false })
        .pipe(Effect.result)
      if (again._tag === "Success") {
        const done = yield* finalizeMint(
          rt,
          ctx,
          prepared.outputs,
          again.success.signatures,
          recovering(ctx, "quote-state", "recovered"),
        ).pipe(Effect.result)
        if (done._tag === "Success") return done.success
        if (done.failure._tag === "EngineInvariant") return yield* done.failure
      }
      if (again._tag === "Failure" && codeOf(again.failure) === OUTPUTS_ALREADY_SIGNED) {
        const retried = yield* claimWithFreshOutputs(rt, ctx)
        if (retried !== undefined) return retried
      }
      yield* noteRecovery(rt, recovering(ctx, "quote-state", "pending"))
      return {
        _tag: "InDoubt",
        code: again._tag === "Failure" ? codeOf(again.failure) : undefined,
      } as Settled
    }
    yield* noteRecovery(rt, recovering(ctx, "quote-state", "pending"))
    return { _tag: "InDoubt", code: undefined } as Settled
  })

/** NUT error code 11003: the outputs were already signed. */
const OUTPUTS_ALREADY_SIGNED = 11003

/**
 * A new mint operation for the same quote, started in the log (an ended operation takes no new steps): how a
 * quote is claimed again after its first operation ended without issuing it.
 */
const restartedClaim = (rt: WalletRuntime, started: MintStarted) =>
  Effect.gen(function* () {
    const operationId = newOperationId(rt.services.now())
    const next: MintStarted = { ...started, operationId }
    yield* rt.write((append) => append(stepEvents(operationId, "started", [next])))
    const fresh: OpContext = {
      operationId,
      started: next,
      prepared: undefined,
      attempts: 0,
      firstSentAt: undefined,
      recoveries: 0,
      pendings: 0,
      ended: undefined,
    }
    return fresh
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
  ctx: OpContext,
): Effect.Effect<Settled | undefined, EngineInvariant> =>
  Effect.gen(function* () {
    const first = ctx.prepared?.outputs.find((o) => o.counter !== undefined)
    if (first?.counter === undefined) return undefined
    yield* advancePastSignedOutputs(rt, ctx)
    if (rt.view().nextCounter(first.id) <= first.counter) return undefined
    yield* compensate(rt, ctx, "not-processed", OUTPUTS_ALREADY_SIGNED, {
      recovery: recovering(ctx, "quote-state", "compensated", OUTPUTS_ALREADY_SIGNED),
    })
    const fresh = yield* restartedClaim(rt, ctx.started as MintStarted)
    const prepared = yield* rt.write((append) => appendMintIntent(rt, append, fresh)).pipe(Effect.result)
    if (prepared._tag === "Failure") {
      if (prepared.failure._tag === "EngineInvariant") return yield* prepared.failure
      return undefined
    }
    return yield* requestMint(rt, prepared.success)
  })

/** Whether `expiry` (unix seconds; absent or 0: none) has passed on the wallet's clock. */
const pastExpiry = (rt: WalletRuntime, expiry: number | undefined): boolean =>
  expiry !== undefined && expiry > 0 && rt.services.now() / 1000 > expiry

/**
 * Claims a quote the mint reports PAID: appends the intent (once: another call may have prepared it
 * meanwhile) and sends it.
 */
const claimPaidQuote = (rt: WalletRuntime, ctx0: OpContext): Effect.Effect<Settled, WalletError> =>
  Effect.gen(function* () {
    const ctx = yield* rt.write((append) =>
      Effect.gen(function* () {
        const fresh = yield* loadOpContext(rt, ctx0.operationId)
        if (fresh.prepared !== undefined || fresh.ended !== undefined) return fresh
        return yield* appendMintIntent(rt, append, fresh)
      }),
    )
    if (ctx.ended === "completed") return { _tag: "Completed", completed: undefined, proofs: [] } as Settled
    if (ctx.ended === "compensated") {
      const op = rt.view().operation(ctx.operationId)
      return { _tag: "Compensated", reason: op?.compensation ?? "rejected", code: op?.code } as Settled
    }
    return yield* requestMint(rt, ctx)
  })

/**
 * Recovery of a recorded quote nothing was prepared for (see the module comment): nothing happens before
 * its expiry passed on our clock (waiting for the user's payment is not in doubt); after that only the
 * mint's answer decides. Undefined: left open, not in doubt.
 */
export const settleQuote = (
  rt: WalletRuntime,
  ctx: OpContext,
): Effect.Effect<Settled | undefined, EngineInvariant> =>
  Effect.gen(function* () {
    const started = ctx.started as MintStarted
    if (!pastExpiry(rt, started.expiry)) return undefined
    const state = yield* rt.services.mint
      .mintQuoteState(started.mintUrl, started.method, started.quoteId)
      .pipe(Effect.result)
    if (state._tag === "Failure") return { _tag: "InDoubt", code: codeOf(state.failure) } as Settled
    const quote = state.success
    if (quote.state === "PAID") {
      const claimed = yield* claimPaidQuote(rt, ctx).pipe(Effect.result)
      if (claimed._tag === "Success") return claimed.success
      if (claimed.failure._tag === "EngineInvariant") return yield* claimed.failure
      return { _tag: "InDoubt", code: undefined } as Settled
    }
    if (quote.state === "UNPAID" && pastExpiry(rt, quote.expiry ?? started.expiry)) {
      yield* compensate(rt, ctx, "quote-expired", undefined, {
        recovery: recovering(ctx, "quote-state", "compensated"),
      })
      return { _tag: "Compensated", reason: "quote-expired", code: undefined } as Settled
    }
    // PENDING, ISSUED to someone else (no outputs of ours ever left), or an expiry the mint still honours.
    return undefined
  })

/**
 * A quote an older version compensated `quote-expired` on its own clock: when the mint still holds it PAID
 * (never issued), claim it under a new operation (nothing was ever sent for the old one).
 */
const claimWrittenOff = (
  rt: WalletRuntime,
  ctx: OpContext,
): Effect.Effect<MintResult | undefined, WalletError> =>
  Effect.gen(function* () {
    const started = ctx.started as MintStarted
    if (ctx.prepared !== undefined || rt.view().operation(ctx.operationId)?.compensation !== "quote-expired")
      return undefined
    const quote = yield* rt.services.mint.mintQuoteState(started.mintUrl, started.method, started.quoteId)
    if (quote.state !== "PAID") return undefined
    const fresh = yield* restartedClaim(rt, started)
    const settled = yield* claimPaidQuote(rt, fresh)
    const done = yield* settledOrFail(fresh, settled)
    const amount = done.completed?.kind === "mint" ? done.completed.amount : sumAmounts(done.proofs)
    return { operationId: fresh.operationId, amount, proofs: done.proofs.length }
  })

/** Options of {@link mintProofs}. */
export interface MintOptions {
  /** Wait for the payment, polling every `quotePollMs` (default true). */
  readonly wait?: boolean
  /** Give up waiting after this long (default 10 minutes). The quote stays claimable. */
  readonly timeoutMs?: number
}

/** Claims a mint quote (see the module comment). */
export const mintProofs = (
  rt: WalletRuntime,
  operationId: string,
  options: MintOptions = {},
): Effect.Effect<MintResult, WalletError> =>
  Effect.gen(function* () {
    const ctx = yield* loadOpContext(rt, operationId)
    if (ctx.started.kind !== "mint")
      return yield* new EngineInvariant({ message: `operation ${operationId} is not a mint` })
    const started = ctx.started
    if (ctx.ended === "completed") {
      const op = rt.view().operation(operationId)
      return { operationId, amount: op?.amount ?? 0n, proofs: op?.outputs ?? 0 }
    }
    if (ctx.ended === "compensated") {
      const claimed = yield* claimWrittenOff(rt, ctx)
      if (claimed !== undefined) return claimed
      return yield* new QuoteNotClaimable({
        operationId,
        state: "EXPIRED",
        message: "the mint operation has ended",
      })
    }
    if (ctx.prepared === undefined) {
      // Wait until the quote is paid.
      const deadline = rt.services.now() + (options.timeoutMs ?? 600_000)
      const poll = rt.services.mint.mintQuoteState(started.mintUrl, started.method, started.quoteId)
      let quote = yield* poll
      while (quote.state === "UNPAID" || quote.state === "PENDING") {
        // Only the mint's UNPAID answer with the quote's expiry passed closes it (a PENDING one may still
        // turn PAID).
        if (quote.state === "UNPAID" && pastExpiry(rt, quote.expiry ?? started.expiry)) {
          yield* compensate(rt, ctx, "quote-expired", undefined)
          return yield* new QuoteNotClaimable({
            operationId,
            state: "EXPIRED",
            message: "the mint quote expired unpaid",
          })
        }
        if (options.wait === false || rt.services.now() >= deadline)
          return yield* new QuoteNotClaimable({
            operationId,
            state: quote.state,
            message: "the mint quote is not paid yet",
          })
        yield* Effect.sleep(rt.services.options.quotePollMs)
        quote = yield* poll
      }
      if (quote.state === "ISSUED")
        return yield* new QuoteNotClaimable({
          operationId,
          state: "ISSUED",
          message: "the mint quote was already issued (to someone else: no outputs of ours were sent)",
        })
      const settled = yield* claimPaidQuote(rt, ctx)
      const done = yield* settledOrFail(ctx, settled)
      const amount = done.completed?.kind === "mint" ? done.completed.amount : sumAmounts(done.proofs)
      return { operationId: done.completed?.operationId ?? operationId, amount, proofs: done.proofs.length }
    }
    // Prepared earlier (a crash, or an in-doubt attempt): recovery decides.
    const settled = yield* recoverMint(rt, ctx)
    const done = yield* settledOrFail(ctx, settled)
    const amount = done.completed?.kind === "mint" ? done.completed.amount : sumAmounts(done.proofs)
    return { operationId, amount, proofs: done.proofs.length }
  })
