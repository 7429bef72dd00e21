/**
 * The swap saga (NUT-03), shared by every operation that spends proofs for new outputs: a plain swap
 * (split, consolidate, reclaim), a send that needs change, and a receive.
 *
 * 1. **Intent** (one fsynced append, under the wallet's writer): `OperationStarted`, whatever moves the
 *    inputs into the operation (`ProofsReceived` for a receive, `ProofsReleased` from a send for a reclaim),
 *    `CountersReserved`, `ProofsReserved`, `OperationPrepared` (input Ys, outputs, exact request bytes) and
 *    `OperationRequested` #1.
 * 2. **Request**: `POST /v1/swap` with those bytes, once (a NUT-19 replay is recovery's, recorded first).
 * 3. **Outcome**:
 *    - signatures that pass validation → one append: `OperationSigned`, `ProofsIssued`, (send: the send
 *      outputs `ProofsReserved` + `ProofsPending` under the operation), `ProofsSpent` of the inputs,
 *      `OperationCompleted`;
 *    - a definitive refusal → `OperationCompensated` + `ProofsReleased`;
 *    - anything ambiguous (timeout, reset, 5xx, 11001, 11003, an answer that fails validation) →
 *      `OperationPending`, then one recovery pass (`./recovery.ts`) right away.
 *
 * Finalisation and compensation read everything from the operation's state (`../../machines/decider.ts`), so
 * recovery after a crash ends an operation with exactly the events the uninterrupted run would have appended.
 *
 * @module
 */
import { Effect } from "effect"
import type {
  OperationCompleted,
  OperationStarted,
  StoredProof,
  WalletEvent,
} from "../../events/catalogue.js"
import { intentOf, type OperationCommand, type OperationState } from "../../machines/decider.js"
import {
  type CompensationReason,
  EngineInvariant,
  isDefinitive,
  type MintCallError,
} from "../../model/index.js"
import type { SignaturesResponse } from "../../ports/mint-client.js"
import type { KeysetView } from "../../projections/mints.js"
import { encodeMintRequest } from "../../protocol/decode.js"
import { SwapRequestSchema } from "../../protocol/schemas/swap.js"
import { isLocked } from "../locks.js"
import { checkedProofs, type OutputRequest, planOutputs } from "../outputs.js"
import { isStepError, type Record, type StepError, type WalletRuntime } from "../runtime.js"
import { ifAny, sumAmounts } from "./lists.js"
import { compensatedWith, completedWith, endedOutcome, type Settled } from "./settled.js"
import {
  asInput,
  codeOf,
  dleqRequired,
  type Finalizer,
  markPending,
  noteUnanswered,
  outputKeyset,
  type RecoveryFinding,
  tokenOf,
} from "./shared.js"

/** What a swap-like operation spends and creates. */
export interface SwapSpec {
  readonly started: Extract<OperationStarted, { kind: "swap" | "send" | "receive" }>
  /** The proofs to spend (for a receive: the token's proofs). */
  readonly inputs: ReadonlyArray<StoredProof>
  /** Events that bring the inputs into the operation before the reservation (receive, reclaim). */
  readonly before: ReadonlyArray<WalletEvent>
  /** Reserve the inputs (`ProofsReserved`): true for the wallet's own unspent proofs. */
  readonly reserve: boolean
  readonly outputs: ReadonlyArray<OutputRequest>
  /** The keyset the outputs are signed on (the mint's active keyset for the unit). */
  readonly keyset: KeysetView
}

/**
 * Records the intent of a swap-like operation and its first attempt (call inside `rt.write`, while holding
 * the operation's claim). Returns its state, ready for {@link requestSwap}.
 */
export const appendSwapIntent = (
  rt: WalletRuntime,
  record: Record,
  spec: SwapSpec,
): Effect.Effect<OperationState, StepError> => {
  const view = rt.view()
  const operationId = spec.started.operationId
  const plan = planOutputs(rt.seed, spec.keyset.id, view.nextCounter(spec.keyset.id), spec.outputs)
  const body = encodeMintRequest(SwapRequestSchema, {
    inputs: spec.inputs.map(asInput),
    outputs: plan.blinded,
  })
  const ys = spec.inputs.map((p) => p.Y)
  return record(operationId, [
    { _tag: "Start", started: spec.started },
    {
      _tag: "Prepare",
      prepared: {
        _tag: "OperationPrepared",
        operationId,
        kind: spec.started.kind,
        inputs: ys,
        outputs: plan.intents,
        request: { path: "/v1/swap", body },
      },
      effects: [
        ...spec.before,
        ...(plan.counters !== undefined ? [plan.counters] : []),
        ...(spec.reserve ? ifAny(ys, (y) => ({ _tag: "ProofsReserved", operationId, ys: y })) : []),
      ],
    },
    { _tag: "Request" },
  ])
}

