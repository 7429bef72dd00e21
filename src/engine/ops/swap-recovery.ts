/**
 * Recovery of a swap-like operation (swap, send with change, receive) whose outcome is not known
 * (a lost answer, a timeout, an ambiguous error code), in this order:
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
import { intentOf, type OperationState } from "../../machines/decider.js"
import { matchProofStates } from "../../protocol/schemas/checkstate.js"
import { isStepError, type StepError, type WalletRuntime } from "../runtime.js"
import { advancePastSignedOutputs, sawOutputsSigned } from "./restore.js"
import type { Settled } from "./settled.js"
import { codeOf, replayStep, restoreOutputs, stayInDoubt } from "./shared.js"
import { compensate, finalizeSwap } from "./swap.js"

/** One recovery pass over a swap-like operation. Never releases inputs the mint may have consumed. */
export const recoverSwapLike = (rt: WalletRuntime, s: OperationState): Effect.Effect<Settled, StepError> =>
  Effect.gen(function* () {
    const id = s.operationId
    const prepared = intentOf(s)
    const { mintUrl } = s.started
    if (prepared === undefined || s.attempts === 0)
      // Nothing left the process: the intent was never sent.
      return yield* compensate(rt, id, "not-processed", undefined, {
        finding: { step: "local", outcome: "compensated" },
      })

    // 1. Replay under NUT-19.
    const replayed = yield* replayStep(
      rt,
      s,
      "/v1/swap",
      (body) => rt.services.mint.swap(mintUrl, body),
      finalizeSwap,
    )
    if (replayed !== undefined) return replayed

    // 2. Checkstate the inputs.
    const ys = prepared.inputs
    if (ys.length === 0) return yield* stayInDoubt(rt, id, "checkstate", "skipped")
    const checked = yield* rt.services.mint.checkState(mintUrl, ys).pipe(Effect.result)
    if (checked._tag === "Failure")
      return yield* stayInDoubt(rt, id, "checkstate", "skipped", codeOf(checked.failure))
    let states: ReadonlyMap<string, { readonly state: string }>
    try {
      states = matchProofStates(ys, checked.success)
    } catch {
      // A lying or garbled answer (missing, extra or repeated Ys): decide nothing on it.
      return yield* stayInDoubt(rt, id, "checkstate", "failed")
    }
    const all = (state: string) => ys.every((y) => states.get(y)?.state === state)
    if (all("UNSPENT") && rt.mayStillApply(id))
      // Our request timed out a moment ago: it may be queued at the mint still, and spend these inputs later.
      return yield* stayInDoubt(rt, id, "checkstate", "pending")
    if (all("UNSPENT"))
      return yield* compensate(rt, id, "not-processed", undefined, {
        finding: { step: "checkstate", outcome: "compensated" },
      })
    if (!all("SPENT")) return yield* stayInDoubt(rt, id, "checkstate", "pending")

    // 3. All spent: restore what the mint signed for our outputs.
    const restored = yield* restoreOutputs(rt, mintUrl, prepared.outputs).pipe(Effect.result)
    if (restored._tag === "Failure")
      return yield* stayInDoubt(rt, id, "restore", "skipped", codeOf(restored.failure))
    const { answered, signatures } = restored.success
    if (answered.length === 0)
      return yield* compensate(rt, id, "token-spent", undefined, {
        spent: true,
        finding: { step: "restore", outcome: "compensated" },
      })
    const done = yield* finalizeSwap(rt, id, answered, signatures, {
      step: "restore",
      outcome: "recovered",
    }).pipe(Effect.result)
    if (done._tag === "Success") return done.success
    if (isStepError(done.failure)) return yield* done.failure
    return yield* stayInDoubt(rt, id, "restore", "failed")
  })

/**
 * {@link recoverSwapLike}, then, when the operation was compensated after the mint answered 11003, the
 * counter-advancing restore (`./restore.ts`), so that retrying the operation does not hit 11003 again.
 * Pass it to `requestSwap` in place of `recoverSwapLike`.
 */
export const recoverSwapAdvancing = (
  rt: WalletRuntime,
  s: OperationState,
): Effect.Effect<Settled, StepError> =>
  Effect.gen(function* () {
    const settled = yield* recoverSwapLike(rt, s)
    if (settled._tag !== "Compensated") return settled
    const events = yield* rt.operationEvents(s.operationId)
    if (
      sawOutputsSigned(
        events.map((r) => r.event),
        s.operationId,
      )
    )
      yield* advancePastSignedOutputs(rt, s)
    return settled
  })
