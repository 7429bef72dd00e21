/**
 * BOLT #11 Lightning invoices (`lnbc…`, `lntb…`, `lntbs…`, `lnbcrt…`, `lnsb…`): a pure, bounded decoder.
 *
 * The reference is BOLT #11 (`lightning/bolts`, `11-payment-encoding.md`) as of 2026 (after
 * lightning/bolts#1243). Everything the spec tells a reader to check is checked:
 *
 * - bech32 (BIP-173) without the 90-character limit, in one letter case, with a valid checksum;
 * - the prefix: `ln` + a known currency, then an optional amount: a positive decimal integer with no leading
 *   zero and an optional multiplier `m`/`u`/`n`/`p`; with `p` the last digit must be `0` (whole millisatoshis);
 *   amounts above 21,000,000 BTC are refused;
 * - the signature: with an `n` field, the signature must verify against `n` and be low-S; without one, the
 *   payee key is recovered from the 64-byte signature and its recovery id (high-S accepted), over
 *   `sha256(hrp bytes || data words before the signature, as bytes, zero-padded)`;
 * - fixed-length fields `p`, `s`, `h` (52 words) and `n` (53 words) must have that length (the current rule;
 *   the rule before lightning/bolts#1243 was to skip them, available as `wrongLengthFields: "skip"`);
 * - exactly one `p` and one `s`; exactly one of `d` and `h`; `x`, `c` and `9` minimally encoded; no unknown
 *   even feature bit in `9`; `f` fields with an unknown version (19–31) skipped; unknown field types skipped.
 *
 * Stricter than the spec, on purpose (a wallet must not disagree with its mint about which value counts): a
 * second `p`, `s`, `d`, `h`, `n`, `x`, `c`, `9` or `m` field is refused (`duplicate`) instead of "use the
 * first"; field data must be zero-padded. `r` (route hints) and `f` (fallback addresses, as version + program)
 * are parsed; route-hint node keys are not checked to be curve points. Feature dependencies (e.g. `basic_mpp`
 * needs `payment_secret`) are not enforced: that is a payer's rule, and nutshell's FakeWallet sets
 * `payment_secret` without `var_onion_optin`.
 *
 * Every failure is a {@link DecodeError} whose `message` names only lengths, positions and field letters —
 * never the invoice text, the payment hash or the secret — and whose `path` says where:
 *
 * | reason | path | when |
 * |---|---|---|
 * | `too-large` | `input` | longer than `maxLength` |
 * | `bech32` | `input` | not a string of printable ASCII, mixed case, no `1` separator, a character outside the bech32 set |
 * | `bech32` | `checksum` | the bech32 checksum is wrong (or shorter than 6 characters) |
 * | `prefix` | `hrp` | does not start with `ln`, or an unknown currency |
 * | `amount` | `hrp.amount` | malformed amount or multiplier, leading zero, zero, sub-millisatoshi `p`, over 21M BTC |
 * | `schema` | `data` | data part too short for timestamp + signature, or a tagged field runs into the signature |
 * | `limit` | `tagged` | more tagged fields than `maxTaggedFields` |
 * | `limit` | `options.<name>` | `maxLength` or `maxTaggedFields` is not a non-negative integer (NaN would disable the check) |
 * | `schema` | `tagged.<letter>` | a field is malformed: wrong fixed length, non-zero padding, non-minimal `x`/`c`/`9`, bad UTF-8 in `d`, unknown even feature, bad `f`/`r` layout; or a required field is missing (`tagged.p`, `tagged.s`, `tagged.d` = neither `d` nor `h`, `tagged.h` = both) |
 * | `duplicate` | `tagged.<letter>` | a single-valued field appears twice |
 * | `signature` | `signature` / `tagged.n` | not recoverable, not valid for `n`, high-S with `n`, recovery id > 3; `n` is not a curve point |
 *
 * @module
 */
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { bech32 } from "@scure/base"
import { Effect } from "effect"
import { bytesToHex, concatBytes, utf8 } from "../crypto/bytes.js"
import { AmountError, DecodeError, isCorecashuError } from "../model/index.js"

