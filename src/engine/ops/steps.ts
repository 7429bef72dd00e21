/**
 * Small event builders every saga shares: a recovery pass's record, a lone recovery note, the next request
 * attempt, and a proof as a mint input. One place, so that every operation numbers attempts and recovery
 * passes the same way (the saga machines refuse gaps).
 *
 * @module
 */
import { Effect } from "effect"
import type {
  OperationRecovering,
  OutputIntent,
  Signature,
  StoredProof,
  WalletEvent,
} from "../../events/catalogue.js"
import type { MintCallError, SignaturesResponse } from "../../infra/mint-client/service.js"
import { cachedEndpoint } from "../../protocol/schemas/info.js"
import { encodeToken } from "../../protocol/token.js"
import type { EngineInvariant } from "../errors.js"
import type { SignatureCheckError } from "../outputs.js"
import type { WalletRuntime } from "../runtime.js"
import { stepEvents } from "./batch.js"
import type { OpContext } from "./context.js"
import type { Settled } from "./swap.js"

/** The `OperationRecovering` of the context's next recovery pass. */
export const recovering = (
  ctx: OpContext,
  step: OperationRecovering["step"],
  outcome: OperationRecovering["outcome"],
  code?: number,
): OperationRecovering => ({
  _tag: "OperationRecovering",
  operationId: ctx.operationId,
  kind: ctx.started.kind,
  attempt: ctx.recoveries + 1,
  step,
  outcome,
  ...(code !== undefined ? { code } : {}),
})

/** Appends a lone `OperationRecovering` (the pass decided nothing; the operation stays where it is). */
export const noteRecovery = (
  rt: WalletRuntime,
  event: OperationRecovering,
): Effect.Effect<void, EngineInvariant> =>
  rt.write((append) => append(stepEvents(event.operationId, "recovering", [event], event.attempt)))

/** Records the next request attempt (`attempts + 1`) of the operation; returns the new context. */
export const recordAttempt = (
  rt: WalletRuntime,
  ctx: OpContext,
): Effect.Effect<OpContext, EngineInvariant> => {
  const attempt = ctx.attempts + 1
  return rt
    .write((append) =>
      append(
        stepEvents(
          ctx.operationId,
          "requested",
          [{ _tag: "OperationRequested", operationId: ctx.operationId, kind: ctx.started.kind, attempt }],
          attempt,
        ),
      ),
    )
    .pipe(Effect.as({ ...ctx, attempts: attempt }))
}

/** A proof as a request input: only what the mint needs (never the DLEQ's `r`, NUT-12; never `Y`). */
export const asInput = (p: StoredProof) =>
  p.witness === undefined
    ? { amount: p.amount, id: p.id, secret: p.secret, C: p.C }
    : { amount: p.amount, id: p.id, secret: p.secret, C: p.C, witness: p.witness }

/** The token for `proofs` (DLEQs included so the receiver can verify offline, NUT-12). */
export const tokenOf = (
  mintUrl: string,
  unit: string,
  proofs: ReadonlyArray<StoredProof>,
  memo?: string,
): string =>
  encodeToken({
    version: 4,
    unit,
    ...(memo !== undefined ? { memo } : {}),
    entries: [
      {
        mint: mintUrl,
        proofs: proofs.map((p) => ({
          amount: p.amount,
          id: p.id,
          secret: p.secret,
          C: p.C,
          ...(p.dleq !== undefined ? { dleq: p.dleq } : {}),
        })),
      },
    ],
  })

/** CDK's replay window when a mint's NUT-19 ttl is null. */
const NULL_TTL_SECONDS = 300

/**
 * Whether the operation's request may be replayed now (NUT-19): the mint lists `POST path` as cached and the
 * ttl, counted from the first attempt, has not run out. Unknown mint info means no.
 */
export const replayAllowed = (rt: WalletRuntime, ctx: OpContext, path: string): Effect.Effect<boolean> =>
  rt.info(ctx.started.mintUrl).pipe(
    Effect.option,
    Effect.map((info) => {
      const cached = info._tag === "Some" ? cachedEndpoint(info.value, "POST", path) : undefined
      if (cached === undefined || ctx.firstSentAt === undefined) return false
      return rt.services.now() < ctx.firstSentAt + (cached.ttlSeconds ?? NULL_TTL_SECONDS) * 1000
    }),
  )

/** Finishes an operation from the mint's signatures for `answered` outputs (a swap-like one, or a mint). */
export type Finalizer = (
  rt: WalletRuntime,
  ctx: OpContext,
  answered: ReadonlyArray<OutputIntent>,
  signatures: ReadonlyArray<Signature>,
  recovery?: WalletEvent,
) => Effect.Effect<Settled, EngineInvariant | SignatureCheckError>

/**
 * Recovery's first step (NUT-19): when a replay is allowed, record the next attempt, resend the stored bytes
 * with `send`, and finish the operation on signatures that check out. Returns the outcome (undefined: go on
 * with the next step) and the context with the attempt counted.
 */
export const replayStep = (
  rt: WalletRuntime,
  ctx: OpContext,
  path: string,
  send: (body: string, firstSentAt: number) => Effect.Effect<SignaturesResponse, MintCallError>,
  finalize: Finalizer,
): Effect.Effect<{ readonly ctx: OpContext; readonly settled: Settled | undefined }, EngineInvariant> =>
  Effect.gen(function* () {
    const prepared = ctx.prepared
    if (prepared === undefined || !(yield* replayAllowed(rt, ctx, path))) return { ctx, settled: undefined }
    const next = yield* recordAttempt(rt, ctx)
    const replay = yield* send(prepared.request.body, ctx.firstSentAt ?? 0).pipe(Effect.result)
    if (replay._tag === "Failure") {
      if (replay.failure._tag === "MintTimeout") rt.unanswered.set(ctx.operationId, rt.services.now())
      return { ctx: next, settled: undefined }
    }
    const done = yield* finalize(
      rt,
      next,
      prepared.outputs,
      replay.success.signatures,
      recovering(next, "replay", "recovered"),
    ).pipe(Effect.result)
    if (done._tag === "Success") return { ctx: next, settled: done.success }
    if (done.failure._tag === "EngineInvariant") return yield* done.failure
    return { ctx: next, settled: undefined }
  })
