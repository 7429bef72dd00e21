/**
 * The swap saga (NUT-03), shared by every operation that spends proofs for new outputs: a plain swap
 * (split, consolidate, reclaim), a send that needs change, and a receive.
 *
 * 1. **Intent** (one fsynced append, under the wallet's writer): `OperationStarted`, whatever moves the
 *    inputs into the operation (`ProofsReceived` for a receive, `ProofsReleased` from a send for a reclaim),
 *    `CountersReserved`, `ProofsReserved`, `OperationPrepared` (input Ys, outputs, exact request bytes) and
 *    `OperationRequested` #1.
 * 2. **Request**: `POST /v1/swap` with those bytes (the mint client may replay them under NUT-19).
 * 3. **Outcome**:
 *    - signatures that pass validation → one append: `OperationSigned`, `ProofsIssued`, (send: the send
 *      outputs `ProofsReserved` + `ProofsPending` under the operation), `ProofsSpent` of the inputs,
 *      `OperationCompleted`;
 *    - a definitive refusal → `OperationCompensated` + `ProofsReleased`;
 *    - anything ambiguous (timeout, reset, 5xx, 11001, 11003, an answer that fails validation) →
 *      `OperationPending`, then one recovery pass (`./recovery.ts`) right away.
 *
 * Finalisation and compensation read everything from the {@link OpContext}, so recovery after a crash ends
 * an operation with exactly the events the uninterrupted run would have appended.
 *
 * @module
 */
import { Effect } from "effect"
import type {
  CompensationReason,
  OperationCompleted,
  OperationStarted,
  OutputIntent,
  Signature,
  StoredProof,
  WalletEvent,
} from "../../events/catalogue.js"
import type { NewEvent } from "../../events/store.js"
import { isDefinitive, type MintCallError } from "../../infra/mint-client/service.js"
import type { KeysetView } from "../../projections/mints.js"
import { encodeMintRequest } from "../../protocol/decode.js"
import { supportsNut } from "../../protocol/schemas/info.js"
import { SwapRequestSchema } from "../../protocol/schemas/swap.js"
import { EngineInvariant, OperationFailed, OperationInDoubt } from "../errors.js"
import { isLocked } from "../locks.js"
import {
  type OutputRequest,
  planOutputs,
  proofsFromSignatures,
  type SignatureCheckError,
} from "../outputs.js"
import type { WalletRuntime } from "../runtime.js"
import { ifAny, stepEvents, sumAmounts } from "./batch.js"
import type { OpContext } from "./context.js"
import { asInput, tokenOf } from "./steps.js"

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
 * Appends the intent of a swap-like operation (call inside `rt.write`). Returns its context, ready for
 * {@link requestSwap}.
 */
export const appendSwapIntent = (
  rt: WalletRuntime,
  append: (
    events: ReadonlyArray<import("../../events/store.js").NewEvent>,
  ) => Effect.Effect<void, EngineInvariant>,
  spec: SwapSpec,
): Effect.Effect<OpContext, EngineInvariant> =>
  Effect.gen(function* () {
    const view = rt.view()
    const operationId = spec.started.operationId
    const plan = planOutputs(rt.seed, spec.keyset.id, view.nextCounter(spec.keyset.id), spec.outputs)
    const body = encodeMintRequest(SwapRequestSchema, {
      inputs: spec.inputs.map(asInput),
      outputs: plan.blinded,
    })
    const ys = spec.inputs.map((p) => p.Y)
    const prepared = {
      _tag: "OperationPrepared" as const,
      operationId,
      kind: spec.started.kind,
      inputs: ys,
      outputs: plan.intents,
      request: { path: "/v1/swap", body },
    }
    const intent: WalletEvent[] = [
      ...spec.before,
      ...(plan.counters !== undefined ? [plan.counters] : []),
      ...(spec.reserve ? ifAny(ys, (y) => ({ _tag: "ProofsReserved", operationId, ys: y })) : []),
      prepared,
    ]
    yield* append([
      ...stepEvents(operationId, "started", [spec.started]),
      ...stepEvents(operationId, "prepared", intent),
      ...stepEvents(
        operationId,
        "requested",
        [{ _tag: "OperationRequested", operationId, kind: spec.started.kind, attempt: 1 }],
        1,
      ),
    ])
    // Live from now until `requestSwap` settles it: recovery passes must not decide it meanwhile.
    rt.live.add(operationId)
    return {
      operationId,
      started: spec.started,
      prepared,
      attempts: 1,
      firstSentAt: rt.services.now(),
      recoveries: 0,
      pendings: 0,
      ended: undefined,
    }
  })