/** The chain an invoice is for, from its prefix: `lnbc`, `lntb`, `lntbs`, `lnbcrt`, `lnsb`. */
export type Bolt11Network = "bitcoin" | "testnet" | "signet" | "regtest" | "simnet"

/** One hop of a private route (an `r` field holds one or more, in order from a public node to the payee). */
export interface Bolt11RouteHop {
  /** Node id at the start of the channel: 33-byte compressed key, lowercase hex (not checked to be a point). */
  readonly pubkey: string
  /** `block x tx x output`, e.g. `589390x3312x1`. */
  readonly shortChannelId: string
  readonly feeBaseMsat: bigint
  readonly feeProportionalMillionths: number
  readonly cltvExpiryDelta: number
}

/** An on-chain fallback (`f` field) of a version the spec defines: 0–16 witness, 17 P2PKH, 18 P2SH. */
export interface Bolt11Fallback {
  readonly version: number
  /** Witness program, or the 20-byte key/script hash for 17/18; lowercase hex. */
  readonly program: string
}

/** A decoded, signature-checked BOLT #11 invoice. */
export interface Bolt11Invoice {
  readonly network: Bolt11Network
  /** Amount asked for, in millisatoshis; `undefined` when the invoice leaves it to the payer. */
  readonly amountMsat: bigint | undefined
  /** Creation time, seconds since 1970 (35 bits). */
  readonly timestamp: number
  /** `x` field, or 3600 when absent. */
  readonly expirySeconds: number
  /** `timestamp + expirySeconds`: the invoice must not be paid from this second on ({@link isBolt11Expired}). */
  readonly expiresAt: number
  /** 32 bytes, lowercase hex. */
  readonly paymentHash: string
  /** 32 bytes, lowercase hex (the `s` field is required). */
  readonly paymentSecret: string
  /** `d` field (UTF-8); exactly one of `description` and `descriptionHash` is present. */
  readonly description?: string
  /** `h` field: sha256 of a description given elsewhere; 32 bytes, lowercase hex. */
  readonly descriptionHash?: string
  /** Payee node key, 33-byte compressed, lowercase hex: the `n` field, or recovered from the signature. */
  readonly payeePubkey: string
  /** `c` field (`min_final_cltv_expiry_delta`), or 18 when absent. */
  readonly minFinalCltvExpiry: number
  /** Feature bits set in the `9` field, ascending (empty when absent). */
  readonly features: ReadonlyArray<number>
  /** `m` field (payment metadata), lowercase hex. */
  readonly metadata?: string
  /** `r` fields, in order; each is one route. */
  readonly routeHints: ReadonlyArray<ReadonlyArray<Bolt11RouteHop>>
  /** `f` fields of known versions, in order (most preferred first). */
  readonly fallbacks: ReadonlyArray<Bolt11Fallback>
}

/** Options for {@link decodeBolt11}. */
export interface Bolt11DecodeOptions {
  /** Longest accepted invoice, in characters (default {@link BOLT11_DEFAULT_MAX_LENGTH}). */
  readonly maxLength?: number
  /** Most tagged fields accepted (default {@link BOLT11_DEFAULT_MAX_TAGGED_FIELDS}). */
  readonly maxTaggedFields?: number
  /**
   * A `p`, `s`, `h` or `n` field whose data length is not 52, 52, 52, 53 words: `"fail"` (default; BOLT #11
   * since lightning/bolts#1243, 2025) or `"skip"` it as if absent (the rule before, which the spec's example
   * "Same, but including fields which must be ignored" still shows).
   */
  readonly wrongLengthFields?: "fail" | "skip"
}

/** Default longest invoice: 7,089 characters (a version-40 QR code's numeric capacity; generous for text). */
export const BOLT11_DEFAULT_MAX_LENGTH = 7089
/** Default most tagged fields per invoice. */
export const BOLT11_DEFAULT_MAX_TAGGED_FIELDS = 128
/** Expiry when the invoice has no `x` field. */
export const BOLT11_DEFAULT_EXPIRY_SECONDS = 3600
/** `min_final_cltv_expiry_delta` when the invoice has no `c` field. */
export const BOLT11_DEFAULT_MIN_FINAL_CLTV_EXPIRY = 18
/** 21,000,000 BTC in millisatoshis: no invoice may ask for more. */
export const BOLT11_MAX_AMOUNT_MSAT = 2_100_000_000_000_000_000n
/**
 * Feature bits this decoder understands in an invoice (BOLT #9, context `9`, plus the assumed
 * `var_onion_optin` and `payment_secret`): an even bit outside this list makes the invoice invalid.
 */
