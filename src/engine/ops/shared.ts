/**
 * The steps every operation kind shares: how a proof goes into a request, how a token is built, which keyset
 * outputs go to, how a recovery pass or an unknown outcome is recorded, how an ended operation answers the
 * caller, and the NUT-19 replay — decided here, by the engine, which records every attempt before it leaves
 * (the mint client sends a money POST once and never replays it on its own).
 *
 * Operation kinds import this module; it imports none of them (no cycles between the ops).
 *
 * @module
 */
import { Effect } from "effect"
import type { OperationRecovering, OutputIntent, Signature, StoredProof } from "../../events/catalogue.js"
import { countRetry } from "../../infra/mint-client/telemetry.js"
import { firstSentAtOf, intentOf, type OperationState } from "../../machines/decider.js"
import {
  AmountError,
  EngineInvariant,
  InsufficientFunds,
  type MintCallError,
  OperationFailed,
  OperationInDoubt,
  UnknownMint,
} from "../../model/index.js"
import type { SignaturesResponse } from "../../ports/mint-client.js"
import type { KeysetView } from "../../projections/mints.js"
import type { LiveProof } from "../../projections/proofs.js"
import { selectProofs } from "../../protocol/coin-selection.js"
import { cachedEndpoint, supportsNut } from "../../protocol/schemas/info.js"
import { splitAmount } from "../../protocol/split.js"
import { encodeToken } from "../../protocol/token.js"
import { keysOf, type OutputRequest, type SignatureCheckError } from "../outputs.js"
import { isStepError, type StepError, type WalletRuntime, type WalletView } from "../runtime.js"
import { sumAmounts } from "./lists.js"
import { inDoubt, type Settled, type SettledCompleted } from "./settled.js"

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

/** Fee rates and activity of the wallet's keysets, for coin selection. */
export const selectionKeysets = (view: WalletView) => (id: string) => {
  const k = view.keyset(id)
  return k === undefined ? undefined : { inputFeePpk: k.inputFeePpk, active: k.active }
}

/** Picks inputs for `amount` (+ fees when `includeFees`), or fails with {@link InsufficientFunds}. */
export const pickInputs = (
  view: WalletView,
  mintUrl: string,
  unit: string,
  amount: bigint,
  includeFees: boolean,
) => {
  const spendable: LiveProof[] = view.proofs({ state: "unspent", mintUrl, unit })
  try {
    return selectProofs(
      spendable.map((p) => ({ ...p.proof, live: p })),
      amount,
      selectionKeysets(view),
      { includeFees },
    )
  } catch (e) {
    if (e instanceof AmountError && e.reason === "insufficient-funds") {
      const available = sumAmounts(spendable.map((p) => p.proof))
      return new InsufficientFunds({
        mintUrl,
        unit,
        needed: amount,
        available,
        message: `needs ${amount} ${unit} (plus fees) at the mint, has ${available} spendable`,
      })
    }
    throw e
  }
}

/** The active keyset for outputs, or {@link UnknownMint}. */
export const activeKeysetOrFail = (
  view: WalletView,
  mintUrl: string,
  unit: string,
): Effect.Effect<KeysetView, UnknownMint> => {
  const k = view.activeKeyset(mintUrl, unit)
  return k === undefined
    ? Effect.fail(
        new UnknownMint({
          mintUrl,
          unit,
          message: "no active keyset of this unit at this mint; add the mint first",
        }),
      )
    : Effect.succeed(k)
}

/** Splits `amount` on the keyset's denominations into outputs of `role`. */
export const outputsFor = (
  keyset: KeysetView,
  amount: bigint,
  role: OutputRequest["role"],
): OutputRequest[] =>
  amount === 0n ? [] : splitAmount(amount, keysOf(keyset)).map((a) => ({ amount: a, role }))

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

/** The mint's error code of a failed call, when it sent one. */
export const codeOf = (e: MintCallError): number | undefined =>
  e._tag === "MintRejected" || e._tag === "MintAmbiguous" ? e.code : undefined

/**
 * Notes a request that timed out unanswered: the mint may still apply it (`WalletRuntime.mayStillApply`), so
 * recovery does not take an all-unspent checkstate for "never processed" for a while.
 */
export const noteUnanswered = (rt: WalletRuntime, operationId: string, error: MintCallError): void => {
  if (error._tag === "MintTimeout") rt.noteUnanswered(operationId)
}

/** Records a recovery pass that decided nothing (the operation stays where it is). */
export const noteRecovery = (
  rt: WalletRuntime,
  operationId: string,
  step: OperationRecovering["step"],
  outcome: OperationRecovering["outcome"],
  code?: number,
): Effect.Effect<OperationState, StepError> =>
  rt.record(operationId, [{ _tag: "Recover", step, outcome, code }])

