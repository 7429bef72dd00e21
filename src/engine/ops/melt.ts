/**
 * Melt (NUT-05 + NUT-23 bolt11, NUT-08 change). STUB: the contract the engine calls; being implemented.
 *
 * @module
 */
import { Effect } from "effect"
import { EngineInvariant, type WalletError } from "../errors.js"
import type { WalletRuntime } from "../runtime.js"
import type { OpContext } from "./context.js"
import type { Settled } from "./swap.js"

/** What to pay. */
export interface MeltQuoteRequest {
  readonly mintUrl: string
  /** The payment request (a bolt11 invoice). */
  readonly request: string
  /** Default `sat`. */
  readonly unit?: string
  /** Default `bolt11`. */
  readonly method?: string
  /** Refuse quotes whose fee reserve exceeds this (absolute, in the unit). */
  readonly maxFeeReserve?: bigint
}

/** A recorded melt quote. */
export interface MeltQuoteResult {
  /** The operation that will pay the quote (pass it to `melt`). */
  readonly operationId: string
  readonly amount: bigint
  readonly feeReserve: bigint
  readonly unit: string
  readonly expiry: number | undefined
}

/** The outcome of a melt. */
export interface MeltResult {
  readonly operationId: string
  /** `paid`: done; `pending`: the payment is in flight (inputs stay pending; `checkPending` settles it). */
  readonly state: "paid" | "pending"
  readonly amount: bigint
  /** The lightning fee actually paid (`feeReserve − change` of the reserve). */
  readonly feePaid: bigint
  /** NUT-02 input fees. */
  readonly inputFee: bigint
  /** Value returned as NUT-08 change. */
  readonly change: bigint
  readonly preimage: string | undefined
}

const todo = () => Effect.fail(new EngineInvariant({ message: "melt is not implemented yet" }))

/** Asks for a melt quote and records it. */
export const meltQuote = (
  _rt: WalletRuntime,
  _req: MeltQuoteRequest,
): Effect.Effect<MeltQuoteResult, WalletError> => todo()

/** Pays a recorded melt quote. */
export const melt = (_rt: WalletRuntime, _operationId: string): Effect.Effect<MeltResult, WalletError> =>
  todo()

/** One recovery pass over a melt. */
export const recoverMelt = (_rt: WalletRuntime, _ctx: OpContext): Effect.Effect<Settled, EngineInvariant> =>
  todo()
