/**
 * Melt (NUT-05 + NUT-23 bolt11, NUT-08 change): pay a Lightning invoice with proofs.
 *
 * 1. `meltQuote`: ask the mint for a quote, check it (unit, invoice, amount, fee-reserve cap: RELIABILITY
 *    T5) and record it (`OperationStarted`, quote id encrypted at rest, never in errors or logs).
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
 * 3. {@link recoverMelt}: only the quote's state decides a melt (RELIABILITY §1.3, after CDK): `PAID` →
 *    finalise (change from the answer, or restored from the blank outputs, NUT-09); `PENDING`/`UNKNOWN` →
 *    stays payment-pending; `UNPAID`/`FAILED` → released only when the mint holds no payment preimage AND a
 *    checkstate shows every input unspent (a belt on top of CDK's braces: a quote may read UNPAID while our
 *    request is still queued at the mint) AND no melt request of this process timed out within
 *    `unansweredGraceMs` (the inputs read unspent too while it is queued); unreachable or garbled → stays as
 *    it is. Nothing ambiguous ever
 *    releases inputs.
 *
 * One path at a time settles a given melt in this process (the live call, `recover`, `checkPending`): a
 * second one finds it busy and reports it pending instead of racing the first with a stale view.
 *
 * @module
 */
import { Effect } from "effect"
import type {
  OperationCompleted,
  OperationRecovering,
  OperationStarted,
  OutputIntent,
  Signature,
  StoredProof,
  WalletEvent,
} from "../../events/catalogue.js"
import { newOperationId } from "../../events/ids.js"
import { isDefinitive, type MintCallError } from "../../infra/mint-client/service.js"
import { IllegalOperationStep, replayOperation } from "../../machines/operation.js"
import { isOperationEvent, type SagaState } from "../../machines/saga.js"
import { encodeMintRequest } from "../../protocol/decode.js"
import { feeForInputs } from "../../protocol/fees.js"
import { matchProofStates } from "../../protocol/schemas/checkstate.js"
import type { MeltQuoteBolt11Response } from "../../protocol/schemas/melt.js"
import { MeltRequestSchema } from "../../protocol/schemas/melt.js"
import { blankOutputCount } from "../../protocol/split.js"
import {
  EngineInvariant,
  InsufficientFunds,
  OperationFailed,
  OperationInDoubt,
  QuoteRejected,
  type WalletError,
} from "../errors.js"
import { planOutputs, proofsFromSignatures, type SignatureCheckError, SignatureMismatch } from "../outputs.js"
import { attempt } from "../pure.js"
import type { WalletRuntime } from "../runtime.js"
import { ifAny, stepEvents, sumAmounts } from "./batch.js"
import { type OpContext, opContextOf } from "./context.js"
import { restoreOutputs } from "./recover-swap.js"
import { activeKeysetOrFail, pickInputs } from "./send.js"
import { asInput } from "./steps.js"
import {
  codeOf,
  compensate,
  dleqRequired,
  markPending,
  noteUnanswered,
  outputKeyset,
  type Settled,
} from "./swap.js"

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
   * {@link defaultMaxFeeReserve} of the quoted amount.
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

type MeltStarted = Extract<OperationStarted, { kind: "melt" }>

// ---------------------------------------------------------------------------------------------------------
// The quote
// ---------------------------------------------------------------------------------------------------------

/**
 * The default fee-reserve cap: 10 % of the amount plus a base of 100 in the unit (100 000 for `msat`, i.e.
 * 100 sat). Why these numbers: honest mints reserve about 1–2 % with a small floor (nutshell: 1 %, at least
 * 2 sat; CDK: 2 %, at least 1–2 sat) and return what the route did not use as NUT-08 change, so this cap
 * never refuses them — while a mint that inflates the reserve to keep it (RELIABILITY T5) is refused before
 * any proof is reserved. The base keeps small payments payable, where the mint's floor dominates the ratio.
 */
export const DEFAULT_FEE_RESERVE_CAP = {
  /** Percent of the quoted amount. */
  percent: 10n,
  /** Flat allowance per unit (units not listed use `otherBase`). */
  base: { sat: 100n, msat: 100_000n } as Readonly<Record<string, bigint>>,
  otherBase: 100n,
} as const

