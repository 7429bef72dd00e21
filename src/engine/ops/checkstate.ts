/**
 * Checkstate (NUT-07) of pending proofs and sends, and reclaim of unspent sends. STUB: being implemented.
 *
 * @module
 */
import { Effect } from "effect"
import { EngineInvariant, type WalletError } from "../errors.js"
import type { WalletRuntime } from "../runtime.js"

/** What a check of pending proofs found. */
export interface CheckPendingResult {
  /** Proofs the mint reported spent (now recorded spent). */
  readonly spent: number
  /** Proofs still unspent (sent tokens not yet claimed). */
  readonly unspent: number
  /** Proofs the mint reports pending. */
  readonly pending: number
  /** Operations (melts in flight, in-doubt operations) settled by this check. */
  readonly settled: number
}

/** Checks every pending proof of the wallet (optionally of one mint) with the mint. */
export const checkPending = (
  _rt: WalletRuntime,
  _mintUrl?: string,
): Effect.Effect<CheckPendingResult, WalletError> =>
  Effect.fail(new EngineInvariant({ message: "checkPending is not implemented yet" }))

/** What a reclaim got back. */
export interface ReclaimResult {
  readonly operationId: string
  readonly amount: bigint
  readonly fee: bigint
}

/** Takes back the proofs of an unclaimed send (a swap that races the recipient: exactly one side wins). */
export const reclaim = (
  _rt: WalletRuntime,
  _sendOperationId: string,
): Effect.Effect<ReclaimResult, WalletError> =>
  Effect.fail(new EngineInvariant({ message: "reclaim is not implemented yet" }))
