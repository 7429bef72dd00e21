/**
 * A test-side BOLT #11 writer: encodes and signs invoices, independent of the decoder in
 * `src/protocol/bolt11.ts` (its own word packing), so the decoder's tests check it against a second
 * implementation. Used by `test/protocol/bolt11.test.ts` (field by field, including invalid invoices) and by
 * the in-process test mint (`./mint/invoice.ts`, real signed regtest invoices through {@link encodeInvoice}).
 *
 * @module
 */
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { bech32 } from "@scure/base"
import { bigIntToBytes, concatBytes, utf8 } from "../../src/crypto/bytes.js"
import type { Bolt11Network } from "../../src/protocol/bolt11.js"

/** An amount multiplier of the human-readable part ("" = whole bitcoin). */
export type Multiplier = "" | "m" | "u" | "n" | "p"

export const NETWORK_PREFIX: Readonly<Record<Bolt11Network, string>> = {
  bitcoin: "bc",
  testnet: "tb",
  signet: "tbs",
  regtest: "bcrt",
  simnet: "sb",
}

/** Millisatoshis per unit of each multiplier, as tenths (so `p` = 1/10 msat is exact). */
export const DECI_MSAT_PER_UNIT: Readonly<Record<Multiplier, bigint>> = {
  "": 1_000_000_000_000n,
  m: 1_000_000_000n,
  u: 1_000_000n,
  n: 1_000n,
  p: 1n,
}

/** The bech32 alphabet: a word's value is its index. */
export const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
const N = secp256k1.Point.CURVE().n

/** The 5-bit type of a field letter. */
export const typeOf = (letter: string): number => CHARSET.indexOf(letter)

/** A tagged field: type, 10-bit data length, data. */
export const field = (letter: string | number, data: ReadonlyArray<number>): number[] => [
  typeof letter === "number" ? letter : typeOf(letter),
  data.length >> 5,
  data.length & 31,
  ...data,
]

/** Big-endian words of `v`, minimal (0 → no word), or exactly `width` words. */
export const uintWords = (v: number, width?: number): number[] => {
  const out: number[] = []
  for (let x = v; x > 0; x = Math.floor(x / 32)) out.unshift(x % 32)
  while (width !== undefined && out.length < width) out.unshift(0)
  return out
}

/** Bytes → 5-bit words, the last one zero-padded. */
export const bytesWords = (b: Uint8Array): number[] => bech32.toWords(b)

/** Feature bits → the `9` field's words (big-endian, minimal). */
export const featureWords = (bits: ReadonlyArray<number>): number[] => {
  if (bits.length === 0) return []
  const n = Math.floor(Math.max(...bits) / 5) + 1
  const w = new Array<number>(n).fill(0)
  for (const b of bits) w[n - 1 - Math.floor(b / 5)]! |= 1 << (b % 5)
  return w
}

/** Words → bytes, the last byte filled with zero bits: the signed data as BOLT #11 defines it. */
export const packWords = (words: ReadonlyArray<number>): Uint8Array => {
  let bits = ""
  for (const w of words) bits += w.toString(2).padStart(5, "0")
  while (bits.length % 8 !== 0) bits += "0"
  const out = new Uint8Array(bits.length / 8)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(bits.slice(i * 8, i * 8 + 8), 2)
  return out
}

/** `v` as `len` big-endian bytes. */
export const be = (v: number, len: number): Uint8Array => {
  const out = new Uint8Array(len)
  for (let i = len - 1, x = v; i >= 0; i--, x = Math.floor(x / 256)) out[i] = x % 256
  return out
}

export interface SignOptions {
  /** Use s' = n - s and the recovery id that still recovers the signer (a valid high-S signature). */
  readonly highS?: boolean
  /** Write this recovery id instead of the right one. */
  readonly recovery?: number
  /** Replace the whole 65-byte signature. */
  readonly raw?: Uint8Array
}