/** The largest fee reserve accepted by default for a melt of `amount` in `unit` (see the cap's comment). */
export const defaultMaxFeeReserve = (amount: bigint, unit: string): bigint =>
  (amount * DEFAULT_FEE_RESERVE_CAP.percent) / 100n +
  (DEFAULT_FEE_RESERVE_CAP.base[unit] ?? DEFAULT_FEE_RESERVE_CAP.otherBase)

/** Millisatoshis per BOLT11 amount multiplier (the amount is in BTC without one). */
const MSAT_PER: Readonly<Record<string, bigint>> = {
  "": 100_000_000_000n,
  m: 100_000_000n,
  u: 100_000n,
  n: 100n,
}

/**
 * The amount (msat) a BOLT11 invoice's human-readable part states (`ln` + network + amount + multiplier),
 * or `undefined` for an amountless invoice or anything that is not BOLT11. Only the amount is read: the
 * signature and the rest are the mint's business; the wallet checks that the quote charges what it asks.
 */
export const bolt11AmountMsat = (invoice: string): bigint | undefined => {
  const s = invoice.trim().toLowerCase()
  const sep = s.lastIndexOf("1") // bech32 data never contains "1": the last one ends the HRP
  if (!s.startsWith("ln") || sep < 3) return undefined
  const m = /^[a-z]+?([0-9]+)([munp]?)$/.exec(s.slice(2, sep))
  if (m === null) return undefined
  const digits = m[1]!
  if (digits.length > 30 || (digits.length > 1 && digits.startsWith("0"))) return undefined
  const n = BigInt(digits)
  if (m[2] === "p") return n % 10n === 0n ? n / 10n : undefined // pico-BTC: a tenth of a msat
  return n * MSAT_PER[m[2]!]!
}

/** Whether a quote of `amount` in `unit` charges what an invoice of `msat` asks (checked for sat and msat). */
const amountMatches = (amount: bigint, unit: string, msat: bigint): boolean => {
  if (unit === "msat") return amount === msat
  if (unit === "sat") return amount === msat / 1000n || amount === (msat + 999n) / 1000n
  return true // fiat units: the mint's exchange rate is not ours to check
}

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
    const invoiceMsat = bolt11AmountMsat(req.request)
    if (quote.amount <= 0n || (invoiceMsat !== undefined && !amountMatches(quote.amount, unit, invoiceMsat)))
      return yield* new QuoteRejected({
        reason: "amount-mismatch",
        message: `the quote's amount (${quote.amount} ${unit}) is not the invoice's`,
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
    yield* rt.write((append) => append(stepEvents(operationId, "started", [started])))
    return { operationId, amount: quote.amount, feeReserve: quote.fee_reserve, unit, expiry: quote.expiry }
  })

// ---------------------------------------------------------------------------------------------------------
// One path per melt
// ---------------------------------------------------------------------------------------------------------

/** Melts being settled in this process, per wallet. */
const busy = new WeakMap<WalletRuntime, Set<string>>()

/**
 * Runs `body` as the only path settling `operationId` in this process, or `onBusy` when another path
 * (a melt call still waiting for its payment, a recovery pass) already is.
 */
const exclusive = <A, E>(
  rt: WalletRuntime,
  operationId: string,
  onBusy: Effect.Effect<A, E>,
  body: Effect.Effect<A, E>,
): Effect.Effect<A, E> =>
  Effect.suspend(() => {
    let set = busy.get(rt)
    if (set === undefined) {
      set = new Set()
      busy.set(rt, set)
    }
    if (set.has(operationId)) return onBusy
    const held = set
    held.add(operationId)
    return body.pipe(Effect.ensuring(Effect.sync(() => held.delete(operationId))))
  })

/**
 * Runs `body` with the melt marked as driven by this process (`rt.live`), so a wallet recovery pass leaves
 * it alone while its request may still reach the mint.
 */
const driving = <A, E>(
  rt: WalletRuntime,
  operationId: string,
  body: Effect.Effect<A, E>,
): Effect.Effect<A, E> =>
  Effect.suspend(() => {
    const marked = !rt.live.has(operationId)
    if (marked) rt.live.add(operationId)
    return body.pipe(
      Effect.ensuring(
        Effect.sync(() => {
          if (marked) rt.live.delete(operationId)
        }),
      ),
    )
  })

