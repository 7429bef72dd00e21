/**
 * The melt saga's steps (NUT-05 + NUT-23 bolt11, NUT-08 change), shared by the entry points (`./melt.ts`)
 * and recovery (`./melt-recovery.ts`): record the intent, send it once with no timeout, finalise a paid
 * melt with its change, and record a payment in flight.
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
import {
  intentOf,
  type OperationCommand,
  type OperationState,
  startedOfKind,
} from "../../machines/decider.js"
import {
  EngineInvariant,
  InsufficientFunds,
  isDefinitive,
  SignatureMismatch,
  type UnknownMint,
} from "../../model/index.js"
import type { KeysetView } from "../../projections/mints.js"
import type { LiveProof } from "../../projections/proofs.js"
import { encodeMintRequest } from "../../protocol/decode.js"
import { feeForInputs } from "../../protocol/fees.js"
import { type MeltQuoteBolt11Response, MeltRequestSchema } from "../../protocol/schemas/melt.js"
import { blankOutputCount } from "../../protocol/split.js"
import { checkedProofs, planOutputs, type SignatureCheckError } from "../outputs.js"
import { attempt } from "../pure.js"
import { isStepError, type Record, type StepError, type WalletRuntime, type WalletView } from "../runtime.js"
import { ifAny, sumAmounts } from "./lists.js"
import { completedWith, inDoubt, type MeltOutcome, paymentInFlight, type Settled } from "./settled.js"
import {
  activeKeysetOrFail,
  asInput,
  codeOf,
  dleqRequired,
  noteUnanswered,
  outputKeyset,
  pickInputs,
  restoreOutputs,
} from "./shared.js"
import { compensate } from "./swap.js"

/** What a melt operation was started with (its quote). */
export type MeltStarted = Extract<OperationStarted, { kind: "melt" }>

/** The started record of a melt operation, or `EngineInvariant` for another kind. */
export const meltStarted = (s: OperationState): Effect.Effect<MeltStarted, EngineInvariant> => {
  const started = startedOfKind(s, "melt")
  return started === undefined
    ? Effect.fail(new EngineInvariant({ message: `operation ${s.operationId} is not a melt` }))
    : Effect.succeed(started)
}

/**
 * Records what an undecided recovery pass found; nothing while the payment is known to be in flight
 * (polling a long payment must not grow the log by one record per poll).
 */
export const note = (
  rt: WalletRuntime,
  s: OperationState,
  step: OperationRecovering["step"],
  outcome: OperationRecovering["outcome"],
  code?: number,
): Effect.Effect<void, StepError> =>
  s.state === "paymentPending"
    ? Effect.void
    : Effect.asVoid(rt.record(s.operationId, [{ _tag: "Recover", step, outcome, code }]))

/** The value and NUT-02 fee of the melt's inputs, read from the wallet's proofs. */
export const inputsOf = (rt: WalletRuntime, ys: ReadonlyArray<string>) =>
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
 * melt is no longer in `requested`, a quote-state recovery finding goes first in the same append, as the
 * saga requires. Fails with the pure layers' errors (or {@link SignatureMismatch} when the change exceeds
 * what was overpaid) when the change does not check out: the caller treats that as ambiguous.
 */