export const BOLT11_KNOWN_FEATURE_BITS: ReadonlyArray<number> = [8, 9, 14, 15, 16, 17, 24, 25, 36, 37, 48, 49]

const KNOWN_FEATURES = new Set(BOLT11_KNOWN_FEATURE_BITS)
const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
const NETWORKS: Readonly<Record<string, Bolt11Network>> = {
  bc: "bitcoin",
  tb: "testnet",
  tbs: "signet",
  bcrt: "regtest",
  sb: "simnet",
}
/** Millisatoshis per unit of the amount, by multiplier ("" = whole bitcoin). `p` is handled apart. */
const MSAT_PER_UNIT: Readonly<Record<string, bigint>> = {
  "": 100_000_000_000n,
  m: 100_000_000n,
  u: 100_000n,
  n: 100n,
}
const TIMESTAMP_WORDS = 7
const SIGNATURE_WORDS = 104
/** Longest amount we parse: 21M BTC in pico-BTC has 20 digits. */
const MAX_AMOUNT_DIGITS = 20
/** `x`/`c` values are kept below 2^50 so they, and `timestamp + expiry`, stay exact numbers. */
const MAX_UINT_WORDS = 10

// Field types (the 5-bit value of each tag letter in the bech32 alphabet).
const T_P = 1
const T_R = 3
const T_9 = 5
const T_X = 6
const T_F = 9
const T_D = 13
const T_S = 16
const T_N = 19
const T_H = 23
const T_C = 24
const T_M = 27
const FIXED_LENGTH: ReadonlyMap<number, number> = new Map([
  [T_P, 52],
  [T_S, 52],
  [T_H, 52],
  [T_N, 53],
])
const SINGLE_VALUED = new Set([T_P, T_S, T_D, T_H, T_N, T_X, T_C, T_9, T_M])

const fail = (reason: DecodeError["reason"], message: string, path: string): never => {
  throw new DecodeError({ reason, message, path })
}
const tagPath = (type: number): string => `tagged.${CHARSET[type]}`

interface RawField {
  readonly type: number
  /** Index of the first data word. */
  readonly start: number
  /** Data length in words. */
  readonly length: number
}

/** Checks the text, then the bech32 checksum; returns the lowercase prefix and the data words (no checksum). */
const readBech32 = (invoice: string, maxLength: number): { hrp: string; words: number[] } => {
  if (typeof invoice !== "string") return fail("bech32", "invoice must be a string", "input")
  if (invoice.length > maxLength)
    return fail("too-large", `invoice longer than ${maxLength} characters`, "input")
  let lower = false
  let upper = false
  for (let i = 0; i < invoice.length; i++) {
    const c = invoice.charCodeAt(i)
    if (c < 33 || c > 126) return fail("bech32", `character at position ${i} is not printable ASCII`, "input")
    if (c >= 97 && c <= 122) lower = true
    else if (c >= 65 && c <= 90) upper = true
  }
  if (lower && upper) return fail("bech32", "invoice mixes upper and lower case", "input")
  const s = invoice.toLowerCase()
  const sep = s.lastIndexOf("1")
  if (sep < 1) return fail("bech32", "invoice has no prefix and 1 separator", "input")
  for (let i = sep + 1; i < s.length; i++)
    if (CHARSET.indexOf(s[i]!) < 0) return fail("bech32", `character at position ${i} is not bech32`, "input")
  if (s.length - sep - 1 < 6) return fail("bech32", "invoice too short for a bech32 checksum", "checksum")
  try {
    const { prefix, words } = bech32.decode(s as `${string}1${string}`, false)
    return { hrp: prefix, words }
  } catch {
    // @scure/base messages may quote the input; keep ours fixed. Everything else was checked above.
    return fail("bech32", "invalid bech32 checksum", "checksum")
  }
}