/** Whether signatures of this mint must carry DLEQ proofs (NUT-12 advertised and the engine requires it). */
export const dleqRequired = (rt: WalletRuntime, mintUrl: string): Effect.Effect<boolean> =>
  rt.services.options.requireDleq
    ? rt.info(mintUrl).pipe(
        Effect.map((info) => supportsNut(info, "12")),
        // Unknown info (mint unreachable right now): stay strict rather than accept unproven signatures.
        Effect.orElseSucceed(() => true),
      )
    : Effect.succeed(false)

/** The keyset the operation's outputs were planned on. */
export const outputKeyset = (
  rt: WalletRuntime,
  intents: ReadonlyArray<OutputIntent>,
): Effect.Effect<KeysetView, EngineInvariant> => {
  const id = intents[0]?.id
  const k = id === undefined ? undefined : rt.view().keyset(id)
  return k === undefined
    ? Effect.fail(
        new EngineInvariant({ message: "the operation's output keyset is not known to the wallet" }),
      )
    : Effect.succeed(k)
}

/**
 * The ids of a finalising append: the recovery pass that found the outcome (when one did) comes first, as
 * the saga requires, then the signatures, then their effects.
 */
export const finalEvents = (
  operationId: string,
  recovery: WalletEvent | undefined,
  signed: WalletEvent,
  effects: ReadonlyArray<WalletEvent>,
): NewEvent[] => [
  ...(recovery?._tag === "OperationRecovering"
    ? stepEvents(operationId, "recovering", [recovery], recovery.attempt)
    : []),
  ...stepEvents(operationId, "signed", [signed]),
  ...stepEvents(operationId, "completed", effects),
]

/** The outcome of one attempt to settle an operation. */
export type Settled =
  | {
      readonly _tag: "Completed"
      /** Absent when another path (recovery) had already completed the operation. */
      readonly completed: OperationCompleted | undefined
      readonly proofs: ReadonlyArray<StoredProof>
    }
  | { readonly _tag: "Compensated"; readonly reason: CompensationReason; readonly code: number | undefined }
  | { readonly _tag: "InDoubt"; readonly code: number | undefined }

/**
 * Finalises a swap-like operation from the mint's signatures for (a prefix-free subset of) its outputs.
 * `signatures[i]` answers `intents[i]` of `answered` (all outputs on the live path; the restored ones in
 * recovery). Idempotent: an operation that already ended is left as it is. Fails with the pure layers'
 * errors when the signatures do not check out (the caller treats that as ambiguous).
 */