/** A melt as its events describe it, with its saga's state. */
interface MeltState {
  readonly ctx: OpContext
  readonly started: MeltStarted
  readonly saga: SagaState
}

/** Loads a melt's context and saga state from the log (fresh: always after taking the melt's path). */
const loadMelt = (rt: WalletRuntime, operationId: string): Effect.Effect<MeltState, EngineInvariant> =>
  Effect.gen(function* () {
    const events = yield* rt.operationEvents(operationId)
    const ctx = opContextOf(operationId, events)
    if (ctx === undefined)
      return yield* new EngineInvariant({ message: `operation ${operationId} has no OperationStarted event` })
    if (ctx.started.kind !== "melt")
      return yield* new EngineInvariant({ message: `operation ${operationId} is not a melt` })
    const saga = replayOperation(events.map((r) => r.event).filter(isOperationEvent))
    if (saga instanceof IllegalOperationStep)
      return yield* new EngineInvariant({ message: `the log holds an illegal melt history: ${saga.message}` })
    return { ctx, started: ctx.started, saga: saga.state }
  })

// ---------------------------------------------------------------------------------------------------------
// Settling
// ---------------------------------------------------------------------------------------------------------

/** What one attempt to settle a melt led to: a swap-like outcome, or a payment still in flight. */
type MeltOutcome = Settled | { readonly _tag: "PaymentPending" }

const recovering = (
  m: MeltState,
  step: OperationRecovering["step"],
  outcome: OperationRecovering["outcome"],
  code?: number,
): OperationRecovering => ({
  _tag: "OperationRecovering",
  operationId: m.ctx.operationId,
  kind: "melt",
  attempt: m.ctx.recoveries + 1,
  step,
  outcome,
  ...(code !== undefined ? { code } : {}),
})

/** The recovery events of an undecided pass; none while the payment is known to be in flight. */
const note = (rt: WalletRuntime, m: MeltState, event: OperationRecovering) =>
  m.saga === "paymentPending"
    ? Effect.void // polling a long payment must not grow the log by one record per poll
    : rt.write((append) => append(stepEvents(m.ctx.operationId, "recovering", [event], event.attempt)))

/** The value and NUT-02 fee of the melt's inputs, read from the wallet's proofs. */
const inputsOf = (rt: WalletRuntime, ys: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const view = rt.view()
    const proofs: StoredProof[] = []
    for (const y of ys) {
      const live = view.proof(y)
      if (live === undefined)
        return yield* new EngineInvariant({ message: "a melt input is no longer held by the wallet" })
      proofs.push(live.proof)
    }
    const fee = yield* attempt(() => feeForInputs(proofs, (id) => view.keyset(id)?.inputFeePpk)).pipe(
      Effect.mapError(() => new EngineInvariant({ message: "a melt input's keyset fee is not known" })),
    )
    return { total: sumAmounts(proofs), fee }
  })

/**
 * Finalises a paid melt with the change the mint signed for `answered` (a prefix of the blank outputs on
 * the live path, the restored ones in recovery). When a recovery pass found it paid (`recovered`), or the
 * melt is no longer in `requested`, a quote-state `OperationRecovering{recovered}` goes first in the same
 * append, as the saga requires. Fails with the pure layers' errors (or {@link SignatureMismatch} when the
 * change exceeds what was overpaid) when the change does not check out: the caller treats that as ambiguous.
 */