const parseAmount = (text: string): bigint | undefined => {
  if (text === "") return undefined
  const last = text[text.length - 1]!
  const multiplier = last >= "0" && last <= "9" ? "" : last
  const digits = multiplier === "" ? text : text.slice(0, -1)
  if (multiplier !== "" && multiplier !== "p" && MSAT_PER_UNIT[multiplier] === undefined)
    return fail("amount", "unknown amount multiplier", "hrp.amount")
  if (digits === "") return fail("amount", "amount multiplier without a number", "hrp.amount")
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i)
    if (c < 48 || c > 57) return fail("amount", "amount is not a decimal number", "hrp.amount")
  }
  if (digits[0] === "0") return fail("amount", "amount must be positive, without leading zeros", "hrp.amount")
  if (digits.length > MAX_AMOUNT_DIGITS) return fail("amount", "amount exceeds 21,000,000 BTC", "hrp.amount")
  const value = BigInt(digits)
  let msat: bigint
  if (multiplier === "p") {
    if (value % 10n !== 0n)
      return fail("amount", "pico-bitcoin amount is not a whole number of millisatoshis", "hrp.amount")
    msat = value / 10n
  } else {
    msat = value * MSAT_PER_UNIT[multiplier]!
  }
  if (msat > BOLT11_MAX_AMOUNT_MSAT) return fail("amount", "amount exceeds 21,000,000 BTC", "hrp.amount")
  return msat
}

const parseHrp = (hrp: string): { network: Bolt11Network; amountMsat: bigint | undefined } => {
  if (!hrp.startsWith("ln")) return fail("prefix", "invoice prefix must start with ln", "hrp")
  let i = 2
  while (i < hrp.length && !(hrp[i]! >= "0" && hrp[i]! <= "9")) i++
  const network = NETWORKS[hrp.slice(2, i)]
  if (network === undefined) return fail("prefix", "unknown invoice currency prefix", "hrp")
  return { network, amountMsat: parseAmount(hrp.slice(i)) }
}

/** Big-endian unsigned value of `length` words (caller keeps `length` <= 10, below 2^50). */
const wordsValue = (words: ReadonlyArray<number>, start: number, length: number): number => {
  let v = 0
  for (let i = 0; i < length; i++) v = v * 32 + words[start + i]!
  return v
}

/** 5-bit words → bytes, dropping the trailing partial byte, which must be zero (the writer pads with 0s). */
const fieldBytes = (
  words: ReadonlyArray<number>,
  start: number,
  length: number,
  path: string,
): Uint8Array => {
  const out = new Uint8Array(Math.floor((length * 5) / 8))
  let acc = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < length; i++) {
    acc = (acc << 5) | words[start + i]!
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
      acc &= (1 << bits) - 1
    }
  }
  if (acc !== 0) fail("schema", "field has non-zero padding bits", path)
  return out
}

/** 5-bit words → bytes with the last byte padded with zero bits: the signed data, as the spec hashes it. */
const signedBytes = (words: ReadonlyArray<number>, length: number): Uint8Array => {
  const out = new Uint8Array(Math.ceil((length * 5) / 8))
  let acc = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < length; i++) {
    acc = (acc << 5) | words[i]!
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
      acc &= (1 << bits) - 1
    }
  }
  if (bits > 0) out[o] = (acc << (8 - bits)) & 0xff
  return out
}

/** Minimally encoded unsigned integer field (`x`, `c`). */
const uintField = (words: ReadonlyArray<number>, f: RawField): number => {
  const path = tagPath(f.type)
  if (f.length > 0 && words[f.start] === 0) fail("schema", "field value has a leading zero word", path)
  if (f.length > MAX_UINT_WORDS) fail("schema", `field value longer than ${MAX_UINT_WORDS} words`, path)
  return wordsValue(words, f.start, f.length)
}

const featureBits = (words: ReadonlyArray<number>, f: RawField): number[] => {
  if (f.length > 0 && words[f.start] === 0)
    fail("schema", "feature field has a leading zero word", "tagged.9")
  const bits: number[] = []
  for (let i = f.length - 1; i >= 0; i--) {
    const w = words[f.start + i]!
    for (let k = 0; k < 5; k++) {
      if ((w & (1 << k)) === 0) continue
      const bit = 5 * (f.length - 1 - i) + k
      if (bit % 2 === 0 && !KNOWN_FEATURES.has(bit))
        fail("schema", `invoice requires unknown feature bit ${bit}`, "tagged.9")
      bits.push(bit)
    }
  }
  return bits
}