export const finalizeSwap = (
  rt: WalletRuntime,
  ctx: OpContext,
  answered: ReadonlyArray<OutputIntent>,
  signatures: ReadonlyArray<Signature>,
  recovery?: WalletEvent,
) =>
  Effect.gen(function* () {
    const prepared = ctx.prepared
    if (prepared === undefined)
      return yield* new EngineInvariant({ message: "finalising an unprepared operation" })
    const { mintUrl } = ctx.started
    const unit =
      ctx.started.kind === "restore" || ctx.started.kind === "checkstate" ? undefined : ctx.started.unit
    if (unit === undefined)
      return yield* new EngineInvariant({ message: "finalising an operation without a unit" })
    const keyset = yield* outputKeyset(rt, prepared.outputs)
    const requireDleq = yield* dleqRequired(rt, mintUrl)
    const proofs = yield* Effect.try({
      try: () => proofsFromSignatures(rt.seed, keyset, answered, signatures, { requireDleq }),
      catch: (e) => e as SignatureCheckError,
    })
    return yield* rt.write((append) =>
      Effect.gen(function* () {
        const view = rt.view()
        const op = view.operation(ctx.operationId)
        if (op?.status === "completed")
          return { _tag: "Completed", completed: undefined, proofs: [] } as Settled
        if (op?.status === "compensated")
          return { _tag: "Compensated", reason: op.compensation ?? "rejected", code: op.code } as Settled
        const operationId = ctx.operationId
        const amountIn = sumAmounts(
          prepared.inputs.map((y) => ({ amount: view.proof(y)?.proof.amount ?? 0n })),
        )
        const amountOut = sumAmounts(proofs)
        const sent = proofs.filter((_, i) => answered[i]!.role === "send")
        const sentYs = sent.map((p) => p.Y)
        const fee = amountIn > amountOut ? amountIn - amountOut : 0n
        let completed: OperationCompleted
        switch (ctx.started.kind) {
          case "send": {
            const token = tokenOf(mintUrl, unit, sent, ctx.started.memo)
            completed = {
              _tag: "OperationCompleted",
              operationId,
              kind: "send",
              amount: sumAmounts(sent),
              fee,
              token,
            }
            break
          }
          case "receive":
            completed = { _tag: "OperationCompleted", operationId, kind: "receive", amount: amountOut, fee }
            break
          case "swap":
            completed = { _tag: "OperationCompleted", operationId, kind: "swap", amountIn, amountOut, fee }
            break
          default:
            return yield* new EngineInvariant({ message: `finalizeSwap of a ${ctx.started.kind} operation` })
        }
        const signed: WalletEvent = {
          _tag: "OperationSigned",
          operationId,
          kind: ctx.started.kind,
          signatures: [...signatures],
        }
        const effects: WalletEvent[] = [
          ...ifAny(proofs, (p) => ({ _tag: "ProofsIssued", mintUrl, unit, operationId, proofs: p })),
          ...ifAny(sentYs, (ys) => ({ _tag: "ProofsReserved", operationId, ys })),
          ...ifAny(sentYs, (ys) => ({ _tag: "ProofsPending", operationId, ys })),
          ...ifAny(
            prepared.inputs.filter((y) => view.proof(y) !== undefined),
            (ys) => ({ _tag: "ProofsSpent", operationId, ys }),
          ),
          completed,
        ]
        yield* append(finalEvents(operationId, recovery, signed, effects))
        return { _tag: "Completed", completed, proofs } as Settled
      }),
    )
  })

/**
 * Ends an operation without effect: releases the inputs it still holds (reserved or pending under it).
 * A receive's incoming proofs were never ours: they are dropped (`ProofsDropped`: the wallet holds them no
 * more, and a forged token's amounts leave every balance), unless `spent` says the mint reported them
 * spent. A reclaim hands locked inputs back to its send (released, then reserved and
 * pending under the send again): a locked proof never lands in `unspent`, where coin selection would spend
 * it unsigned and the balance would count value the recipient can still claim.
 */
export const compensate = (
  rt: WalletRuntime,
  ctx: OpContext,
  reason: CompensationReason,
  code: number | undefined,
  options: { readonly spent?: boolean; readonly recovery?: WalletEvent } = {},
) =>
  rt.write((append) =>
    Effect.gen(function* () {
      const view = rt.view()
      const op = view.operation(ctx.operationId)
      if (op !== undefined && (op.status === "completed" || op.status === "compensated")) return
      const operationId = ctx.operationId
      const ys = ctx.prepared?.inputs ?? []
      const held = ys.filter((y) => {
        const p = view.proof(y)
        return (
          p !== undefined &&
          (p.state === "reserved" || p.state === "pending") &&
          p.operationId === operationId
        )
      })
      const known = ys.filter((y) => view.proof(y) !== undefined)
      const recovery = options.recovery
      const started = ctx.started
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
      const events: WalletEvent[] = [
        ...(options.spent === true
          ? ifAny(known, (k) => ({ _tag: "ProofsSpent", operationId, ys: k }))
          : [
              ...ifAny(incoming, (d) => ({ _tag: "ProofsDropped", operationId, ys: d })),
              ...ifAny(held, (h) => ({ _tag: "ProofsReleased", operationId, ys: h })),
              ...ifAny(backToSend, (b) => ({ _tag: "ProofsReserved", operationId: send!, ys: b })),
              ...ifAny(backToSend, (b) => ({ _tag: "ProofsPending", operationId: send!, ys: b })),
            ]),
        {
          _tag: "OperationCompensated",
          operationId,
          kind: ctx.started.kind,
          reason,
          ...(code !== undefined ? { code } : {}),
        },
      ]
      yield* append([
        ...(recovery?._tag === "OperationRecovering"
          ? stepEvents(operationId, "recovering", [recovery], recovery.attempt)
          : []),
        ...stepEvents(operationId, "compensated", events),
      ])
    }),
  )

