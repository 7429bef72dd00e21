/**
 * Send: hand value to someone as a token. The sent proofs stay **pending** under the send operation until the
 * mint reports them spent (NUT-07, `checkPending`), and the sender can reclaim them while they are unspent.
 *
 * - **Offline** when the wallet holds proofs that add up to the amount exactly (no fee is charged for the
 *   token itself; the receiver pays the input fee of the proofs when swapping them in): one append
 *   `OperationStarted`, `ProofsReserved`, `ProofsPending`, `OperationCompleted` — no request at all.
 * - Otherwise, or when the token must be locked (P2PK), **swap to send** (`./swap.ts`): inputs covering
 *   `amount + input fee`, outputs split into the send part (locked outputs get their own random secrets,
 *   recorded in the intent) and the change kept.
 *
 * @module
 */
import { Effect } from "effect"
import { parseWellKnownSecret } from "../../crypto/nut10.js"
import { createP2pkSecret, type LockOptions } from "../../crypto/p2pk.js"
import type { OperationStarted, SpendingCondition } from "../../events/catalogue.js"
import { newOperationId } from "../../events/ids.js"
import {
  AmountError,
  EngineInvariant,
  InsufficientFunds,
  type UnknownMint,
  type WalletError,
} from "../../model/index.js"
import type { KeysetView } from "../../projections/mints.js"
import type { LiveProof } from "../../projections/proofs.js"
import type { WalletRuntime, WalletView } from "../runtime.js"
import { activeKeysetOrFail, driveNew, outputsFor, pickInputs, settledOrFail, tokenOf } from "./shared.js"
import { appendSwapIntent, requestSwap } from "./swap.js"
import { recoverSwapAdvancing } from "./swap-recovery.js"

/** What to send. */
export interface SendRequest {
  readonly mintUrl: string
  readonly unit: string
  readonly amount: bigint
  readonly memo?: string
  /** Lock the token to a public key (NUT-11 P2PK), with optional locktime, refund keys, multisig. */
  readonly lock?: { readonly pubkey: string } & LockOptions
  /** Never send offline from exact proofs (always swap, e.g. to refresh proofs). Default false. */
  readonly forceSwap?: boolean
}

/** A created token and what it cost. */
export interface SendResult {
  readonly operationId: string
  readonly token: string
  readonly amount: bigint
  /** Input fees paid by the swap (0 for an offline send). */
  readonly fee: bigint
  readonly offline: boolean
}

/** Sends `amount`: offline from exact proofs when possible, else swap-to-send. */
export const send = (rt: WalletRuntime, req: SendRequest): Effect.Effect<SendResult, WalletError> =>
  Effect.gen(function* () {
    if (req.amount <= 0n)
      return yield* new AmountError({ reason: "zero", message: "send amount must be positive" })
    const operationId = newOperationId(rt.services.now())
    const lock: SpendingCondition | undefined = req.lock === undefined ? undefined : lockCondition(req.lock)
    const started: Extract<OperationStarted, { kind: "send" }> = {
      _tag: "OperationStarted",
      operationId,
      kind: "send",
      mintUrl: req.mintUrl,
      unit: req.unit,
      amount: req.amount,
      ...(req.memo !== undefined ? { memo: req.memo } : {}),
      ...(lock !== undefined ? { lock } : {}),
    }
    return yield* driveNew(
      rt,
      operationId,
      Effect.gen(function* () {
        const planned = yield* rt.write((_, record) =>
          Effect.gen(function* () {
            const plan = yield* planSend(rt.view(), req)
            if (plan._tag === "Offline") {
              const proofs = plan.inputs.map((p) => p.proof)
              const ys = proofs.map((p) => p.Y) as [string, ...string[]]
              const token = tokenOf(req.mintUrl, req.unit, proofs, req.memo)
              yield* record(operationId, [
                { _tag: "Start", started },
                {
                  _tag: "Complete",
                  completed: {
                    _tag: "OperationCompleted",
                    operationId,
                    kind: "send",
                    amount: req.amount,
                    fee: 0n,
                    token,
                  },
                  effects: [
                    { _tag: "ProofsReserved", operationId, ys },
                    { _tag: "ProofsPending", operationId, ys },
                  ],
                },
              ])
              return { _tag: "Offline" as const, token }
            }
            const { keyset } = plan
            const sendOutputs = outputsFor(keyset, req.amount, "send").map((o) =>
              req.lock === undefined ? o : { ...o, secret: createP2pkSecret(req.lock.pubkey, req.lock) },
            )
            const state = yield* appendSwapIntent(rt, record, {
              started,
              inputs: plan.inputs.map((p) => p.proof),
              before: [],
              reserve: true,
              outputs: [...sendOutputs, ...outputsFor(keyset, plan.change, "keep")],
              keyset,
            })
            return { _tag: "Swap" as const, state }
          }),
        )
        if (planned._tag === "Offline")
          return { operationId, token: planned.token, amount: req.amount, fee: 0n, offline: true }
        const settled = yield* requestSwap(rt, planned.state, recoverSwapAdvancing)
        const { completed } = yield* settledOrFail(planned.state, settled)
        if (completed.kind !== "send")
          return yield* new EngineInvariant({ message: "a send completed without its send record" })
        return {
          operationId,
          token: completed.token,
          amount: completed.amount,
          fee: completed.fee,
          offline: false,
        }
      }),
    )
  })

