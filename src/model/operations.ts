/**
 * The operation vocabulary every layer shares: which kinds of operation a wallet runs and why one can end
 * without effect. Schemas (not just types) because the event catalogue embeds them in its events.
 *
 * @module
 */
import { Schema } from "effect"

/** The kinds of operation a wallet runs. */
export const OperationKind = Schema.Literals([
  "swap",
  "mint",
  "melt",
  "send",
  "receive",
  "restore",
  "checkstate",
])
export type OperationKind = typeof OperationKind.Type
/** Every operation kind, in declaration order. */
export const OPERATION_KINDS: ReadonlyArray<OperationKind> = OperationKind.literals

/** Why an operation was compensated (its reserved inputs released). Only definitive outcomes qualify. */
export const CompensationReason = Schema.Literals([
  /** The mint answered with a definitive error (see `code`). */
  "rejected",
  /** Recovery found the inputs unspent: the request was never processed. */
  "not-processed",
  /** Stopped before any request left (user cancel, insufficient funds after reservation, …). */
  "cancelled",
  "quote-expired",
  /** The melt payment failed and the mint holds no payment proof. */
  "payment-failed",
  /** A received token failed validation (DLEQ, keyset, lock) before any swap. */
  "invalid-token",
  /** A received token was already claimed by someone else. */
  "token-spent",
])
export type CompensationReason = typeof CompensationReason.Type
