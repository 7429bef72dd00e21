/**
 * The Cashu data model (NUT-00) as the engine holds it in memory: plain readonly records, hex strings for
 * points and byte fields (the wire form), and `bigint` for every amount.
 *
 * @module
 */

/** An amount in the unit's minor denomination. Always a non-negative `bigint` below 2^64. */
export type Amount = bigint

/** Largest amount the protocol carries (u64). */
export const MAX_AMOUNT: Amount = (1n << 64n) - 1n

/** NUT-12 DLEQ proof as attached to a blind signature (`e`, `s`) or a proof (`e`, `s`, `r`). Hex scalars. */
export interface Dleq {
  readonly e: string
  readonly s: string
  /** The wallet's blinding factor; present only on proofs handed to another wallet. */
  readonly r?: string
}

/** NUT-00 `BlindedMessage` (an output): the wallet's request for a signature. */
export interface BlindedMessage {
  readonly amount: Amount
  /** Keyset id (hex). */
  readonly id: string
  /** Blinded point `B_ = Y + r·G`, compressed hex. */
  readonly B_: string
}

/** NUT-00 `BlindSignature` (a promise): the mint's answer to one output. */
export interface BlindSignature {
  readonly amount: Amount
  readonly id: string
  /** Blind signature `C_ = k·B_`, compressed hex. */
  readonly C_: string
  readonly dleq?: Dleq
}

/** NUT-00 `Proof`: a bearer token for `amount` at keyset `id`. */
export interface Proof {
  readonly amount: Amount
  readonly id: string
  /** The secret string whose UTF-8 bytes are hashed to the curve. May be a NUT-10 well-known secret. */
  readonly secret: string
  /** Unblinded signature `C`, compressed hex. */
  readonly C: string
  /** NUT-10 witness, a JSON string. */
  readonly witness?: string
  readonly dleq?: Dleq
  /** NUT-28 P2BK ephemeral public key, compressed hex. */
  readonly p2pk_e?: string
}

/** The proofs of one mint inside a token. */
export interface TokenEntry {
  readonly mint: string
  readonly proofs: ReadonlyArray<Proof>
}

/** A decoded token (v3 or v4), normalised: one entry per mint. v4 tokens always have exactly one entry. */
export interface Token {
  readonly version: 3 | 4
  readonly entries: ReadonlyArray<TokenEntry>
  readonly unit?: string
  readonly memo?: string
}

/** Proof states reported by NUT-07. */
export type ProofState = "UNSPENT" | "PENDING" | "SPENT"

/** A keyset's public keys by amount. */
export type KeysetKeys = ReadonlyMap<Amount, string>

/** A keyset as the wallet knows it (NUT-01/02). */
export interface Keyset {
  readonly id: string
  readonly unit: string
  readonly active: boolean
  readonly inputFeePpk: bigint
  readonly finalExpiry?: bigint
  readonly keys: KeysetKeys
}