const finalizeMelt = (
  rt: WalletRuntime,
  s: OperationState,
  answered: ReadonlyArray<OutputIntent>,
  signatures: ReadonlyArray<Signature>,
  preimage: string | undefined,
  recovered: boolean,
): Effect.Effect<Settled, StepError | SignatureCheckError> =>
  Effect.gen(function* () {
    const started = yield* meltStarted(s)
    const prepared = intentOf(s)
    if (prepared === undefined)
      return yield* new EngineInvariant({ message: "finalising an unprepared melt" })
    const operationId = s.operationId
    const { total, fee: inputFee } = yield* inputsOf(rt, prepared.inputs)
    let change: StoredProof[] = []
    if (signatures.length > 0) {
      const keyset = yield* outputKeyset(rt, answered)
      const requireDleq = yield* dleqRequired(rt, started.mintUrl)
      change = yield* checkedProofs(rt.seed, keyset, answered, signatures, { requireDleq, change: true })
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
    const effects: WalletEvent[] = [
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
    ]
    const commands: OperationCommand[] = [
      ...(!recovered && s.state === "requested"
        ? []
        : [{ _tag: "Recover" as const, step: "quote-state" as const, outcome: "recovered" as const }]),
      ...(signatures.length > 0 ? [{ _tag: "Sign" as const, signatures }] : []),
      { _tag: "Complete", completed, effects },
    ]
    yield* rt.record(operationId, commands)
    return completedWith(completed, change)
  })

/**
 * Records the payment as in flight: the inputs the melt still holds reserved turn pending. From
 * `requested` (the mint answered PENDING) a plain pending record; after an unknown outcome the quote-state
 * pass that found it pending goes first.
 */
export const markPaymentPending = (
  rt: WalletRuntime,
  s: OperationState,
  fromRecovery: boolean,
): Effect.Effect<MeltOutcome, StepError> =>
  rt
    .write((_, record) => {
      const operationId = s.operationId
      const view = rt.view()
      const reserved = (intentOf(s)?.inputs ?? []).filter((y) => {
        const p = view.proof(y)
        return p !== undefined && p.state === "reserved" && p.operationId === operationId
      })
      return record(operationId, [
        ...(fromRecovery
          ? [{ _tag: "Recover" as const, step: "quote-state" as const, outcome: "pending" as const }]
          : []),
        {
          _tag: "Pend",
          reason: "payment-pending",
          effects: ifAny(reserved, (ys) => ({ _tag: "ProofsPending", operationId, ys })),
        },
      ])
    })
    .pipe(Effect.as(paymentInFlight))

/** Finalises a paid melt: the change in `answer`, else (absent, or not checking out) restored from the blanks. */
export const settlePaid = (
  rt: WalletRuntime,
  s: OperationState,
  answer: MeltQuoteBolt11Response,
  recovered: boolean,
): Effect.Effect<MeltOutcome, StepError> =>
  Effect.gen(function* () {
    const started = yield* meltStarted(s)
    const outputs = intentOf(s)?.outputs ?? []
    const preimage = answer.payment_preimage
    const given = answer.change ?? []
    if (given.length > 0 || outputs.length === 0) {
      const done = yield* finalizeMelt(rt, s, outputs, given, preimage, recovered).pipe(Effect.result)
      if (done._tag === "Success") return done.success
      if (isStepError(done.failure)) return yield* done.failure
    }
    // No change in the answer (a quote-state GET may omit it), or change that did not check out: ask the
    // mint which of our blank outputs it signed (NUT-09), by B_.
    const restored = yield* restoreOutputs(rt, started.mintUrl, outputs).pipe(Effect.result)
    if (restored._tag === "Failure") {
      yield* note(rt, s, "restore", "skipped", codeOf(restored.failure))
      return inDoubt(codeOf(restored.failure))
    }
    const done = yield* finalizeMelt(
      rt,
      s,
      restored.success.answered,
      restored.success.signatures,
      preimage,
      recovered,
    ).pipe(Effect.result)
    if (done._tag === "Success") return done.success
    if (isStepError(done.failure)) return yield* done.failure
    yield* note(rt, s, "restore", "failed")
    return inDoubt()
  })

/** What {@link planMelt} decided. */
export interface MeltPlan {
  /** The keyset the NUT-08 blank outputs are planned on. */
  readonly keyset: KeysetView
  /** The inputs: `Σ inputs = amount + feeReserve + inputFee + overshoot`. */
  readonly inputs: ReadonlyArray<LiveProof>
  /** NUT-02 input fee of `inputs`. */
  readonly inputFee: bigint
  /**
   * What may come back as NUT-08 change: the fee reserve the route does not use, plus whatever the selection
   * overshot (`Σ inputs − inputFee − amount`).
   */
  readonly overpay: bigint
}

/**
 * Which proofs pay the melt quote `started` on the wallet's `view`: inputs covering the amount, the fee
 * reserve and their own input fee. Pure: `melt` runs it under the writer, `prepareMelt` (`./preview.ts`) on
 * a read; both answer the same for the same view.
 */
export const planMelt = (
  view: WalletView,
  started: MeltStarted,
): Effect.Effect<MeltPlan, UnknownMint | InsufficientFunds> =>
  Effect.gen(function* () {
    const keyset = yield* activeKeysetOrFail(view, started.mintUrl, started.unit)
    const sel = pickInputs(view, started.mintUrl, started.unit, started.amount + started.feeReserve, true)
    if (sel instanceof InsufficientFunds) return yield* sel
    return {
      keyset,
      inputs: sel.inputs.map((p) => p.live),
      inputFee: sel.fee,
      overpay: sel.change + started.feeReserve,
    }
  })

/** Records the melt's intent (blank outputs, reserved inputs, exact request) and attempt 1. Call inside `rt.write`. */
export const appendMeltIntent = (rt: WalletRuntime, record: Record, s: OperationState) =>
  Effect.gen(function* () {
    const started = yield* meltStarted(s)
    const operationId = s.operationId
    const view = rt.view()
    const { keyset, inputs: live, overpay } = yield* planMelt(view, started)
    const inputs = live.map((p) => p.proof)
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
    return yield* record(operationId, [
      {
        _tag: "Prepare",
        prepared: {
          _tag: "OperationPrepared",
          operationId,
          kind: "melt",
          inputs: ys,
          outputs: plan.intents,
          request: { path: `/v1/melt/${started.method}`, body },
        },
        effects: [
          ...(plan.counters !== undefined ? [plan.counters] : []),
          ...ifAny(ys, (y) => ({ _tag: "ProofsReserved", operationId, ys: y })),
        ],
      },
      { _tag: "Request" },
    ])
  })

/**
 * Sends the prepared melt once, with no timeout, and settles it on the answer; an unknown outcome goes to
 * `recover` (injected: `./melt-recovery.ts`). The caller holds the operation's claim.
 */
export const requestMelt = (
  rt: WalletRuntime,
  s: OperationState,
  recover: (
    rt: WalletRuntime,
    operationId: string,
    code: number | undefined,
  ) => Effect.Effect<MeltOutcome, StepError>,
): Effect.Effect<MeltOutcome, StepError> =>
  Effect.gen(function* () {
    const started = yield* meltStarted(s)
    const prepared = intentOf(s)
    if (prepared === undefined)
      return yield* new EngineInvariant({ message: "requesting an unprepared melt" })
    const sent = yield* rt.services.mint
      .melt(started.mintUrl, started.method, prepared.request.body)
      .pipe(Effect.result)
    if (sent._tag === "Success") {
      const answer = sent.success
      if (answer.state === "PAID") {
        const paid = yield* settlePaid(rt, s, answer, false)
        if (paid._tag !== "InDoubt") return paid
        // The change could not be settled now (restore failed): the payment happened; recovery finishes it.
        return yield* recover(rt, s.operationId, undefined)
      }
      return yield* markPaymentPending(rt, s, false)
    }
    const error = sent.failure
    if (isDefinitive(error)) return yield* compensate(rt, s.operationId, "rejected", codeOf(error))
    noteUnanswered(rt, s.operationId, error)
    return yield* recover(rt, s.operationId, codeOf(error))
  })