/** An `f` field; `undefined` for a version the spec says to skip (19–31). */
const fallbackField = (words: ReadonlyArray<number>, f: RawField): Bolt11Fallback | undefined => {
  if (f.length === 0) return fail("schema", "fallback field is empty", "tagged.f")
  const version = words[f.start]!
  if (version > 18) return undefined
  const program = fieldBytes(words, f.start + 1, f.length - 1, "tagged.f")
  const n = program.length
  const ok = version >= 17 ? n === 20 : version === 0 ? n === 20 || n === 32 : n >= 2 && n <= 40
  if (!ok) fail("schema", `fallback of version ${version} has a ${n}-byte program`, "tagged.f")
  return { version, program: bytesToHex(program) }
}

const ROUTE_HOP_BYTES = 51

const uint = (b: Uint8Array, at: number, len: number): number => {
  let v = 0
  for (let i = 0; i < len; i++) v = v * 256 + b[at + i]!
  return v
}

const routeField = (words: ReadonlyArray<number>, f: RawField): Bolt11RouteHop[] => {
  const b = fieldBytes(words, f.start, f.length, "tagged.r")
  if (b.length === 0 || b.length % ROUTE_HOP_BYTES !== 0)
    fail("schema", `route hint field of ${b.length} bytes is not whole 51-byte hops`, "tagged.r")
  const hops: Bolt11RouteHop[] = []
  for (let at = 0; at < b.length; at += ROUTE_HOP_BYTES) {
    hops.push({
      pubkey: bytesToHex(b.subarray(at, at + 33)),
      shortChannelId: `${uint(b, at + 33, 3)}x${uint(b, at + 36, 3)}x${uint(b, at + 39, 2)}`,
      feeBaseMsat: BigInt(uint(b, at + 41, 4)),
      feeProportionalMillionths: uint(b, at + 45, 4),
      cltvExpiryDelta: uint(b, at + 49, 2),
    })
  }
  return hops
}

// ignoreBOM: a description that starts with U+FEFF keeps it (the default decoder would drop it silently).
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/** Splits the tagged part into fields, checking only the framing and the count. */
const splitFields = (words: ReadonlyArray<number>, end: number, maxFields: number): RawField[] => {
  const fields: RawField[] = []
  let pos = TIMESTAMP_WORDS
  while (pos < end) {
    if (fields.length >= maxFields)
      fail("limit", `invoice has more than ${maxFields} tagged fields`, "tagged")
    if (pos + 3 > end) fail("schema", `tagged field header at word ${pos} runs into the signature`, "data")
    const length = words[pos + 1]! * 32 + words[pos + 2]!
    const start = pos + 3
    if (start + length > end) fail("schema", `tagged field at word ${pos} runs into the signature`, "data")
    fields.push({ type: words[pos]!, start, length })
    pos = start + length
  }
  return fields
}

/** Verifies the signature against `n`, or recovers the payee key; returns it as compressed bytes. */
const checkSignature = (
  hrp: string,
  words: ReadonlyArray<number>,
  end: number,
  payee: Uint8Array | undefined,
): Uint8Array => {
  const sig = fieldBytes(words, end, SIGNATURE_WORDS, "signature") // 520 bits: exactly 65 bytes
  const compact = sig.subarray(0, 64)
  const recovery = sig[64]!
  if (recovery > 3) return fail("signature", "signature recovery id must be 0 to 3", "signature")
  const digest = sha256(concatBytes(utf8(hrp), signedBytes(words, end)))
  let parsed: ReturnType<typeof secp256k1.Signature.fromBytes>
  try {
    parsed = secp256k1.Signature.fromBytes(compact, "compact")
  } catch {
    return fail("signature", "signature r or s is out of range", "signature")
  }
  if (payee !== undefined) {
    if (parsed.hasHighS())
      return fail("signature", "signature is high-S but the invoice has an n field", "signature")
    let ok = false
    try {
      ok = secp256k1.verify(compact, digest, payee, { prehash: false, lowS: true, format: "compact" })
    } catch {
      ok = false
    }
    if (!ok) return fail("signature", "signature is not valid for the payee key in n", "signature")
    return payee
  }
  try {
    return parsed.addRecoveryBit(recovery).recoverPublicKey(digest).toBytes(true)
  } catch {
    return fail("signature", "no public key can be recovered from the signature", "signature")
  }
}

