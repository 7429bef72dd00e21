/**
 * The test mint's state and configuration shared by all handlers: keysets, books, quotes, and the knobs tests
 * turn (auto-paid quotes, melt outcome, fees). Handlers run synchronously against it, so each request is
 * applied atomically (JavaScript runs one handler at a time).
 *
 * @module
 */
import type { Amount, BlindedMessage, BlindSignature, Proof } from "../../../src/model/index.js"
import type { KeysetStore } from "./keysets.js"
import type { Ledger } from "./ledger.js"

/** How a melt's Lightning payment ends. */
export type MeltOutcome = "paid" | "pending" | "failed"

/** A NUT-23 mint quote. */
export interface MintQuote {
  readonly quote: string
  readonly request: string
  readonly amount: Amount
  readonly unit: string
  state: "UNPAID" | "PAID" | "ISSUED"
  readonly expiry: number
  readonly pubkey?: string
}

/** What an unsettled (pending) melt holds until {@link MeltQuote} settles. */
export interface MeltHold {
  readonly inputs: ReadonlyArray<Proof>
  readonly Ys: ReadonlyArray<string>
  readonly total: Amount
  readonly fee: Amount
  readonly outputs: ReadonlyArray<BlindedMessage>
}

/** A NUT-23 melt quote. */
export interface MeltQuote {
  readonly quote: string
  readonly request: string
  readonly amount: Amount
  readonly feeReserve: Amount
  readonly unit: string
  state: "UNPAID" | "PENDING" | "PAID"
  readonly expiry: number
  preimage?: string
  change?: ReadonlyArray<BlindSignature>
  /** Lightning fee actually paid (set on success). */
  feePaid?: Amount
  hold?: MeltHold
}

/** Mutable knobs (change them between requests). */
export interface MintConfig {
  /** New mint quotes are PAID at once (default) or wait for `payQuote`. */
  autoPay: boolean
  /** Outcome of the next melts (default `paid`). */
  meltOutcome: MeltOutcome
  /** Fee reserve of a melt quote for an amount (default `max(2, ceil(amount/100))`). */
  feeReserve: (amount: Amount) => Amount
  /** Lightning fee actually paid by a melt (default 1, capped at the reserve). */
  lightningFee: (quote: { readonly amount: Amount; readonly feeReserve: Amount }) => Amount
  /** Quote lifetime in seconds; an expired quote is refused (20007). */
  quoteTtlSeconds: number
  /** Most inputs per request (11014) and outputs per request (11015); default 1000 as nutshell. */
  maxInputs: number
  maxOutputs: number
}

/** Everything a handler may read or change. */
export interface MintContext {
  readonly keysets: KeysetStore
  readonly ledger: Ledger
  readonly mintQuotes: Map<string, MintQuote>
  readonly meltQuotes: Map<string, MeltQuote>
  readonly config: MintConfig
  /** The mint's public key (NUT-06 `pubkey`). */
  readonly pubkey: string
  readonly name: string
  /** NUT-19 cache ttl in seconds, or `undefined` when caching is off. */
  readonly cacheTtlSeconds: number | undefined
  readonly nowMs: () => number
}

/** Current unix time in seconds. */
export const nowSeconds = (ctx: MintContext): number => Math.floor(ctx.nowMs() / 1000)