/** The commands of a finalising append: the recovery finding (when one led here), the signatures, the end. */
export const finalCommands = (
  finding: RecoveryFinding | undefined,
  signatures: ReadonlyArray<import("../../events/catalogue.js").Signature>,
  completed: OperationCompleted,
  effects: ReadonlyArray<WalletEvent>,
): OperationCommand[] => [
  ...(finding !== undefined ? [{ _tag: "Recover" as const, ...finding }] : []),
  { _tag: "Sign", signatures },
  { _tag: "Complete", completed, effects },
]

/** The commands of a compensation: the recovery finding (when one led here), then the end. */
const compensationCommands = (
  finding: RecoveryFinding | undefined,
  reason: CompensationReason,
  code: number | undefined,
  effects: ReadonlyArray<WalletEvent>,
): OperationCommand[] => [
  ...(finding !== undefined ? [{ _tag: "Recover" as const, ...finding }] : []),
  { _tag: "Compensate", reason, code, effects },
]

/**
 * Finalises a swap-like operation from the mint's signatures for (a prefix-free subset of) its outputs.
 * `signatures[i]` answers `answered[i]` (all outputs on the live path; the restored ones in recovery).
 * Idempotent: an operation that already ended answers with how it ended. Fails with the pure layers' errors
 * when the signatures do not check out (the caller treats that as ambiguous).
 */
export const finalizeSwap: Finalizer = (rt, operationId, answered, signatures, finding) =>
  Effect.gen(function* () {
    const s = yield* rt.existingOperation(operationId)
    const ended = endedOutcome(s)
    if (ended !== undefined) return ended
    const prepared = intentOf(s)
    const started = s.started
    if (prepared === undefined)
      return yield* new EngineInvariant({ message: "finalising an unprepared operation" })
    if (started.kind !== "swap" && started.kind !== "send" && started.kind !== "receive")
      return yield* new EngineInvariant({ message: `finalizeSwap of a ${started.kind} operation` })
    const { mintUrl, unit } = started
    const keyset = yield* outputKeyset(rt, prepared.outputs)
    const requireDleq = yield* dleqRequired(rt, mintUrl)
    const proofs = yield* checkedProofs(rt.seed, keyset, answered, signatures, { requireDleq })
    return yield* rt.write((_, record) =>
      Effect.gen(function* () {
        const now = yield* rt.existingOperation(operationId)
        const endedMeanwhile = endedOutcome(now)
        if (endedMeanwhile !== undefined) return endedMeanwhile
        const view = rt.view()
        const amountIn = sumAmounts(
          prepared.inputs.map((y) => ({ amount: view.proof(y)?.proof.amount ?? 0n })),
        )
        const amountOut = sumAmounts(proofs)
        const sent = proofs.filter((_, i) => answered[i]!.role === "send")
        const sentYs = sent.map((p) => p.Y)
        const fee = amountIn > amountOut ? amountIn - amountOut : 0n
        const completed: OperationCompleted =
          started.kind === "send"
            ? {
                _tag: "OperationCompleted",
                operationId,
                kind: "send",
                amount: sumAmounts(sent),
                fee,
                token: tokenOf(mintUrl, unit, sent, started.memo),
              }
            : started.kind === "receive"
              ? { _tag: "OperationCompleted", operationId, kind: "receive", amount: amountOut, fee }
              : { _tag: "OperationCompleted", operationId, kind: "swap", amountIn, amountOut, fee }
        const effects: WalletEvent[] = [
          ...ifAny(proofs, (p) => ({ _tag: "ProofsIssued", mintUrl, unit, operationId, proofs: p })),
          ...ifAny(sentYs, (ys) => ({ _tag: "ProofsReserved", operationId, ys })),
          ...ifAny(sentYs, (ys) => ({ _tag: "ProofsPending", operationId, ys })),
          ...ifAny(
            prepared.inputs.filter((y) => view.proof(y) !== undefined),
            (ys) => ({ _tag: "ProofsSpent", operationId, ys }),
          ),
        ]
        yield* record(operationId, finalCommands(finding, signatures, completed, effects))
        return completedWith(completed, proofs)
      }),
    )
  })

