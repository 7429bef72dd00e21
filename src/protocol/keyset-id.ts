/**
 * NUT-02 keyset ids: derivation, verification and version detection.
 *
 * - v1 (`00`, 8 bytes, deprecated): `"00" + hex(SHA256(concat of the 33-byte keys sorted by amount)))[0:14]`.
 * - v2 (`01`, 33 bytes): `"01" + hex(SHA256(utf8("amt:pubhex,amt:pubhex,…|unit:<unit>"
 *   [+ "|input_fee_ppk:<n>" iff n ≠ 0] [+ "|final_expiry:<t>" iff t ≠ 0])))`.
 * - `02…` (BLS12-381 keysets, nuts PR #371, nutshell ≥ 0.21) is recognised so callers can skip it, but never
 *   derived or verified: this wallet is secp256k1-only.
 *
 * Pitfalls handled (NUT-02): amounts sort **numerically** as bigints (a string sort gives a different v1
 * id for the 64-key vector; amounts reach 2^63); pubkeys hash as lowercase hex; the fee segment is omitted for
 * 0. For `final_expiry` the spec's Python and CDK omit `0` while nutshell appends it whenever it is set, so
 * {@link verifyKeysetId} accepts either preimage when the expiry is 0. The unit is hashed as given (the spec's
 * Python does; the prose says "lowercase", and every unit in use is lowercase).
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { bytesToHex, concatBytes, hexToBytesOrUndefined, utf8 } from "../crypto/bytes.js"
import { type Keyset, KeysetError, type KeysetKeys } from "../model/index.js"

/** Keyset id versions: 1 = `00…` (8 bytes), 2 = `01…` (33 bytes), 3 = `02…` BLS (recognised, unsupported). */
export type KeysetIdVersion = 1 | 2 | 3

/** Hex length of a v1 id and of a NUT-00 v4-token short id (8 bytes). */
export const SHORT_KEYSET_ID_HEX_LENGTH = 16
/** Hex length of a v2 (and v3) id (33 bytes). */
export const FULL_KEYSET_ID_HEX_LENGTH = 66

const LOWER_HEX = /^[0-9a-f]*$/

/**
 * The version of a full keyset id.
 *
 * @throws {KeysetError} `malformed-id` when `id` is not lowercase hex of a known version's length (this includes
 *   an 8-byte short id of a v2 keyset — resolve it first), `unsupported-version` for an unknown version byte.
 */
export const keysetIdVersion = (id: string): KeysetIdVersion => {
  if (!LOWER_HEX.test(id) || id.length < 2) {
    throw new KeysetError({ reason: "malformed-id", message: "keyset id is not lowercase hex" })
  }
  const prefix = id.slice(0, 2)
  const expected =
    prefix === "00"
      ? SHORT_KEYSET_ID_HEX_LENGTH
      : prefix === "01" || prefix === "02"
        ? FULL_KEYSET_ID_HEX_LENGTH
        : 0
  if (expected === 0) {
    throw new KeysetError({
      reason: "unsupported-version",
      message: `unknown keyset id version ${prefix}`,
      keysetId: id,
    })
  }
  if (id.length !== expected) {
    throw new KeysetError({
      reason: "malformed-id",
      message: `keyset id of version ${prefix} must have ${expected} hex characters`,
      keysetId: id,
    })
  }
  return prefix === "00" ? 1 : prefix === "01" ? 2 : 3
}

/** True when `id` is a full id of a version this wallet can use (v1 or v2). Never throws. */
export const isSupportedKeysetId = (id: string): boolean => {
  try {
    return keysetIdVersion(id) !== 3
  } catch {
    return false
  }
}

/**
 * True when `id` has the shape of a NUT-00 short keyset id (the first 8 bytes of a v2+ id, as v4 tokens may
 * carry): 16 lowercase hex characters not starting with `00` (which would be a complete v1 id).
 */
export const isShortKeysetId = (id: string): boolean =>
  id.length === SHORT_KEYSET_ID_HEX_LENGTH && LOWER_HEX.test(id) && !id.startsWith("00")

