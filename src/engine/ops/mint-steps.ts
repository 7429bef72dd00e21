/**
 * The mint saga's steps (NUT-04 + NUT-23 bolt11, NUT-20 locked quotes), shared by the entry points
 * (`./mint.ts`) and recovery (`./mint-recovery.ts`): record the intent for a paid quote, send it once,
 * finalise from the mint's signatures, and start a new operation for a quote claimed again.
 *
 * @module
 */
import { Effect } from "effect"
import { signMintQuote } from "../../crypto/nut20.js"
import type { OperationStarted } from "../../events/catalogue.js"
import { newOperationId } from "../../events/ids.js"
import { intentOf, type OperationState, startedOfKind } from "../../machines/decider.js"
import { EngineInvariant } from "../../model/index.js"
import { encodeMintRequest } from "../../protocol/decode.js"
import { MintRequestSchema } from "../../protocol/schemas/mint.js"
import { checkedProofs, planOutputs } from "../outputs.js"
import { attempt } from "../pure.js"
import type { Record, StepError, WalletRuntime } from "../runtime.js"
import { ifAny, sumAmounts } from "./lists.js"
import { completedWith, endedOutcome, type Settled } from "./settled.js"
import { activeKeysetOrFail, dleqRequired, type Finalizer, outputKeyset, outputsFor } from "./shared.js"
import { finalCommands, requestSigned } from "./swap.js"

/** What a mint operation was started with. */
export type MintStarted = Extract<OperationStarted, { kind: "mint" }>

/** The started record of a mint operation, or `EngineInvariant` for another kind. */
export const mintStarted = (s: OperationState): Effect.Effect<MintStarted, EngineInvariant> => {
  const started = startedOfKind(s, "mint")
  return started === undefined
    ? Effect.fail(new EngineInvariant({ message: `operation ${s.operationId} is not a mint` }))
    : Effect.succeed(started)
}

/** Records the `POST /v1/mint/{method}` intent for a paid quote and its first attempt. Call inside `rt.write`. */
export const appendMintIntent = (rt: WalletRuntime, record: Record, s: OperationState) =>
  Effect.gen(function* () {
    const started = yield* mintStarted(s)
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
    return yield* record(s.operationId, [
      {
        _tag: "Prepare",
        prepared: {
          _tag: "OperationPrepared",
          operationId: s.operationId,
          kind: "mint",
          inputs: [],
          outputs: plan.intents,
          request: { path: `/v1/mint/${started.method}`, body },
        },
        effects: plan.counters !== undefined ? [plan.counters] : [],
      },
      { _tag: "Request" },
    ])
  })

/** Finalises a mint from signatures for `answered` outputs (all of them, or the restored ones). */
export const finalizeMint: Finalizer = (rt, operationId, answered, signatures, finding) =>
  Effect.gen(function* () {
    const s = yield* rt.existingOperation(operationId)
    const ended = endedOutcome(s)
    if (ended !== undefined) return ended
    const started = yield* mintStarted(s)
    const keyset = yield* outputKeyset(rt, intentOf(s)?.outputs ?? [])
    const requireDleq = yield* dleqRequired(rt, started.mintUrl)
    const proofs = yield* checkedProofs(rt.seed, keyset, answered, signatures, { requireDleq })
    return yield* rt.write((_, record) =>
      Effect.gen(function* () {
        const endedMeanwhile = endedOutcome(yield* rt.existingOperation(operationId))
        if (endedMeanwhile !== undefined) return endedMeanwhile
        const completed = {
          _tag: "OperationCompleted" as const,
          operationId,
          kind: "mint" as const,
          amount: sumAmounts(proofs),
        }
        const effects = ifAny(proofs, (p) => ({
          _tag: "ProofsIssued",
          mintUrl: started.mintUrl,
          unit: started.unit,
          operationId,
          proofs: p,
        }))
        yield* record(operationId, finalCommands(finding, signatures, completed, effects))
        return completedWith(completed, proofs)
      }),
    )
  })

/**
 * Sends the prepared mint request once and settles it ({@link requestSigned}); an unknown outcome goes to
 * `recover` (injected: recovery lives in `./mint-recovery.ts`). The caller holds the operation's claim.
 */
export const requestMint = (
  rt: WalletRuntime,
  s: OperationState,
  recover: (rt: WalletRuntime, s: OperationState) => Effect.Effect<Settled, StepError>,
): Effect.Effect<Settled, StepError> =>
  Effect.flatMap(mintStarted(s), (started) =>
    requestSigned(
      rt,
      s,
      (body) => rt.services.mint.mint(started.mintUrl, started.method, body),
      finalizeMint,
      recover,
    ),
  )

/**
 * A new mint operation for the same quote, started in the log (an ended operation takes no new steps): how a
 * quote is claimed again after its first operation ended without issuing it.
 */
export const restartedClaim = (rt: WalletRuntime, started: MintStarted) => {
  const operationId = newOperationId(rt.services.now())
  return rt.record(operationId, [{ _tag: "Start", started: { ...started, operationId } }])
}