/**
 * How a send of `req` goes on the wallet's `view`: **offline** from unlocked proofs that add up to the amount
 * exactly (no fee), else a **swap** whose inputs cover the amount plus their own NUT-02 input fee (`fee`),
 * the rest (`change`) coming back as new proofs. Pure: `send` runs it under the writer, `prepareSend`
 * (`./preview.ts`) on a read; both answer the same for the same view.
 */
export const planSend = (
  view: WalletView,
  req: Pick<SendRequest, "mintUrl" | "unit" | "amount" | "lock" | "forceSwap">,
): Effect.Effect<SendPlan, AmountError | UnknownMint | InsufficientFunds> =>
  Effect.gen(function* () {
    if (req.amount <= 0n)
      return yield* new AmountError({ reason: "zero", message: "send amount must be positive" })
    const keyset = yield* activeKeysetOrFail(view, req.mintUrl, req.unit)
    if (req.lock === undefined && req.forceSwap !== true) {
      const exact = pickInputs(view, req.mintUrl, req.unit, req.amount, false)
      if (!(exact instanceof InsufficientFunds) && exact.exact)
        return { _tag: "Offline", inputs: exact.inputs.map((p) => p.live), keyset }
    }
    const sel = pickInputs(view, req.mintUrl, req.unit, req.amount, true)
    if (sel instanceof InsufficientFunds) return yield* sel
    return { _tag: "Swap", inputs: sel.inputs.map((p) => p.live), fee: sel.fee, change: sel.change, keyset }
  })

/** What {@link planSend} decided. */
export type SendPlan =
  | {
      readonly _tag: "Offline"
      /** Proofs adding up to the amount exactly: they become the token. */
      readonly inputs: ReadonlyArray<LiveProof>
      readonly keyset: KeysetView
    }
  | {
      readonly _tag: "Swap"
      /** The swap's inputs: `Σ inputs = amount + fee + change`. */
      readonly inputs: ReadonlyArray<LiveProof>
      /** NUT-02 input fee of `inputs`. */
      readonly fee: bigint
      /** What comes back to the wallet as new proofs. */
      readonly change: bigint
      /** The keyset the outputs are signed on. */
      readonly keyset: KeysetView
    }

/** The catalogue's record of a P2PK lock (for history; the secrets themselves are in the intent). */
const lockCondition = (lock: { readonly pubkey: string } & LockOptions): SpendingCondition => {
  const wk = parseWellKnownSecret(createP2pkSecret(lock.pubkey, { ...lock, nonce: "00" }))
  return {
    kind: "P2PK",
    data: wk.data,
    tags: wk.tags.map((t) => [...t]),
  }
}
