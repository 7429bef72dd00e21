/**
 * corecashu — public entry point.
 *
 * The wallet engine (`Engine`, `Wallet`) with every type its methods take or return; token codecs (NUT-00
 * `cashuA` / `cashuB` / `crawB`) as plain functions that throw only the project's tagged errors, their Effect
 * twins that fail in the error channel instead; every error class with the {@link isCorecashuError} guard, and
 * the data model types. Amounts are `bigint` everywhere.
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

/**
 * The wallet engine: `Engine.open`, wallets, every error class (all layers') with `isCorecashuError`, and every
 * type a public method of `Engine` or `Wallet` takes or returns (results, requests, options, views).
 */
export * from "./engine/index.js"
/** Tagged errors raised by the pure layers, the union of them all, their reason unions and the guard. */
/** The Cashu data model: proofs, tokens, keysets; amounts are `bigint`. */
export {
  type Amount,
  AmountError,
  type BlindedMessage,
  type BlindSignature,
  type CorecashuError,
  CryptoError,
  type CryptoReason,
  DecodeError,
  type DecodeReason,
  type Dleq,
  isCorecashuError,
  type Keyset,
  KeysetError,
  type KeysetKeys,
  type KeysetReason,
  MAX_AMOUNT,
  type Proof,
  type ProofState,
  type Token,
  type TokenEntry,
  VerificationError,
} from "./model/index.js"
/** Hard limits for untrusted input and their defaults (override per call with `decodeToken(s, { limits })`). */
export { DEFAULT_TOKEN_LIMITS, type InputLimits, type TokenLimits } from "./protocol/limits.js"
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