/** {@link noteRecovery}, answering in doubt (the common end of a pass that could not settle anything). */
export const stayInDoubt = (
  rt: WalletRuntime,
  operationId: string,
  step: OperationRecovering["step"],
  outcome: OperationRecovering["outcome"],
  code?: number,
): Effect.Effect<Settled, StepError> =>
  Effect.as(noteRecovery(rt, operationId, step, outcome, code), inDoubt(code))

/** Records that the outcome is not known (`OperationPending`). Returns the new state. */
export const markPending = (
  rt: WalletRuntime,
  operationId: string,
  reason: "ambiguous" | "payment-pending",
  code: number | undefined,
) => rt.record(operationId, [{ _tag: "Pend", reason, code }])

/** Turns a settled outcome into the API's answer: completed → its record; otherwise the typed error. */
export const settledOrFail = (
  s: Pick<OperationState, "operationId" | "kind">,
  settled: Settled,
): Effect.Effect<SettledCompleted, OperationFailed | OperationInDoubt> =>
  settled._tag === "Completed"
    ? Effect.succeed(settled)
    : settled._tag === "Compensated"
      ? Effect.fail(
          new OperationFailed({
            operationId: s.operationId,
            kind: s.kind,
            reason: settled.reason,
            code: settled.code,
            message: `the ${s.kind} did not happen (${settled.reason}); its inputs are spendable again`,
          }),
        )
      : Effect.fail(
          new OperationInDoubt({
            operationId: s.operationId,
            kind: s.kind,
            reason: "ambiguous",
            code: settled.code,
            message: `the ${s.kind}'s outcome is not known yet; recovery will settle it`,
          }),
        )

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

/** CDK's replay window when a mint's NUT-19 ttl is null. */
const NULL_TTL_SECONDS = 300

/**
 * Whether the operation's request may be replayed now (NUT-19): the mint lists `POST path` as cached and the
 * ttl, counted from the first attempt, has not run out. Unknown mint info means no.
 */
export const replayAllowed = (rt: WalletRuntime, s: OperationState, path: string): Effect.Effect<boolean> =>
  rt.info(s.started.mintUrl).pipe(
    Effect.option,
    Effect.map((info) => {
      const cached = info._tag === "Some" ? cachedEndpoint(info.value, "POST", path) : undefined
      const firstSentAt = firstSentAtOf(s)
      if (cached === undefined || firstSentAt === undefined) return false
      return rt.services.now() < firstSentAt + (cached.ttlSeconds ?? NULL_TTL_SECONDS) * 1000
    }),
  )

/** A recovery pass's finding, recorded in the same append as what it led to. */
export interface RecoveryFinding {
  readonly step: OperationRecovering["step"]
  readonly outcome: OperationRecovering["outcome"]
  readonly code?: number | undefined
}

/** Finishes an operation from the mint's signatures for `answered` outputs (a swap-like one, or a mint). */
export type Finalizer = (
  rt: WalletRuntime,
  operationId: string,
  answered: ReadonlyArray<OutputIntent>,
  signatures: ReadonlyArray<Signature>,
  finding?: RecoveryFinding,
) => Effect.Effect<Settled, StepError | SignatureCheckError>

/**
 * Recovery's first step (NUT-19): when a replay is allowed, record the next attempt, resend the stored bytes
 * with `send` (once), and finish the operation on signatures that check out. Returns the outcome, or
 * undefined to go on with the next step.
 */
export const replayStep = (
  rt: WalletRuntime,
  s: OperationState,
  path: string,
  send: (body: string) => Effect.Effect<SignaturesResponse, MintCallError>,
  finalize: Finalizer,
): Effect.Effect<Settled | undefined, StepError> =>
  Effect.gen(function* () {
    const prepared = intentOf(s)
    if (prepared === undefined || !(yield* replayAllowed(rt, s, path))) return undefined
    // The attempt is in the log before its bytes leave.
    yield* rt.record(s.operationId, [{ _tag: "Request" }])
    yield* countRetry(
      path.startsWith("/v1/mint/") ? "mint" : path.startsWith("/v1/melt/") ? "melt" : "swap",
      "replay",
    )
    const replay = yield* send(prepared.request.body).pipe(Effect.result)
    if (replay._tag === "Failure") {
      noteUnanswered(rt, s.operationId, replay.failure)
      return undefined
    }
    const done = yield* finalize(rt, s.operationId, prepared.outputs, replay.success.signatures, {
      step: "replay",
      outcome: "recovered",
    }).pipe(Effect.result)
    if (done._tag === "Success") return done.success
    if (isStepError(done.failure)) return yield* done.failure
    return undefined
  })

/**
 * Runs `body` as the driver of a new operation (`operationId` fresh from `newOperationId`): claimed before its
 * intent is recorded, so no recovery pass decides it while its request may be on the way.
 */
export const driveNew = <A, E, R>(
  rt: WalletRuntime,
  operationId: string,
  body: Effect.Effect<A, E, R>,
): Effect.Effect<A, E | EngineInvariant, R> =>
  rt.claimOperation(
    operationId,
    body,
    Effect.fail(new EngineInvariant({ message: "a new operation id is already being driven" })),
  )
