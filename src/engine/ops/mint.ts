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
 * The saga's steps are `./mint-steps.ts`, its recovery `./mint-recovery.ts` (only the mint's answer decides
 * a quote's fate). A quote an older version wrote off on expiry is asked about again by `mint()` and claimed
 * under a new operation when the mint still holds it paid ({@link mintProofs}).
 *
 * @module
 */
import { Effect } from "effect"
import { bytesToHex } from "../../crypto/bytes.js"
import { publicKeyHex } from "../../crypto/schnorr.js"
import { newOperationId } from "../../events/ids.js"
import type { OperationState } from "../../machines/decider.js"
import { EngineInvariant, QuoteNotClaimable, type WalletError } from "../../model/index.js"
import { supportsNut } from "../../protocol/schemas/info.js"
import type { WalletRuntime } from "../runtime.js"
import { claimPaidQuote, pastExpiry, recoverMint } from "./mint-recovery.js"
import { type MintStarted, mintStarted, restartedClaim } from "./mint-steps.js"
import { activeKeysetOrFail, settledOrFail } from "./shared.js"
import { compensate } from "./swap.js"

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
    yield* rt.record(operationId, [{ _tag: "Start", started }])
    return {
      operationId,
      request: quote.request,
      amount: started.amount,
      unit,
      expiry: quote.expiry,
      locked: lockKey !== undefined,
    }
  })

/** What the claim of a quote brought in, from how its operation ended. */
const mintResult = (
  s: Pick<OperationState, "operationId" | "kind">,
  settled: import("./settled.js").Settled,
): Effect.Effect<MintResult, WalletError> =>
  Effect.gen(function* () {
    const { completed, proofs } = yield* settledOrFail(s, settled)
    if (completed.kind !== "mint")
      return yield* new EngineInvariant({ message: "a mint completed without its mint record" })
    return { operationId: completed.operationId, amount: completed.amount, proofs: proofs.length }
  })

/** Claims a quote under `operationId` while holding its claim; a call that finds it held is refused. */
const claimQuote = (rt: WalletRuntime, s: OperationState, body: Effect.Effect<MintResult, WalletError>) =>
  rt.claimOperation(
    s.operationId,
    body,
    Effect.fail(
      new QuoteNotClaimable({
        operationId: s.operationId,
        state: "PENDING",
        message: "the quote is being claimed by another call right now",
      }),
    ),
  )

/**
 * A quote an older version compensated `quote-expired` on its own clock: when the mint still holds it PAID
 * (never issued), claim it under a new operation (nothing was ever sent for the old one).
 */
const claimWrittenOff = (
  rt: WalletRuntime,
  s: OperationState,
): Effect.Effect<MintResult | undefined, WalletError> =>
  Effect.gen(function* () {
    const started = yield* mintStarted(s)
    if (s.state !== "compensated" || s.attempts > 0 || s.compensated.reason !== "quote-expired")
      return undefined
    const quote = yield* rt.services.mint.mintQuoteState(started.mintUrl, started.method, started.quoteId)
    if (quote.state !== "PAID") return undefined
    const fresh = yield* restartedClaim(rt, started)
    return yield* claimQuote(
      rt,
      fresh,
      Effect.flatMap(claimPaidQuote(rt, fresh.operationId), (settled) => mintResult(fresh, settled)),
    )
  })

/** Options of `wallet.mint(operationId, options)`. */
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
    const s = yield* rt.existingOperation(operationId)
    const started = yield* mintStarted(s)
    if (s.state === "completed") {
      const op = rt.view().operation(operationId)
      const amount = s.completed.kind === "mint" ? s.completed.amount : 0n
      return { operationId, amount, proofs: op?.outputs ?? 0 }
    }
    if (s.state === "compensated") {
      const claimed = yield* claimWrittenOff(rt, s)
      if (claimed !== undefined) return claimed
      return yield* new QuoteNotClaimable({
        operationId,
        state: "EXPIRED",
        message: "the mint operation has ended",
      })
    }
    if (s.state === "started") {
      // Wait until the quote is paid.
      const deadline = rt.services.now() + (options.timeoutMs ?? 600_000)
      const poll = rt.services.mint.mintQuoteState(started.mintUrl, started.method, started.quoteId)
      let quote = yield* poll
      while (quote.state === "UNPAID" || quote.state === "PENDING") {
        // Only the mint's UNPAID answer with the quote's expiry passed closes it (a PENDING one may still
        // turn PAID).
        if (quote.state === "UNPAID" && pastExpiry(rt, quote.expiry ?? started.expiry)) {
          yield* compensate(rt, operationId, "quote-expired", undefined)
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
      return yield* claimQuote(
        rt,
        s,
        Effect.flatMap(claimPaidQuote(rt, operationId), (settled) => mintResult(s, settled)),
      )
    }
    // Prepared earlier (a crash, or an in-doubt attempt): recovery decides.
    return yield* claimQuote(
      rt,
      s,
      Effect.gen(function* () {
        const now = yield* rt.existingOperation(operationId)
        return yield* mintResult(now, yield* recoverMint(rt, now))
      }),
    )
  })