const finalizeMelt = (
  rt: WalletRuntime,
  m: MeltState,
  answered: ReadonlyArray<OutputIntent>,
  signatures: ReadonlyArray<Signature>,
  preimage: string | undefined,
  recovered: boolean,
): Effect.Effect<Settled, EngineInvariant | SignatureCheckError> =>
  Effect.gen(function* () {
    const { ctx, started } = m
    const prepared = ctx.prepared
    if (prepared === undefined)
      return yield* new EngineInvariant({ message: "finalising an unprepared melt" })
    const operationId = ctx.operationId
    const { total, fee: inputFee } = yield* inputsOf(rt, prepared.inputs)
    let change: StoredProof[] = []
    if (signatures.length > 0) {
      const keyset = yield* outputKeyset(rt, answered)
      const requireDleq = yield* dleqRequired(rt, started.mintUrl)
      change = yield* Effect.try({
        try: () => proofsFromSignatures(rt.seed, keyset, answered, signatures, { requireDleq, change: true }),
        catch: (e) => e as SignatureCheckError,
      })
    }
    const changeAmount = sumAmounts(change)
    const feePaid = total - inputFee - started.amount - changeAmount
    if (feePaid < 0n)
      return yield* new SignatureMismatch({ message: "the melt's change exceeds what the inputs overpaid" })
    if (feePaid > started.feeReserve)
      yield* Effect.logWarning(
        `melt: the fee paid (${feePaid}) exceeds the quote's fee reserve (${started.feeReserve})`,
      )
    const completed: OperationCompleted = {
      _tag: "OperationCompleted",
      operationId,
      kind: "melt",
      amount: started.amount,
      feeReserve: started.feeReserve,
      feePaid,
      inputFee,
      change: changeAmount,
      ...(preimage !== undefined && preimage !== "" ? { preimage } : {}),
    }
    const view = rt.view()
    const events: WalletEvent[] = [
      ...ifAny(change, (p) => ({
        _tag: "ProofsIssued",
        mintUrl: started.mintUrl,
        unit: started.unit,
        operationId,
        proofs: p,
      })),
      ...ifAny(
        prepared.inputs.filter((y) => view.proof(y) !== undefined),
        (ys) => ({ _tag: "ProofsSpent", operationId, ys }),
      ),
      completed,
    ]
    yield* rt.write((append) =>
      append([
        ...(!recovered && m.saga === "requested"
          ? []
          : stepEvents(
              operationId,
              "recovering",
              [recovering(m, "quote-state", "recovered")],
              ctx.recoveries + 1,
            )),
        ...(signatures.length > 0
          ? stepEvents(operationId, "signed", [
              { _tag: "OperationSigned", operationId, kind: "melt", signatures: [...signatures] },
            ])
          : []),
        ...stepEvents(operationId, "completed", events),
      ]),
    )
    return { _tag: "Completed", completed, proofs: change } as Settled
  })

/**
 * Records the payment as in flight: the inputs the melt still holds reserved turn pending. From
 * `requested` (the mint answered PENDING) a plain `OperationPending`; after an unknown outcome the
 * quote-state pass that found it pending goes first.
 */
const markPaymentPending = (rt: WalletRuntime, m: MeltState, fromRecovery: boolean) =>
  rt
    .write((append) =>
      Effect.gen(function* () {
        const operationId = m.ctx.operationId
        const view = rt.view()
        const reserved = (m.ctx.prepared?.inputs ?? []).filter((y) => {
          const p = view.proof(y)
          return p !== undefined && p.state === "reserved" && p.operationId === operationId
        })
        yield* append([
          ...(fromRecovery
            ? stepEvents(
                operationId,
                "recovering",
                [recovering(m, "quote-state", "pending")],
                m.ctx.recoveries + 1,
              )
            : []),
          ...stepEvents(
            operationId,
            "pending",
            [
              { _tag: "OperationPending", operationId, kind: "melt", reason: "payment-pending" },
              ...ifAny(reserved, (ys) => ({ _tag: "ProofsPending", operationId, ys })),
            ],
            m.ctx.pendings + 1,
          ),
        ])
      }),
    )
    .pipe(Effect.as({ _tag: "PaymentPending" } as MeltOutcome))

/** Finalises a paid melt: the change in `answer`, else (absent, or not checking out) restored from the blanks. */
const settlePaid = (
  rt: WalletRuntime,
  m: MeltState,
  answer: MeltQuoteBolt11Response,
  recovered: boolean,
): Effect.Effect<MeltOutcome, EngineInvariant> =>
  Effect.gen(function* () {
    const outputs = m.ctx.prepared?.outputs ?? []
    const preimage = answer.payment_preimage
    const given = answer.change ?? []
    if (given.length > 0 || outputs.length === 0) {
      const done = yield* finalizeMelt(rt, m, outputs, given, preimage, recovered).pipe(Effect.result)
      if (done._tag === "Success") return done.success
      if (done.failure._tag === "EngineInvariant") return yield* done.failure
    }
    // No change in the answer (a quote-state GET may omit it), or change that did not check out: ask the
    // mint which of our blank outputs it signed (NUT-09), by B_.
    const restored = yield* restoreOutputs(rt, m.started.mintUrl, outputs).pipe(Effect.result)
    if (restored._tag === "Failure") {
      yield* note(rt, m, recovering(m, "restore", "skipped", codeOf(restored.failure)))
      return { _tag: "InDoubt", code: codeOf(restored.failure) } as MeltOutcome
    }
    const done = yield* finalizeMelt(
      rt,
      m,
      restored.success.answered,
      restored.success.signatures,
      preimage,
      recovered,
    ).pipe(Effect.result)
    if (done._tag === "Success") return done.success
    if (done.failure._tag === "EngineInvariant") return yield* done.failure
    yield* note(rt, m, recovering(m, "restore", "failed"))
    return { _tag: "InDoubt", code: undefined } as MeltOutcome
  })

