/**
 * Recovery of a wallet's in-flight operations (on open, and on demand: `wallet.recover()`, `checkPending`).
 *
 * Every operation not yet ended is replayed from its events (`replayOperation`) and dispatched on its saga's
 * phase (`sagaPhase`) and kind:
 *
 * | phase | what recovery does |
 * | --- | --- |
 * | `NotSent` | nothing left the process: compensate `cancelled` (a mint is left alone: its quote may be paid) |
 * | `InFlight` | the kind's recovery: swap/send/receive `recoverSwapLike`, mint `recoverMint`, melt `recoverMelt`; restore/checkstate (read-only) are compensated `cancelled` |
 * | `PaymentPending` | `recoverMelt` (only the quote state decides a melt) |
 * | `Signed` | finish from the stored signatures (swap-like: all outputs answered → finalise; else restore the outputs by `B_`); mint: `recoverMint`; melt: `recoverMelt`; restore: complete with nothing (a new restore finds it all) |
 * | `AwaitingPayment` | a mint quote: left alone until its expiry passed; then the mint's answer decides (`settleQuote`: PAID → claimed, UNPAID and expired → compensated `quote-expired`, no answer → pending) |
 *
 * Operations this process is driving right now (`rt.live`: a live request, or another recovery pass) are
 * skipped and counted pending: recovering an operation whose request may still reach the mint could release
 * inputs the mint is about to consume. A swap-like operation compensated after the mint answered 11003
 * (outputs already signed: our counters were used before) is followed by a restore of its keyset from its
 * first counter, so the counter moves past the used range (RELIABILITY T9).
 *
 * @module
 */
import { Effect } from "effect"
import type { OperationRecovering, WalletEvent } from "../events/catalogue.js"
import { IllegalOperationStep, replayOperation, type SagaPhase, sagaPhase } from "../machines/operation.js"
import { isOperationEvent } from "../machines/saga.js"
import { operationsOf, operationsProjection } from "../projections/operations.js"
import type { EngineInvariant } from "./errors.js"
import { stepEvents } from "./ops/batch.js"
import { type OpContext, opContextOf } from "./ops/context.js"
import { recoverMelt } from "./ops/melt.js"
import { recoverMint, settleQuote } from "./ops/mint.js"
import { recoverSwapLike, restoreOutputs } from "./ops/recover-swap.js"
import { advancePastSignedOutputs, sawOutputsSigned } from "./ops/restore.js"
import { recovering } from "./ops/steps.js"
import { compensate, finalizeSwap, type Settled } from "./ops/swap.js"
import type { WalletRuntime } from "./runtime.js"

/** Outcomes of one recovery pass, counted like CDK's. */
export interface RecoveryReport {
  readonly recovered: number
  readonly compensated: number
  /** Still in doubt or pending (mint unreachable, payment in flight): tried again next pass. */
  readonly pending: number
}

const compensated = (reason: "cancelled"): Settled => ({
  _tag: "Compensated",
  reason,
  code: undefined,
})
const inDoubt: Settled = { _tag: "InDoubt", code: undefined }

/** Ends a read-only operation (restore, checkstate) left in flight: nothing to undo, nothing to keep. */
const cancelReadOnly = (rt: WalletRuntime, ctx: OpContext, phase: SagaPhase) =>
  Effect.gen(function* () {
    if (phase._tag === "Signed") {
      // Signatures are stored but the saga may only complete now. Nothing was issued by this run; a new
      // restore finds the same proofs (restore records everything in one append, so this needs a foreign log).
      const op = ctx.operationId
      const done: WalletEvent =
        ctx.started.kind === "restore"
          ? {
              _tag: "OperationCompleted",
              operationId: op,
              kind: "restore",
              found: 0,
              amount: 0n,
              counters: [],
            }
          : {
              _tag: "OperationCompleted",
              operationId: op,
              kind: "checkstate",
              unspent: 0,
              pending: 0,
              spent: 0,
            }
      yield* rt.write((append) => append(stepEvents(op, "completed", [done])))
      return { _tag: "Completed", completed: undefined, proofs: [] } as Settled
    }
    // From requested/ambiguous/recovered the saga wants a recovery finding before the compensation.
    yield* compensate(rt, ctx, "cancelled", undefined, { recovery: recovering(ctx, "local", "compensated") })
    return compensated("cancelled")
  })

