/**
 * Hard limits for untrusted input. Every decoder takes its limits from here, so a host can tighten them and
 * nothing pre-allocates from a length the input declares.
 *
 * @module
 */

/** Limits applied while parsing untrusted JSON or CBOR. */
export interface InputLimits {
  /** Total input size in bytes (or UTF-16 code units for text). */
  readonly maxBytes: number
  /** Maximum nesting depth of arrays/maps/objects. */
  readonly maxDepth: number
  /** Maximum number of values (scalars + containers) in one document. */
  readonly maxItems: number
  /** Maximum decimal digits of an integer literal (JSON) — 20 digits cover u64. */
  readonly maxIntegerDigits: number
  /** Maximum length of one string (code units / bytes). */
  readonly maxStringLength: number
}

/** Defaults: 1 MiB, depth 32, 200k values, 20-digit integers, 256 KiB strings. */
export const DEFAULT_LIMITS: InputLimits = {
  maxBytes: 1024 * 1024,
  maxDepth: 32,
  maxItems: 200_000,
  maxIntegerDigits: 20,
  maxStringLength: 256 * 1024,
}

/** Token-specific limits on top of {@link InputLimits}. */
export interface TokenLimits extends InputLimits {
  /** Maximum number of proofs across all entries of a token. */
  readonly maxProofs: number
  /** Maximum number of mint entries in a v3 token / keyset groups in a v4 token. */
  readonly maxEntries: number
  /** Maximum length of a proof secret. */
  readonly maxSecretLength: number
}

/** Defaults for tokens: 10,000 proofs, 64 entries, 16 KiB secrets. */
export const DEFAULT_TOKEN_LIMITS: TokenLimits = {
  ...DEFAULT_LIMITS,
  maxProofs: 10_000,
  maxEntries: 64,
  maxSecretLength: 16 * 1024,
}