/**
 * Ends an operation without effect: releases the inputs it still holds (reserved or pending under it).
 * A receive's incoming proofs were never ours: they are dropped (`ProofsDropped`: the wallet holds them no
 * more, and a forged token's amounts leave every balance), unless `spent` says the mint reported them
 * spent. A reclaim hands locked inputs back to its send (released, then reserved and
 * pending under the send again): a locked proof never lands in `unspent`, where coin selection would spend
 * it unsigned and the balance would count value the recipient can still claim. Idempotent: an operation
 * that already ended answers with how it ended.
 */
export const compensate = (
  rt: WalletRuntime,
  operationId: string,
  reason: CompensationReason,
  code: number | undefined,
  options: { readonly spent?: boolean; readonly finding?: RecoveryFinding } = {},
): Effect.Effect<Settled, StepError> =>
  rt.write((_, record) =>
    Effect.gen(function* () {
      const s = yield* rt.existingOperation(operationId)
      const ended = endedOutcome(s)
      if (ended !== undefined) return ended
      const view = rt.view()
      const ys = intentOf(s)?.inputs ?? []
      const held = ys.filter((y) => {
        const p = view.proof(y)
        return (
          p !== undefined &&
          (p.state === "reserved" || p.state === "pending") &&
          p.operationId === operationId
        )
      })
      const known = ys.filter((y) => view.proof(y) !== undefined)
      const started = s.started
      const send =
        started.kind === "swap" && started.purpose === "reclaim" ? started.relatedOperationId : undefined
      const backToSend =
        send === undefined
          ? []
          : held.filter((y) => {
              const p = view.proof(y)
              return p !== undefined && isLocked(p.proof)
            })
      const incoming = started.kind === "receive" ? ys.filter((y) => view.proof(y)?.state === "incoming") : []
      const effects: WalletEvent[] =
        options.spent === true
          ? ifAny(known, (k) => ({ _tag: "ProofsSpent", operationId, ys: k }))
          : [
              ...ifAny(incoming, (d) => ({ _tag: "ProofsDropped", operationId, ys: d })),
              ...ifAny(held, (h) => ({ _tag: "ProofsReleased", operationId, ys: h })),
              ...(send === undefined
                ? []
                : [
                    ...ifAny(backToSend, (b) => ({ _tag: "ProofsReserved", operationId: send, ys: b })),
                    ...ifAny(backToSend, (b) => ({ _tag: "ProofsPending", operationId: send, ys: b })),
                  ]),
            ]
      yield* record(operationId, compensationCommands(options.finding, reason, code, effects))
      return compensatedWith(reason, code)
    }),
  )

/**
 * Sends a prepared request the mint answers with signatures (a swap, a mint) once, and settles it: finalise
 * on valid signatures, compensate on a definitive refusal, otherwise record it pending and run one recovery
 * pass (`recover`, injected to keep modules acyclic). The caller holds the operation's claim.
 */
export const requestSigned = (
  rt: WalletRuntime,
  s: OperationState,
  send: (body: string) => Effect.Effect<SignaturesResponse, MintCallError>,
  finalize: Finalizer,
  recover: (rt: WalletRuntime, s: OperationState) => Effect.Effect<Settled, StepError>,
): Effect.Effect<Settled, StepError> =>
  Effect.gen(function* () {
    const prepared = intentOf(s)
    if (prepared === undefined)
      return yield* new EngineInvariant({ message: `requesting an unprepared ${s.kind}` })
    const sent = yield* send(prepared.request.body).pipe(Effect.result)
    if (sent._tag === "Success") {
      const done = yield* finalize(rt, s.operationId, prepared.outputs, sent.success.signatures).pipe(
        Effect.result,
      )
      if (done._tag === "Success") return done.success
      if (isStepError(done.failure)) return yield* done.failure
      // Signatures that do not check out: the mint may still have applied the request. Ambiguous.
      return yield* recover(rt, yield* markPending(rt, s.operationId, "ambiguous", undefined))
    }
    const error = sent.failure
    if (isDefinitive(error)) return yield* compensate(rt, s.operationId, "rejected", codeOf(error))
    noteUnanswered(rt, s.operationId, error)
    return yield* recover(rt, yield* markPending(rt, s.operationId, "ambiguous", codeOf(error)))
  })

/** Sends the prepared swap once and settles it ({@link requestSigned}). */
export const requestSwap = (
  rt: WalletRuntime,
  s: OperationState,
  recover: (rt: WalletRuntime, s: OperationState) => Effect.Effect<Settled, StepError>,
): Effect.Effect<Settled, StepError> =>
  requestSigned(rt, s, (body) => rt.services.mint.swap(s.started.mintUrl, body), finalizeSwap, recover)