/**
 * The quote says the payment did not happen (UNPAID/FAILED, no preimage). Released only when every input
 * is unspent at the mint; anything else (pending or spent inputs, a failed or garbled check) stays.
 */
const settleUnpaid = (rt: WalletRuntime, m: MeltState): Effect.Effect<MeltOutcome, EngineInvariant> =>
  Effect.gen(function* () {
    const ys = m.ctx.prepared?.inputs ?? []
    if (ys.length > 0) {
      const checked = yield* rt.services.mint.checkState(m.started.mintUrl, ys).pipe(Effect.result)
      if (checked._tag === "Failure") {
        yield* note(rt, m, recovering(m, "checkstate", "skipped", codeOf(checked.failure)))
        return { _tag: "InDoubt", code: codeOf(checked.failure) } as MeltOutcome
      }
      let unspent: boolean
      try {
        const states = matchProofStates(ys, checked.success)
        unspent = ys.every((y) => states.get(y.toLowerCase())?.state === "UNSPENT")
      } catch {
        yield* note(rt, m, recovering(m, "checkstate", "failed"))
        return { _tag: "InDoubt", code: undefined } as MeltOutcome
      }
      // Our melt request timed out a moment ago: the mint may still take it up and spend the inputs.
      if (!unspent || rt.mayStillApply(m.ctx.operationId)) {
        yield* note(rt, m, recovering(m, "checkstate", "pending"))
        return m.saga === "paymentPending"
          ? ({ _tag: "PaymentPending" } as MeltOutcome)
          : ({ _tag: "InDoubt", code: undefined } as MeltOutcome)
      }
    }
    yield* compensate(rt, m.ctx, "payment-failed", undefined, {
      recovery: recovering(m, "quote-state", "compensated"),
    })
    return { _tag: "Compensated", reason: "payment-failed", code: undefined } as MeltOutcome
  })

/** One recovery pass over a melt whose path this caller holds (see the module comment). */
const recoverHeld = (rt: WalletRuntime, m: MeltState): Effect.Effect<MeltOutcome, EngineInvariant> =>
  Effect.gen(function* () {
    const { ctx, started } = m
    if (ctx.ended === "completed")
      return { _tag: "Completed", completed: undefined, proofs: [] } as MeltOutcome
    if (ctx.ended === "compensated") {
      const op = rt.view().operation(ctx.operationId)
      return { _tag: "Compensated", reason: op?.compensation ?? "rejected", code: op?.code } as MeltOutcome
    }
    // A quote not yet paid from (no request left): nothing to recover.
    if (ctx.prepared === undefined || ctx.attempts === 0)
      return { _tag: "InDoubt", code: undefined } as MeltOutcome
    const state = yield* rt.services.mint
      .meltQuoteState(started.mintUrl, started.method, started.quoteId)
      .pipe(Effect.result)
    if (state._tag === "Failure") {
      yield* note(rt, m, recovering(m, "quote-state", "skipped", codeOf(state.failure)))
      return m.saga === "paymentPending"
        ? ({ _tag: "PaymentPending" } as MeltOutcome)
        : ({ _tag: "InDoubt", code: codeOf(state.failure) } as MeltOutcome)
    }
    const answer = state.success
    if (answer.quote !== started.quoteId) {
      yield* note(rt, m, recovering(m, "quote-state", "failed"))
      return { _tag: "InDoubt", code: undefined } as MeltOutcome
    }
    const preimage = answer.payment_preimage
    // A payment preimage proves the payment whatever the state says (CDK: compensating then "would let the
    // wallet re-spend proofs the mint has already used").
    if (answer.state === "PAID" || (preimage !== undefined && preimage !== ""))
      return yield* settlePaid(rt, m, answer, true)
    if (answer.state === "UNPAID" || answer.state === "FAILED") return yield* settleUnpaid(rt, m)
    // PENDING, or UNKNOWN (treated as pending: CDK's live path releases on it, its recovery does not).
    if (m.saga === "paymentPending") return { _tag: "PaymentPending" } as MeltOutcome
    return yield* markPaymentPending(rt, m, true)
  })

