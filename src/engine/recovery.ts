/**
 * Recovery of a wallet's in-flight operations (on open, and on demand: `wallet.recover()`, `checkPending`).
 *
 * Every operation not yet ended is read as its decider state (`WalletRuntime.operation`: cached, or replayed
 * from its events) and dispatched on its saga's phase (`sagaPhase` of that state) and kind:
 *
 * | phase | what recovery does |
 * | --- | --- |
 * | `NotSent` | nothing left the process: compensate `cancelled` (a mint is left alone: its quote may be paid) |
 * | `InFlight` | the kind's recovery: swap/send/receive `recoverSwapLike`, mint `recoverMint`, melt `recoverMelt`; restore/checkstate (read-only) are compensated `cancelled` |
 * | `PaymentPending` | `recoverMelt` (only the quote state decides a melt) |
 * | `Signed` | finish from the stored signatures (swap-like: all outputs answered → finalise; else restore the outputs by `B_`); mint: `recoverMint`; melt: `recoverMelt`; restore: complete with nothing (a new restore finds it all) |
 * | `AwaitingPayment` | a mint quote: left alone until its expiry passed; then the mint's answer decides (`settleQuote`: PAID → claimed, UNPAID and expired → compensated `quote-expired`, no answer → pending) |
 *
 * Operations another driver of this process holds (`rt.claimOperation`: a live request, a melt waiting for
 * its payment, another recovery pass) are skipped and counted pending: recovering an operation whose request may still reach the mint could release
 * inputs the mint is about to consume. A swap-like operation compensated after the mint answered 11003
 * (outputs already signed: our counters were used before) is followed by a restore of its keyset from its
 * first counter, so the counter moves past the used range (`ops/restore.ts`).
 *
 * @module
 */
import { Effect } from "effect"
import { intentOf, type OperationState } from "../machines/decider.js"
import { type SagaPhase, sagaPhase } from "../machines/operation.js"
import { operationsOf, operationsProjection } from "../projections/operations.js"
import { recoverClaimedMelt } from "./ops/melt-recovery.js"
import { recoverMint, settleQuote } from "./ops/mint-recovery.js"
import { advancePastSignedOutputs, sawOutputsSigned } from "./ops/restore.js"
import { compensatedWith, completedWith, inDoubt, type Settled } from "./ops/settled.js"
import { restoreOutputs } from "./ops/shared.js"
import { compensate, finalizeSwap } from "./ops/swap.js"
import { recoverSwapLike } from "./ops/swap-recovery.js"
import { isStepError, type StepError, type WalletRuntime } from "./runtime.js"

/** Outcomes of one recovery pass, counted like CDK's. */
export interface RecoveryReport {
  readonly recovered: number
  readonly compensated: number
  /** Still in doubt or pending (mint unreachable, payment in flight): tried again next pass. */
  readonly pending: number
}

/** Ends a read-only operation (restore, checkstate) left in flight: nothing to undo, nothing to keep. */
const cancelReadOnly = (
  rt: WalletRuntime,
  s: OperationState,
  phase: SagaPhase,
): Effect.Effect<Settled, StepError> =>
  Effect.gen(function* () {
    const operationId = s.operationId
    if (phase._tag === "Signed") {
      // Signatures are stored but the saga may only complete now. Nothing was issued by this run; a new
      // restore finds the same proofs (restore records everything in one append, so this needs a foreign log).
      const completed =
        s.kind === "restore"
          ? {
              _tag: "OperationCompleted" as const,
              operationId,
              kind: "restore" as const,
              found: 0,
              amount: 0n,
              counters: [],
            }
          : {
              _tag: "OperationCompleted" as const,
              operationId,
              kind: "checkstate" as const,
              unspent: 0,
              pending: 0,
              spent: 0,
            }
      yield* rt.record(operationId, [{ _tag: "Complete", completed }])
      return completedWith(completed)
    }
    // From requested/ambiguous/recovered the saga wants a recovery finding before the compensation.
    yield* compensate(rt, operationId, "cancelled", undefined, {
      finding: { step: "local", outcome: "compensated" },
    })
    return compensatedWith("cancelled")
  })