/** A limit option: a non-negative safe integer, or the default when absent (NaN would disable a check). */
const limitOption = (value: number | undefined, fallback: number, name: string): number => {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 0)
    return fail("limit", `option ${name} is not a non-negative integer`, `options.${name}`)
  return value
}

const decode = (invoice: string, options: Bolt11DecodeOptions | undefined): Bolt11Invoice => {
  const maxLength = limitOption(options?.maxLength, BOLT11_DEFAULT_MAX_LENGTH, "maxLength")
  const maxFields = limitOption(options?.maxTaggedFields, BOLT11_DEFAULT_MAX_TAGGED_FIELDS, "maxTaggedFields")
  const skipWrongLength = options?.wrongLengthFields === "skip"

  const { hrp, words } = readBech32(invoice, maxLength)
  const { network, amountMsat } = parseHrp(hrp)
  if (words.length < TIMESTAMP_WORDS + SIGNATURE_WORDS)
    fail("schema", "data part too short for a timestamp and a signature", "data")
  const end = words.length - SIGNATURE_WORDS
  const timestamp = wordsValue(words, 0, TIMESTAMP_WORDS)

  // Fixed-length fields first: with the wrong length they fail the invoice (or are skipped, as if absent).
  const fields = splitFields(words, end, maxFields).filter((f) => {
    const expected = FIXED_LENGTH.get(f.type)
    if (expected === undefined || f.length === expected) return true
    if (skipWrongLength) return false
    return fail("schema", `field must be ${expected} words long, is ${f.length}`, tagPath(f.type))
  })

  // The signature, before the other fields' contents: an `n` field decides how it is checked.
  const nFields = fields.filter((f) => f.type === T_N)
  if (nFields.length > 1) fail("duplicate", "invoice has more than one n field", "tagged.n")
  const nField = nFields[0]
  let payee: Uint8Array | undefined
  if (nField !== undefined) {
    payee = fieldBytes(words, nField.start, nField.length, "tagged.n")
    try {
      secp256k1.Point.fromBytes(payee)
    } catch {
      fail("signature", "payee key in n is not a valid public key", "tagged.n")
    }
  }
  const payeePubkey = bytesToHex(checkSignature(hrp, words, end, payee))

  let paymentHash: string | undefined
  let paymentSecret: string | undefined
  let description: string | undefined
  let descriptionHash: string | undefined
  let expirySeconds = BOLT11_DEFAULT_EXPIRY_SECONDS
  let minFinalCltvExpiry = BOLT11_DEFAULT_MIN_FINAL_CLTV_EXPIRY
  let features: ReadonlyArray<number> = []
  let metadata: string | undefined
  const routeHints: Bolt11RouteHop[][] = []
  const fallbacks: Bolt11Fallback[] = []
  const seen = new Set<number>()
  for (const f of fields) {
    const path = tagPath(f.type)
    if (SINGLE_VALUED.has(f.type)) {
      if (seen.has(f.type)) fail("duplicate", `invoice has more than one ${CHARSET[f.type]} field`, path)
      seen.add(f.type)
    }
    switch (f.type) {
      case T_P:
        paymentHash = bytesToHex(fieldBytes(words, f.start, f.length, path))
        break
      case T_S:
        paymentSecret = bytesToHex(fieldBytes(words, f.start, f.length, path))
        break
      case T_H:
        descriptionHash = bytesToHex(fieldBytes(words, f.start, f.length, path))
        break
      case T_D:
        try {
          description = utf8Decoder.decode(fieldBytes(words, f.start, f.length, path))
        } catch (e) {
          if (isCorecashuError(e)) throw e
          fail("schema", "description is not valid UTF-8", path)
        }
        break
      case T_M:
        metadata = bytesToHex(fieldBytes(words, f.start, f.length, path))
        break
      case T_X:
        expirySeconds = uintField(words, f)
        break
      case T_C:
        minFinalCltvExpiry = uintField(words, f)
        break
      case T_9:
        features = featureBits(words, f)
        break
      case T_F: {
        const fallback = fallbackField(words, f)
        if (fallback !== undefined) fallbacks.push(fallback)
        break
      }
      case T_R:
        routeHints.push(routeField(words, f))
        break
      default:
        break // `n` was read above; unknown types are skipped
    }
  }

  if (paymentHash === undefined) return fail("schema", "invoice has no payment hash (p)", "tagged.p")
  if (paymentSecret === undefined) return fail("schema", "invoice has no payment secret (s)", "tagged.s")
  if (description !== undefined && descriptionHash !== undefined)
    return fail("schema", "invoice has both a description (d) and a description hash (h)", "tagged.h")
  if (description === undefined && descriptionHash === undefined)
    return fail("schema", "invoice has neither a description (d) nor a description hash (h)", "tagged.d")

  return {
    network,
    amountMsat,
    timestamp,
    expirySeconds,
    expiresAt: timestamp + expirySeconds,
    paymentHash,
    paymentSecret,
    ...(description !== undefined ? { description } : {}),
    ...(descriptionHash !== undefined ? { descriptionHash } : {}),
    payeePubkey,
    minFinalCltvExpiry,
    features,
    ...(metadata !== undefined ? { metadata } : {}),
    routeHints,
    fallbacks,
  }
}

