/**
 * The project's tagged errors for the pure layers (crypto, protocol).
 *
 * Every failure that can leave the public API is one of these classes; each carries a `_tag` so callers can
 * match exhaustively, and none carries secret material (seeds, secrets, blinding factors, quote ids) in its
 * message or fields — only lengths, positions and reasons.
 *
 * @module
 */
import { Data } from "effect"
import type { MintProtocolError } from "./mint.js"

/** Why untrusted input was rejected. */
export type DecodeReason =
  | "too-large"
  | "prefix"
  | "base64"
  | "hex"
  | "cbor"
  | "json"
  | "depth"
  | "limit"
  | "schema"
  | "amount"
  | "duplicate"
  | "forbidden-key"
  | "version"
  | "ambiguous"
  | "bech32"
  | "tlv"
  | "mnemonic"
  /** A signature inside the input does not hold (a BOLT #11 invoice's payee signature). */
  | "signature"

/** Untrusted bytes or text (a token, a mint response, a payment request) failed to decode or validate. */
export class DecodeError extends Data.TaggedError("DecodeError")<{
  readonly reason: DecodeReason
  readonly message: string
  /** Dotted path inside the input where the problem was found, when known (e.g. `token.0.proofs.3.amount`). */
  readonly path?: string
}> {}

/** Why a cryptographic operation failed. */
export type CryptoReason =
  | "invalid-point"
  | "invalid-scalar"
  | "point-at-infinity"
  | "hash-to-curve-exhausted"
  | "derivation"
  | "signature"
  | "dleq"
  | "backend-unavailable"

/** A cryptographic primitive was given invalid material or produced an unusable result. */
export class CryptoError extends Data.TaggedError("CryptoError")<{
  readonly reason: CryptoReason
  readonly message: string
}> {}

/** A verification (DLEQ, proof signature, P2PK/HTLC witness, NUT-20 quote signature) did not hold. */
export class VerificationError extends Data.TaggedError("VerificationError")<{
  readonly check: "dleq" | "bdhke" | "p2pk" | "htlc" | "nut20" | "keyset-id" | "spending-condition"
  readonly message: string
}> {}

/** Why a keyset was rejected or could not be resolved. */
export type KeysetReason =
  | "malformed-key"
  | "id-mismatch"
  | "id-collision"
  | "unknown-id"
  | "ambiguous-short-id"
  | "unsupported-version"
  | "malformed-id"
  | "unknown-amount"
  | "inactive"

/** A keyset is malformed, its id does not match its keys, or an id cannot be resolved. */
export class KeysetError extends Data.TaggedError("KeysetError")<{
  readonly reason: KeysetReason
  readonly message: string
  readonly keysetId?: string
}> {}

/** An amount is out of range, or an amount cannot be split/selected as asked. */
export class AmountError extends Data.TaggedError("AmountError")<{
  readonly reason: "negative" | "overflow" | "not-integer" | "unsplittable" | "insufficient-funds" | "zero"
  readonly message: string
}> {}

/** Every error the pure layers can raise (plus the mint's own error answer, decoded). */
export type PureError =
  | DecodeError
  | CryptoError
  | VerificationError
  | KeysetError
  | AmountError
  | MintProtocolError

const PURE_TAGS: ReadonlySet<string> = new Set<PureError["_tag"]>([
  "DecodeError",
  "CryptoError",
  "VerificationError",
  "KeysetError",
  "AmountError",
  "MintProtocolError",
])

/** True when `u` is one of the pure layers' errors (what pure code throws). */
export const isPureError = (u: unknown): u is PureError =>
  typeof u === "object" && u !== null && PURE_TAGS.has((u as { _tag?: unknown })._tag as string)
