/**
 * A plain swap (NUT-03) of the wallet's own proofs into new ones: re-split value into other denominations
 * (e.g. before an offline send) or consolidate many small proofs. Inputs cover `amount` plus their input
 * fee exactly as NUT-02 charges it; the outputs are `amount` split as asked, plus the change.
 *
 * @module
 */
import { Effect } from "effect"
import type { OperationStarted } from "../../events/catalogue.js"
import { newOperationId } from "../../events/ids.js"
import { intentOf } from "../../machines/decider.js"
import { AmountError, EngineInvariant, InsufficientFunds, type WalletError } from "../../model/index.js"
import { splitAmount } from "../../protocol/split.js"
import { keysOf } from "../outputs.js"
import { attempt } from "../pure.js"
import type { WalletRuntime } from "../runtime.js"
import { activeKeysetOrFail, driveNew, outputsFor, pickInputs, settledOrFail } from "./shared.js"
import { appendSwapIntent, requestSwap } from "./swap.js"
import { recoverSwapAdvancing } from "./swap-recovery.js"

/** What to swap. */
export interface SplitRequest {
  readonly mintUrl: string
  readonly unit: string
  /** Value to re-split (the inputs also pay their fee on top). */
  readonly amount: bigint
  /** Preferred pieces of `amount` (each split into denominations; the rest greedily). */
  readonly target?: ReadonlyArray<bigint>
  readonly purpose?: "split" | "consolidate"
}

/** What a swap did. */
export interface SplitResult {
  readonly operationId: string
  readonly amountIn: bigint
  readonly amountOut: bigint
  readonly fee: bigint
  readonly inputs: number
  readonly outputs: number
}

/** Swaps the wallet's proofs into new ones (see the module comment). */
export const split = (rt: WalletRuntime, req: SplitRequest): Effect.Effect<SplitResult, WalletError> =>
  Effect.gen(function* () {
    if (req.amount <= 0n)
      return yield* new AmountError({ reason: "zero", message: "swap amount must be positive" })
    const operationId = newOperationId(rt.services.now())
    const started: Extract<OperationStarted, { kind: "swap" }> = {
      _tag: "OperationStarted",
      operationId,
      kind: "swap",
      mintUrl: req.mintUrl,
      unit: req.unit,
      purpose: req.purpose ?? "split",
    }
    return yield* driveNew(
      rt,
      operationId,
      Effect.gen(function* () {
        const prepared = yield* rt.write((_, record) =>
          Effect.gen(function* () {
            const view = rt.view()
            const keyset = yield* activeKeysetOrFail(view, req.mintUrl, req.unit)
            const sel = yield* attempt(() => pickInputs(view, req.mintUrl, req.unit, req.amount, true))
            if (sel instanceof InsufficientFunds) return yield* sel
            const pieces = yield* attempt(() =>
              splitAmount(req.amount, keysOf(keyset), req.target !== undefined ? { target: req.target } : {}),
            )
            const state = yield* appendSwapIntent(rt, record, {
              started,
              inputs: sel.inputs.map((p) => p.live.proof),
              before: [],
              reserve: true,
              outputs: [
                ...pieces.map((amount) => ({ amount, role: "keep" as const })),
                ...outputsFor(keyset, sel.change, "keep"),
              ],
              keyset,
            })
            return { state, inputs: sel.inputs.length }
          }),
        )
        const settled = yield* requestSwap(rt, prepared.state, recoverSwapAdvancing)
        const { completed } = yield* settledOrFail(prepared.state, settled)
        if (completed.kind !== "swap")
          return yield* new EngineInvariant({ message: "a swap completed without its record" })
        return {
          operationId,
          amountIn: completed.amountIn,
          amountOut: completed.amountOut,
          fee: completed.fee,
          inputs: prepared.inputs,
          outputs: intentOf(prepared.state)?.outputs.length ?? 0,
        }
      }),
    )
  })