/**
 * Decodes and verifies a BOLT #11 invoice (either letter case, no `lightning:` prefix).
 *
 * @throws {DecodeError} only; see the module documentation for its `reason` and `path` values. An unexpected
 *   exception from below becomes a `DecodeError` (`schema`, path `input`) as a last resort.
 */
export const decodeBolt11 = (invoice: string, options?: Bolt11DecodeOptions): Bolt11Invoice => {
  try {
    return decode(invoice, options)
  } catch (e) {
    if (isCorecashuError(e)) throw e
    throw new DecodeError({ reason: "schema", message: "invoice could not be decoded", path: "input" })
  }
}

/** {@link decodeBolt11} as an Effect: fails with the {@link DecodeError} instead of throwing. */
export const decodeBolt11Effect = (
  invoice: string,
  options?: Bolt11DecodeOptions,
): Effect.Effect<Bolt11Invoice, DecodeError> =>
  Effect.try({ try: () => decodeBolt11(invoice, options), catch: (e) => e as DecodeError })

/**
 * Whether the invoice must no longer be paid at `nowSeconds` (Unix seconds): true from `expiresAt` on.
 * (BOLT #11: a payer SHOULD NOT pay after `timestamp + expiry`; the boundary second counts as expired.)
 */
export const isBolt11Expired = (invoice: Pick<Bolt11Invoice, "expiresAt">, nowSeconds: number): boolean =>
  nowSeconds >= invoice.expiresAt

/**
 * The invoice amount in whole satoshis: `undefined` when the invoice has no amount (the payer chooses);
 * throws an {@link AmountError} (`not-integer`) when the amount is not a whole number of satoshis (e.g.
 * 1,500 msat), so a sat wallet never rounds a payment silently. Use `amountMsat` for those.
 */
export const bolt11AmountSat = (invoice: Pick<Bolt11Invoice, "amountMsat">): bigint | undefined => {
  const msat = invoice.amountMsat
  if (msat === undefined) return undefined
  if (msat % 1000n !== 0n)
    throw new AmountError({
      reason: "not-integer",
      message: "invoice amount is not a whole number of satoshis",
    })
  return msat / 1000n
}

/** {@link bolt11AmountSat} as an Effect: fails with the {@link AmountError} instead of throwing. */
export const bolt11AmountSatEffect = (
  invoice: Pick<Bolt11Invoice, "amountMsat">,
): Effect.Effect<bigint | undefined, AmountError> =>
  Effect.try({ try: () => bolt11AmountSat(invoice), catch: (e) => e as AmountError })