/** Finishes a swap-like operation whose signatures are stored (finalisation missing). */
const finishSigned = (rt: WalletRuntime, ctx: OpContext, events: ReadonlyArray<WalletEvent>) =>
  Effect.gen(function* () {
    const prepared = ctx.prepared
    if (prepared === undefined) return inDoubt
    const signed = events.findLast((e) => e._tag === "OperationSigned")
    const stored = signed?._tag === "OperationSigned" ? signed.signatures : []
    let answered = prepared.outputs
    let signatures = stored
    let step: OperationRecovering["step"] = "local"
    if (stored.length !== prepared.outputs.length) {
      // A subset was signed (a restore finding): only B_ says which outputs they answer — ask the mint.
      const restored = yield* restoreOutputs(rt, ctx.started.mintUrl, prepared.outputs).pipe(Effect.option)
      if (restored._tag === "None" || restored.value.answered.length === 0) return inDoubt
      answered = restored.value.answered
      signatures = restored.value.signatures
      step = "restore"
    }
    const done = yield* finalizeSwap(rt, ctx, answered, signatures, recovering(ctx, step, "recovered")).pipe(
      Effect.result,
    )
    if (done._tag === "Success") return done.success
    if (done.failure._tag === "EngineInvariant") return yield* done.failure
    return inDoubt
  })

/** One operation's recovery step, by kind and phase. */
const recoverOne = (
  rt: WalletRuntime,
  ctx: OpContext,
  phase: SagaPhase,
  events: ReadonlyArray<WalletEvent>,
): Effect.Effect<Settled | undefined, EngineInvariant> =>
  Effect.gen(function* () {
    const kind = ctx.started.kind
    switch (phase._tag) {
      case "Done":
        return undefined
      case "AwaitingPayment":
        // Never written off on our clock: only the mint's answer decides a quote's fate.
        return kind === "mint" ? yield* settleQuote(rt, ctx) : undefined
      case "NotSent":
        // A prepared mint would only be lost by a compensation (its quote may be paid): leave it pending.
        if (kind === "mint") return inDoubt
        // A recorded melt quote not paid yet: the caller's to pay with `melt` (which checks its expiry).
        if (kind === "melt" && ctx.prepared === undefined) return undefined
        if (kind === "restore" || kind === "checkstate") return yield* cancelReadOnly(rt, ctx, phase)
        yield* compensate(rt, ctx, "cancelled", undefined, {
          recovery: recovering(ctx, "local", "compensated"),
        })
        return compensated("cancelled")
      case "PaymentPending":
        return yield* recoverMelt(rt, ctx)
      case "InFlight":
      case "Signed":
        switch (kind) {
          case "swap":
          case "send":
          case "receive":
            return phase._tag === "Signed"
              ? yield* finishSigned(rt, ctx, events)
              : yield* recoverSwapLike(rt, ctx)
          case "mint":
            return yield* recoverMint(rt, ctx)
          case "melt":
            return yield* recoverMelt(rt, ctx)
          case "restore":
          case "checkstate":
            return yield* cancelReadOnly(rt, ctx, phase)
        }
    }
  })

/**
 * One recovery pass over every in-flight operation of the wallet (of one mint, with `filter.mintUrl`). An operation whose events form an illegal
 * history, or whose recovery step fails, is counted pending and left for the next pass (one bad operation
 * must not block the recovery of the others, nor the opening of the engine).
 */
export const recoverWallet = (
  rt: WalletRuntime,
  filter: { readonly mintUrl?: string } = {},
): Effect.Effect<RecoveryReport, EngineInvariant> =>
  Effect.gen(function* () {
    const ops = operationsOf(rt.services.runner.state(operationsProjection), rt.stream, {
      inFlight: true,
    }).filter((op) => filter.mintUrl === undefined || op.mintUrl === filter.mintUrl)
    let recovered = 0
    let compensatedN = 0
    let pending = 0
    for (const op of ops) {
      const id = op.operationId
      if (rt.live.has(id)) {
        pending++
        continue
      }
      rt.live.add(id)
      const outcome = yield* Effect.gen(function* () {
        const records = yield* rt.operationEvents(id)
        const ctx = opContextOf(id, records)
        if (ctx === undefined || ctx.ended !== undefined) return undefined
        const events = records.map((r) => r.event)
        const snapshot = replayOperation(events.filter(isOperationEvent))
        if (snapshot instanceof IllegalOperationStep) return inDoubt
        const settled = yield* recoverOne(rt, ctx, sagaPhase(snapshot), events)
        if (
          settled?._tag === "Compensated" &&
          (ctx.started.kind === "swap" || ctx.started.kind === "send" || ctx.started.kind === "receive")
        ) {
          const after = yield* rt.operationEvents(id)
          if (
            sawOutputsSigned(
              after.map((r) => r.event),
              id,
            )
          )
            yield* advancePastSignedOutputs(rt, ctx)
        }
        return settled
      }).pipe(
        Effect.catchTag("EngineInvariant", () => Effect.succeed(inDoubt)),
        Effect.ensuring(Effect.sync(() => rt.live.delete(id))),
      )
      if (outcome === undefined) continue
      if (outcome._tag === "Completed") recovered++
      else if (outcome._tag === "Compensated") compensatedN++
      else pending++
    }
    return { recovered, compensated: compensatedN, pending }
  })
