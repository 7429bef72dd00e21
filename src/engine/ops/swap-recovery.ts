/**
 * Recovery of a swap-like operation (swap, send with change, receive) whose outcome is not known
 * (RELIABILITY §0.3, §1.2), in this order:
 *
 * 1. **Replay** the byte-identical request when the mint lists `POST /v1/swap` in NUT-19 and the ttl since
 *    the first attempt holds (the mint answers from its cache if it had processed it).
 * 2. **Checkstate** the inputs (NUT-07): all unspent → the request was never processed → compensate
 *    (`not-processed`) — unless this process's request timed out less than `unansweredGraceMs` ago: the mint
 *    may still apply it, so it stays in doubt; any pending → leave it; mint unreachable → leave it for the
 *    next pass.
 * 3. All **spent** → **restore** the stored outputs (NUT-09, matched by `B_`; signatures for outputs we did not
 *    ask for are ignored) and finalise with what the mint signed. None signed: someone else spent the inputs
 *    (the recipient of a reclaimed token, the sender of a received one) → the inputs are recorded spent and
 *    the operation compensated (`token-spent`).
 *
 * Every pass ends with one `OperationRecovering` event (step and outcome), appended together with the
 * finalisation or compensation it led to, or alone when the operation stays pending.
 *
 * @module
 */
import { Effect } from "effect"
import type { OutputIntent, Signature } from "../../events/catalogue.js"
import { matchProofStates } from "../../protocol/schemas/checkstate.js"
import type { EngineInvariant } from "../errors.js"
import type { WalletRuntime } from "../runtime.js"
import type { OpContext } from "./context.js"
import { noteRecovery, recovering, replayStep } from "./steps.js"
import { codeOf, compensate, finalizeSwap, type Settled } from "./swap.js"

/** Restores the operation's outputs (NUT-09): the intents the mint has signed, with their signatures. */
export const restoreOutputs = (rt: WalletRuntime, mintUrl: string, intents: ReadonlyArray<OutputIntent>) =>
  rt.services.mint
    .restore(mintUrl, { outputs: intents.map((o) => ({ amount: o.amount, id: o.id, B_: o.B_ })) })
    .pipe(
      Effect.map((res) => {
        const byB = new Map<string, Signature>()
        res.outputs.forEach((o, i) => {
          const sig = res.signatures[i]
          if (sig !== undefined) byB.set(o.B_.toLowerCase(), sig)
        })
        const answered: OutputIntent[] = []
        const signatures: Signature[] = []
        for (const o of intents) {
          const sig = byB.get(o.B_)
          if (sig === undefined) continue
          answered.push(o)
          signatures.push(sig)
        }
        return { answered, signatures }
      }),
    )

/** One recovery pass over a swap-like operation. Never releases inputs the mint may have consumed. */
export const recoverSwapLike = (rt: WalletRuntime, ctx: OpContext): Effect.Effect<Settled, EngineInvariant> =>
  Effect.gen(function* () {
    const prepared = ctx.prepared
    const { mintUrl } = ctx.started
    if (prepared === undefined || ctx.attempts === 0) {
      // Nothing left the process: the intent was never sent.
      yield* compensate(rt, ctx, "not-processed", undefined, {
        recovery: recovering(ctx, "local", "compensated"),
      })
      return { _tag: "Compensated", reason: "not-processed", code: undefined } as Settled
    }

    // 1. Replay under NUT-19.
    const replayed = yield* replayStep(
      rt,
      ctx,
      "/v1/swap",
      (body, firstSentAt) => rt.services.mint.swap(mintUrl, body, { firstSentAt }),
      finalizeSwap,
    )
    if (replayed.settled !== undefined) return replayed.settled
    ctx = replayed.ctx

    // 2. Checkstate the inputs.
    const ys = prepared.inputs
    if (ys.length === 0) {
      yield* noteRecovery(rt, recovering(ctx, "checkstate", "skipped"))
      return { _tag: "InDoubt", code: undefined } as Settled
    }
    const checked = yield* rt.services.mint.checkState(mintUrl, ys).pipe(Effect.result)
    if (checked._tag === "Failure") {
      yield* noteRecovery(rt, recovering(ctx, "checkstate", "skipped", codeOf(checked.failure)))
      return { _tag: "InDoubt", code: codeOf(checked.failure) } as Settled
    }
    let states: ReadonlyMap<string, { readonly state: string }>
    try {
      states = matchProofStates(ys, checked.success)
    } catch {
      // A lying or garbled answer (missing, extra or repeated Ys): decide nothing on it.
      yield* noteRecovery(rt, recovering(ctx, "checkstate", "failed"))
      return { _tag: "InDoubt", code: undefined } as Settled
    }
    const all = (s: string) => ys.every((y) => states.get(y)?.state === s)
    if (all("UNSPENT") && rt.mayStillApply(ctx.operationId)) {
      // Our request timed out a moment ago: it may be queued at the mint still, and spend these inputs later.
      yield* noteRecovery(rt, recovering(ctx, "checkstate", "pending"))
      return { _tag: "InDoubt", code: undefined } as Settled
    }
    if (all("UNSPENT")) {
      yield* compensate(rt, ctx, "not-processed", undefined, {
        recovery: recovering(ctx, "checkstate", "compensated"),
      })
      return { _tag: "Compensated", reason: "not-processed", code: undefined } as Settled
    }
    if (!all("SPENT")) {
      yield* noteRecovery(rt, recovering(ctx, "checkstate", "pending"))
      return { _tag: "InDoubt", code: undefined } as Settled
    }

    // 3. All spent: restore what the mint signed for our outputs.
    const restored = yield* restoreOutputs(rt, mintUrl, prepared.outputs).pipe(Effect.result)
    if (restored._tag === "Failure") {
      yield* noteRecovery(rt, recovering(ctx, "restore", "skipped", codeOf(restored.failure)))
      return { _tag: "InDoubt", code: codeOf(restored.failure) } as Settled
    }
    const { answered, signatures } = restored.success
    if (answered.length === 0) {
      yield* compensate(rt, ctx, "token-spent", undefined, {
        spent: true,
        recovery: recovering(ctx, "restore", "compensated"),
      })
      return { _tag: "Compensated", reason: "token-spent", code: undefined } as Settled
    }
    const done = yield* finalizeSwap(
      rt,
      ctx,
      answered,
      signatures,
      recovering(ctx, "restore", "recovered"),
    ).pipe(Effect.result)
    if (done._tag === "Success") return done.success
    if (done.failure._tag === "EngineInvariant") return yield* done.failure
    yield* noteRecovery(rt, recovering(ctx, "restore", "failed"))
    return { _tag: "InDoubt", code: undefined } as Settled
  })