/** The 104 signature words over `hrp` and `data` (timestamp + fields), signed by `priv`. */
export const signatureWords = (
  hrp: string,
  data: ReadonlyArray<number>,
  priv: Uint8Array,
  o: SignOptions = {},
): number[] => {
  if (o.raw !== undefined) return bytesWords(o.raw)
  const digest = sha256(concatBytes(utf8(hrp), packWords(data)))
  const sig = secp256k1.Signature.fromBytes(
    secp256k1.sign(digest, priv, { prehash: false, format: "recovered" }),
    "recovered",
  )
  let s = sig.s
  let recovery = sig.recovery!
  if (o.highS === true) {
    s = N - s
    recovery ^= 1
  }
  if (o.recovery !== undefined) recovery = o.recovery
  return bytesWords(concatBytes(bigIntToBytes(sig.r), bigIntToBytes(s), Uint8Array.of(recovery)))
}

/** hrp + timestamp + fields, signed by `priv`, bech32 without a length limit. */
export const writeInvoice = (
  hrp: string,
  timestamp: number,
  fields: ReadonlyArray<ReadonlyArray<number>>,
  priv: Uint8Array,
  o: SignOptions = {},
): string => {
  const data = [...uintWords(timestamp, 7), ...fields.flat()]
  return bech32.encode(hrp, [...data, ...signatureWords(hrp, data, priv, o)], false)
}

/**
 * The shortest way to write `msat` (> 0) in a prefix: the largest multiplier that states it exactly (`p`
 * for a sub-100-msat remainder).
 */
export const amountOfMsat = (msat: bigint): { readonly digits: bigint; readonly multiplier: Multiplier } => {
  if (msat <= 0n) throw new Error("bolt11-encode: the amount must be positive")
  const deci = msat * 10n
  for (const multiplier of ["", "m", "u", "n"] as const) {
    const per = DECI_MSAT_PER_UNIT[multiplier]
    if (deci % per === 0n) return { digits: deci / per, multiplier }
  }
  return { digits: deci, multiplier: "p" }
}

/** An invoice by its usual parts (what a Lightning node's `addinvoice` sets). */
export interface InvoiceParts {
  /** Default `regtest` (`lnbcrt…`). */
  readonly network?: Bolt11Network
  /** As written in the prefix; `undefined`: an amountless invoice. See {@link amountOfMsat}. */
  readonly amount: { readonly digits: bigint; readonly multiplier: Multiplier } | undefined
  /** Creation time, Unix seconds. */
  readonly timestamp: number
  /** `x` field; absent when `undefined` (the reader's default is 3600). */
  readonly expirySeconds?: number
  /** 32 bytes. */
  readonly paymentHash: Uint8Array
  /** 32 bytes. */
  readonly paymentSecret: Uint8Array
  /** `d` field. */
  readonly description: string
  /** The payee's node key (the invoice carries no `n` field: the reader recovers the key). */
  readonly privateKey: Uint8Array
}

/** A valid, signed BOLT #11 invoice: `p`, `s`, `d`, optional `x`, and the `9` field nodes set (bits 8, 14). */
export const encodeInvoice = (parts: InvoiceParts): string => {
  const amount = parts.amount === undefined ? "" : `${parts.amount.digits}${parts.amount.multiplier}`
  const hrp = `ln${NETWORK_PREFIX[parts.network ?? "regtest"]}${amount}`
  const fields = [
    field("p", bytesWords(parts.paymentHash)),
    field("d", bytesWords(utf8(parts.description))),
    ...(parts.expirySeconds !== undefined ? [field("x", uintWords(parts.expirySeconds))] : []),
    field("s", bytesWords(parts.paymentSecret)),
    field("9", featureWords([8, 14])), // var_onion_optin, payment_secret (required)
  ]
  return writeInvoice(hrp, parts.timestamp, fields, parts.privateKey)
}
