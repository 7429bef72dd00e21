/**
 * corecashu — public entry point.
 *
 * Token codecs (NUT-00 `cashuA` / `cashuB` / `crawB`) as plain functions that throw only the project's tagged
 * errors, their Effect twins that fail in the error channel instead, the error classes with the
 * {@link isCorecashuError} guard, and the data model types. Amounts are `bigint` everywhere.
 *
 * @example
 * ```ts
 * import { decodeToken, encodeToken } from "corecashu"
 * const token = decodeToken("cashuB…")
 * const again = encodeToken(token) // v4 by default; { version: 3 } for cashuA
 * ```
 *
 * @module
 */

/** The wallet engine: `Engine.open`, wallets, and their errors. */
export * from "./engine/index.js"
/** Tagged errors raised by the pure layers, the union of them all, their reason unions and the guard. */
export {
  AmountError,
  type CorecashuError,
  CryptoError,
  type CryptoReason,
  DecodeError,
  type DecodeReason,
  isCorecashuError,
  KeysetError,
  type KeysetReason,
  VerificationError,
} from "./errors.js"
/** Hard limits for untrusted input and their defaults (override per call with `decodeToken(s, { limits })`). */
export { DEFAULT_TOKEN_LIMITS, type InputLimits, type TokenLimits } from "./protocol/limits.js"
/** The Cashu data model: proofs, tokens, keysets; amounts are `bigint`. */
export {
  type Amount,
  type BlindedMessage,
  type BlindSignature,
  type Dleq,
  type Keyset,
  type KeysetKeys,
  MAX_AMOUNT,
  type Proof,
  type ProofState,
  type Token,
  type TokenEntry,
} from "./protocol/models.js"
/** Token decoding and encoding (plain and Effect), raw binary tokens and short keyset id resolution. */
export {
  type DecodeTokenOptions,
  decodeToken,
  decodeTokenBytes,
  decodeTokenBytesEffect,
  decodeTokenEffect,
  type EncodeTokenOptions,
  encodeToken,
  encodeTokenBytes,
  encodeTokenEffect,
  resolveShortKeysetIds,
} from "./protocol/token.js"