/** Options of {@link deriveKeysetId}. */
export interface DeriveKeysetIdOptions {
  readonly version: 1 | 2
  /** Required for v2. */
  readonly unit?: string
  readonly inputFeePpk?: bigint | null
  readonly finalExpiry?: bigint | null
}

const byAmount = (keys: KeysetKeys): Array<readonly [bigint, string]> =>
  [...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

const keyBytes = (hex: string, amount: bigint): Uint8Array => {
  const bytes = hexToBytesOrUndefined(hex)
  if (bytes === undefined || bytes.length !== 33) {
    throw new KeysetError({
      reason: "malformed-key",
      message: `key for amount ${amount} is not 33 bytes of hex`,
    })
  }
  return bytes
}

/** The v2 preimage text. `appendZeroExpiry` reproduces nutshell, which writes `|final_expiry:0`. */
const v2Preimage = (
  keys: KeysetKeys,
  unit: string,
  inputFeePpk: bigint | null | undefined,
  finalExpiry: bigint | null | undefined,
  appendZeroExpiry: boolean,
): string => {
  let text = byAmount(keys)
    .map(([amount, key]) => `${amount}:${key.toLowerCase()}`)
    .join(",")
  text += `|unit:${unit}`
  if (inputFeePpk !== undefined && inputFeePpk !== null && inputFeePpk !== 0n)
    text += `|input_fee_ppk:${inputFeePpk}`
  if (finalExpiry !== undefined && finalExpiry !== null && (finalExpiry !== 0n || appendZeroExpiry)) {
    text += `|final_expiry:${finalExpiry}`
  }
  return text
}

/**
 * Derives the NUT-02 keyset id of `keys`.
 *
 * @throws {KeysetError} `malformed-key` when a key is not 33 bytes of hex; `unsupported-version` when v2 is asked
 *   without a unit.
 */
export const deriveKeysetId = (keys: KeysetKeys, options: DeriveKeysetIdOptions): string => {
  if (options.version === 1) {
    const parts = byAmount(keys).map(([amount, key]) => keyBytes(key, amount))
    return "00" + bytesToHex(sha256(concatBytes(...parts))).slice(0, 14)
  }
  if (options.unit === undefined) {
    throw new KeysetError({
      reason: "unsupported-version",
      message: "a v2 keyset id needs the keyset's unit",
    })
  }
  for (const [amount, key] of keys) keyBytes(key, amount)
  return (
    "01" +
    bytesToHex(sha256(utf8(v2Preimage(keys, options.unit, options.inputFeePpk, options.finalExpiry, false))))
  )
}

/**
 * Checks that a keyset's id is the one its keys (and, for v2, its unit, fee and expiry) derive to — so a mint
 * cannot serve keys under someone else's id (and so share its NUT-13 counters).
 *
 * @throws {KeysetError} `id-mismatch`; `unsupported-version` for `02…` (BLS) and unknown versions; `malformed-id`;
 *   `malformed-key`.
 */
export const verifyKeysetId = (
  keyset: Pick<Keyset, "id" | "unit" | "keys" | "inputFeePpk" | "finalExpiry">,
): void => {
  const version = keysetIdVersion(keyset.id)
  if (version === 3) {
    throw new KeysetError({
      reason: "unsupported-version",
      message: "BLS12-381 keysets (02…) are not supported",
      keysetId: keyset.id,
    })
  }
  let candidates: string[]
  if (version === 1) {
    candidates = [deriveKeysetId(keyset.keys, { version: 1 })]
  } else {
    for (const [amount, key] of keyset.keys) keyBytes(key, amount)
    const variants = new Set<string>([
      v2Preimage(keyset.keys, keyset.unit, keyset.inputFeePpk, keyset.finalExpiry, false),
      v2Preimage(keyset.keys, keyset.unit, keyset.inputFeePpk, keyset.finalExpiry, true),
    ])
    candidates = [...variants].map((p) => "01" + bytesToHex(sha256(utf8(p))))
  }
  if (!candidates.includes(keyset.id)) {
    throw new KeysetError({
      reason: "id-mismatch",
      message: "keyset id does not match the keyset's keys and metadata",
      keysetId: keyset.id,
    })
  }
}