/** Sends the prepared melt (no timeout) and settles it on the answer (see the module comment). */
const requestMelt = (rt: WalletRuntime, m: MeltState): Effect.Effect<MeltOutcome, EngineInvariant> =>
  Effect.gen(function* () {
    const { ctx, started } = m
    const sent = yield* rt.services.mint
      .melt(started.mintUrl, started.method, ctx.prepared!.request.body)
      .pipe(Effect.result)
    if (sent._tag === "Success") {
      const answer = sent.success
      if (answer.state === "PAID") {
        const paid = yield* settlePaid(rt, m, answer, false)
        if (paid._tag !== "InDoubt") return paid
        // The change could not be settled now (restore failed): the payment happened; recovery finishes it.
        return yield* recoverAfterAmbiguity(rt, m, undefined)
      }
      return yield* markPaymentPending(rt, m, false)
    }
    const error: MintCallError = sent.failure
    if (isDefinitive(error)) {
      yield* compensate(rt, ctx, "rejected", codeOf(error))
      return { _tag: "Compensated", reason: "rejected", code: codeOf(error) } as MeltOutcome
    }
    noteUnanswered(rt, ctx.operationId, error)
    return yield* recoverAfterAmbiguity(rt, m, codeOf(error))
  })

/** Records an ambiguous outcome, then runs one recovery pass on the fresh state. */
const recoverAfterAmbiguity = (rt: WalletRuntime, m: MeltState, code: number | undefined) =>
  Effect.gen(function* () {
    const fresh = yield* loadMelt(rt, m.ctx.operationId)
    if (fresh.ctx.ended !== undefined) return yield* recoverHeld(rt, fresh)
    if (fresh.saga === "requested") yield* markPending(rt, fresh.ctx, "ambiguous", code)
    return yield* recoverHeld(rt, yield* loadMelt(rt, m.ctx.operationId))
  })

/** Appends the melt's intent (blank outputs, reserved inputs, exact request). Call inside `rt.write`. */
const appendMeltIntent = (
  rt: WalletRuntime,
  append: Parameters<Parameters<WalletRuntime["write"]>[0]>[0],
  m: MeltState,
) =>
  Effect.gen(function* () {
    const { started } = m
    const operationId = m.ctx.operationId
    const view = rt.view()
    const keyset = yield* activeKeysetOrFail(view, started.mintUrl, started.unit)
    const sel = pickInputs(view, started.mintUrl, started.unit, started.amount + started.feeReserve, true)
    if (sel instanceof InsufficientFunds) return yield* sel
    const inputs = sel.inputs.map((p) => p.live.proof)
    // Everything beyond the amount and the input fee may come back as change: the fee reserve the route
    // does not use, plus whatever the selection overshot. One blank output per bit of that (NUT-08).
    const overpay = sel.change + started.feeReserve
    const blanks = yield* attempt(() => blankOutputCount(overpay))
    // NUT-08: a blank's amount is ignored by the mint; 1 as nutshell's wallet sends (CDK sends 0).
    const plan = yield* attempt(() =>
      planOutputs(
        rt.seed,
        keyset.id,
        view.nextCounter(keyset.id),
        Array.from({ length: blanks }, () => ({ amount: 1n, role: "change" as const })),
      ),
    )
    const body = encodeMintRequest(MeltRequestSchema, {
      quote: started.quoteId,
      inputs: inputs.map(asInput),
      ...(plan.blinded.length > 0 ? { outputs: [...plan.blinded] } : {}),
    })
    const ys = inputs.map((p) => p.Y)
    const prepared = {
      _tag: "OperationPrepared" as const,
      operationId,
      kind: "melt" as const,
      inputs: ys,
      outputs: plan.intents,
      request: { path: `/v1/melt/${started.method}`, body },
    }
    yield* append([
      ...stepEvents(operationId, "prepared", [
        ...(plan.counters !== undefined ? [plan.counters] : []),
        ...ifAny(ys, (y) => ({ _tag: "ProofsReserved", operationId, ys: y })),
        prepared,
      ]),
      ...stepEvents(
        operationId,
        "requested",
        [{ _tag: "OperationRequested", operationId, kind: "melt", attempt: 1 }],
        1,
      ),
    ])
    return {
      ...m,
      ctx: { ...m.ctx, prepared, attempts: 1, firstSentAt: rt.services.now() },
      saga: "requested",
    } satisfies MeltState
  })