/** Finishes a swap-like operation whose signatures are stored (finalisation missing). */
const finishSigned = (rt: WalletRuntime, s: OperationState): Effect.Effect<Settled, StepError> =>
  Effect.gen(function* () {
    const prepared = intentOf(s)
    if (prepared === undefined || s.state !== "signed") return inDoubt()
    const stored = s.signatures
    let answered = prepared.outputs
    let signatures = stored
    let step: "local" | "restore" = "local"
    if (stored.length !== prepared.outputs.length) {
      // A subset was signed (a restore finding): only B_ says which outputs they answer — ask the mint.
      const restored = yield* restoreOutputs(rt, s.started.mintUrl, prepared.outputs).pipe(Effect.option)
      if (restored._tag === "None" || restored.value.answered.length === 0) return inDoubt()
      answered = restored.value.answered
      signatures = restored.value.signatures
      step = "restore"
    }
    const done = yield* finalizeSwap(rt, s.operationId, answered, signatures, {
      step,
      outcome: "recovered",
    }).pipe(Effect.result)
    if (done._tag === "Success") return done.success
    if (isStepError(done.failure)) return yield* done.failure
    return inDoubt()
  })

/** One operation's recovery step, by kind and phase. */
const recoverOne = (rt: WalletRuntime, s: OperationState): Effect.Effect<Settled | undefined, StepError> =>
  Effect.gen(function* () {
    const phase = sagaPhase(s)
    const kind = s.kind
    switch (phase._tag) {
      case "Done":
        return undefined
      case "AwaitingPayment":
        // Never written off on our clock: only the mint's answer decides a quote's fate.
        return kind === "mint" ? yield* settleQuote(rt, s) : undefined
      case "NotSent":
        // A prepared mint would only be lost by a compensation (its quote may be paid): leave it pending.
        if (kind === "mint") return inDoubt()
        // A recorded melt quote not paid yet: the caller's to pay with `melt` (which checks its expiry).
        if (kind === "melt" && intentOf(s) === undefined) return undefined
        if (kind === "restore" || kind === "checkstate") return yield* cancelReadOnly(rt, s, phase)
        return yield* compensate(rt, s.operationId, "cancelled", undefined, {
          finding: { step: "local", outcome: "compensated" },
        })
      case "PaymentPending":
        return yield* recoverClaimedMelt(rt, s)
      case "InFlight":
      case "Signed":
        switch (kind) {
          case "swap":
          case "send":
          case "receive":
            return phase._tag === "Signed" ? yield* finishSigned(rt, s) : yield* recoverSwapLike(rt, s)
          case "mint":
            return yield* recoverMint(rt, s)
          case "melt":
            return yield* recoverClaimedMelt(rt, s)
          case "restore":
          case "checkstate":
            return yield* cancelReadOnly(rt, s, phase)
        }
    }
  })

/** Marks an operation another driver of this process holds: counted pending, left alone. */
const HELD = Symbol("held")

/**
 * One recovery pass over every in-flight operation of the wallet (of one mint, with `filter.mintUrl`). An
 * operation whose events form an illegal history, or whose recovery step fails, is counted pending and left
 * for the next pass (one bad operation must not block the recovery of the others, nor the opening of the
 * engine).
 */
export const recoverWallet = (
  rt: WalletRuntime,
  filter: { readonly mintUrl?: string } = {},
): Effect.Effect<RecoveryReport> =>
  Effect.gen(function* () {
    const ops = operationsOf(rt.services.runner.state(operationsProjection), rt.stream, {
      inFlight: true,
    }).filter((op) => filter.mintUrl === undefined || op.mintUrl === filter.mintUrl)
    let recovered = 0
    let compensatedN = 0
    let pending = 0
    for (const op of ops) {
      const id = op.operationId
      const outcome = yield* rt
        .claimOperation(
          id,
          Effect.gen(function* () {
            const s = yield* rt.operation(id)
            if (s === undefined || s.state === "completed" || s.state === "compensated") return undefined
            const settled = yield* recoverOne(rt, s)
            if (
              settled?._tag === "Compensated" &&
              (s.kind === "swap" || s.kind === "send" || s.kind === "receive")
            ) {
              const after = yield* rt.operationEvents(id)
              if (
                sawOutputsSigned(
                  after.map((r) => r.event),
                  id,
                )
              )
                yield* advancePastSignedOutputs(rt, s)
            }
            return settled
          }),
          Effect.succeed(HELD),
        )
        // A step refused, or one the log did not confirm (the stream is re-read before the next append).
        .pipe(
          Effect.catchTag(["EngineInvariant", "OperationInDoubt"], () => Effect.succeed(inDoubt())),
          Effect.withSpan("recovery.operation", { attributes: { operationId: id, kind: op.kind } }),
        )
      if (outcome === undefined) continue
      if (outcome === HELD || outcome._tag === "InDoubt") pending++
      else if (outcome._tag === "Completed") recovered++
      else compensatedN++
    }
    return { recovered, compensated: compensatedN, pending }
  })
