/**
 * Restore (NUT-09 + NUT-13). STUB: the contract the engine calls; being implemented.
 *
 * @module
 */
import { Effect } from "effect"
import { EngineInvariant, type WalletError } from "../errors.js"
import type { WalletRuntime } from "../runtime.js"

/** What to restore. */
export interface RestoreRequest {
  readonly mintUrl: string
  /** Default: every keyset of the mint the wallet knows (after syncing the mint's keysets). */
  readonly keysetIds?: ReadonlyArray<string>
  /** Scan from this counter (default 0). */
  readonly fromCounter?: number
  /** Outputs per request (default: engine option `restoreBatchSize`). */
  readonly batchSize?: number
  /** Stop after this many consecutive empty batches (default: engine option `restoreEmptyBatches`). */
  readonly emptyBatches?: number
}

/** What a restore found. */
export interface RestoreResult {
  readonly operationId: string
  /** Unspent proofs recovered that the wallet did not hold. */
  readonly found: number
  readonly amount: bigint
  /** Next unused counter per keyset after the restore. */
  readonly counters: ReadonlyArray<{ readonly keysetId: string; readonly next: number }>
}

/** Restores proofs from the seed. */
export const restore = (
  _rt: WalletRuntime,
  _req: RestoreRequest,
): Effect.Effect<RestoreResult, WalletError> =>
  Effect.fail(new EngineInvariant({ message: "restore is not implemented yet" }))