/** Records that the outcome is not known (`OperationPending`, reason ambiguous). Returns the new context. */
export const markPending = (
  rt: WalletRuntime,
  ctx: OpContext,
  reason: "ambiguous" | "payment-pending",
  code: number | undefined,
  extra: ReadonlyArray<WalletEvent> = [],
): Effect.Effect<OpContext, EngineInvariant> =>
  rt
    .write((append) =>
      append(
        stepEvents(
          ctx.operationId,
          "pending",
          [
            {
              _tag: "OperationPending",
              operationId: ctx.operationId,
              kind: ctx.started.kind,
              reason,
              ...(code !== undefined ? { code } : {}),
            },
            ...extra,
          ],
          ctx.pendings + 1,
        ),
      ),
    )
    .pipe(Effect.as({ ...ctx, pendings: ctx.pendings + 1 }))

/**
 * Notes a request that timed out unanswered: the mint may still apply it (`WalletRuntime.unanswered`), so
 * recovery does not take an all-unspent checkstate for "never processed" for a while.
 */
export const noteUnanswered = (rt: WalletRuntime, operationId: string, error: MintCallError): void => {
  if (error._tag === "MintTimeout") rt.unanswered.set(operationId, rt.services.now())
}

/** The mint's error code of a failed call, when it sent one. */
export const codeOf = (e: MintCallError): number | undefined =>
  e._tag === "MintRejected" || e._tag === "MintAmbiguous" ? e.code : undefined

/** Turns a settled outcome into the API's answer: completed → value; otherwise the typed error. */
export const settledOrFail = (ctx: OpContext, s: Settled) =>
  s._tag === "Completed"
    ? Effect.succeed(s)
    : s._tag === "Compensated"
      ? Effect.fail(
          new OperationFailed({
            operationId: ctx.operationId,
            kind: ctx.started.kind,
            reason: s.reason,
            code: s.code,
            message: `the ${ctx.started.kind} did not happen (${s.reason}); its inputs are spendable again`,
          }),
        )
      : Effect.fail(
          new OperationInDoubt({
            operationId: ctx.operationId,
            kind: ctx.started.kind,
            reason: "ambiguous",
            code: s.code,
            message: `the ${ctx.started.kind}'s outcome is not known yet; recovery will settle it`,
          }),
        )

/**
 * Sends the prepared swap and settles it: finalise on valid signatures, compensate on a definitive refusal,
 * otherwise record it pending and run one recovery pass (`recover`, injected to keep modules acyclic).
 */
export const requestSwap = (
  rt: WalletRuntime,
  ctx: OpContext,
  recover: (rt: WalletRuntime, ctx: OpContext) => Effect.Effect<Settled, EngineInvariant>,
): Effect.Effect<Settled, EngineInvariant> =>
  Effect.gen(function* () {
    const prepared = ctx.prepared!
    const sent = yield* rt.services.mint
      .swap(ctx.started.mintUrl, prepared.request.body, { firstSentAt: ctx.firstSentAt ?? rt.services.now() })
      .pipe(Effect.result)
    if (sent._tag === "Success") {
      const done = yield* finalizeSwap(rt, ctx, prepared.outputs, sent.success.signatures).pipe(Effect.result)
      if (done._tag === "Success") return done.success
      if (done.failure._tag === "EngineInvariant") return yield* done.failure
      // Signatures that do not check out: the mint may still have spent the inputs. Ambiguous.
      const pending = yield* markPending(rt, ctx, "ambiguous", undefined)
      return yield* recover(rt, pending)
    }
    const error = sent.failure
    if (isDefinitive(error)) {
      yield* compensate(rt, ctx, "rejected", codeOf(error))
      return { _tag: "Compensated", reason: "rejected", code: codeOf(error) } as Settled
    }
    noteUnanswered(rt, ctx.operationId, error)
    const pending = yield* markPending(rt, ctx, "ambiguous", codeOf(error))
    return yield* recover(rt, pending)
  }).pipe(Effect.ensuring(Effect.sync(() => rt.live.delete(ctx.operationId))))