// ---------------------------------------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------------------------------------

/** The API's answer for a melt that did not complete (yet). */
const pendingResult = (rt: WalletRuntime, m: MeltState) =>
  Effect.gen(function* () {
    const inputFee =
      m.ctx.prepared === undefined
        ? 0n
        : (yield* inputsOf(rt, m.ctx.prepared.inputs).pipe(Effect.orElseSucceed(() => ({ fee: 0n })))).fee
    return {
      operationId: m.ctx.operationId,
      state: "pending",
      amount: m.started.amount,
      feePaid: 0n,
      inputFee,
      change: 0n,
      preimage: undefined,
    } satisfies MeltResult
  })

const paidResult = (
  operationId: string,
  c: OperationCompleted,
): Effect.Effect<MeltResult, EngineInvariant> =>
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
    const m = yield* loadMelt(rt, operationId)
    switch (outcome._tag) {
      case "Completed": {
        const completed =
          outcome.completed ??
          (yield* rt.operationEvents(operationId))
            .map((r) => r.event)
            .find((e) => e._tag === "OperationCompleted")
        if (completed === undefined || completed._tag !== "OperationCompleted")
          return yield* new EngineInvariant({ message: "a completed melt has no completion record" })
        return yield* paidResult(operationId, completed)
      }
      case "PaymentPending":
        return yield* pendingResult(rt, m)
      case "Compensated":
        return yield* new OperationFailed({
          operationId,
          kind: "melt",
          reason: outcome.reason,
          code: outcome.code,
          message: `the melt did not happen (${outcome.reason}); its inputs are spendable again`,
        })
      case "InDoubt":
        if (m.saga === "paymentPending") return yield* pendingResult(rt, m)
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
    const m0 = yield* loadMelt(rt, operationId)
    const outcome = yield* exclusive<MeltOutcome, WalletError>(
      rt,
      operationId,
      Effect.succeed({ _tag: "PaymentPending" }),
      driving(
        rt,
        operationId,
        Effect.gen(function* () {
          const m = yield* loadMelt(rt, operationId)
          if (m.ctx.prepared !== undefined || m.ctx.ended !== undefined) return yield* recoverHeld(rt, m)
          const { expiry } = m.started
          if (expiry !== undefined && expiry > 0 && expiry * 1000 <= rt.services.now()) {
            yield* compensate(rt, m.ctx, "quote-expired", undefined)
            return yield* new QuoteRejected({ reason: "expired", message: "the melt quote has expired" })
          }
          const prepared = yield* rt.write((append) => appendMeltIntent(rt, append, m))
          return yield* requestMelt(rt, prepared)
        }),
      ),
    )
    return yield* resultOf(rt, m0.ctx.operationId, outcome)
  })

/**
 * One recovery pass over a melt (from an ambiguous outcome, from a crash while requested, or to poll a
 * payment in flight). Re-reads the melt's events first, so any caller's context will do. Answers
 * `InDoubt` while the payment is still pending or another path is settling it.
 */
export const recoverMelt = (rt: WalletRuntime, ctx: OpContext): Effect.Effect<Settled, EngineInvariant> =>
  exclusive<MeltOutcome, EngineInvariant>(
    rt,
    ctx.operationId,
    Effect.succeed({ _tag: "InDoubt", code: undefined }),
    loadMelt(rt, ctx.operationId).pipe(Effect.flatMap((m) => recoverHeld(rt, m))),
  ).pipe(Effect.map((o): Settled => (o._tag === "PaymentPending" ? { _tag: "InDoubt", code: undefined } : o)))
