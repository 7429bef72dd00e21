/**
 * Byte helpers shared by crypto and protocol: strict hex, UTF-8, concatenation, constant-shape compares.
 * Hex decoding never throws an untyped error: malformed input is a tagged {@link DecodeError}.
 *
 * @module
 */
import { DecodeError } from "../model/index.js"

const HEX = "0123456789abcdef"
const HEX_TABLE: string[] = Array.from({ length: 256 }, (_, i) => HEX[i >> 4]! + HEX[i & 15]!)

/** Lowercase hex of `bytes`. */
export const bytesToHex = (bytes: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += HEX_TABLE[bytes[i]!]
  return out
}

const nibble = (c: number): number => {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/** Decodes hex (either case) or returns `undefined` when it is not well-formed hex. */
export const hexToBytesOrUndefined = (hex: string): Uint8Array | undefined => {
  if (hex.length % 2 !== 0) return undefined
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i))
    const lo = nibble(hex.charCodeAt(2 * i + 1))
    if (hi < 0 || lo < 0) return undefined
    out[i] = (hi << 4) | lo
  }
  return out
}

/** Decodes hex (either case); fails with a tagged {@link DecodeError} naming `what` (never the value). */
export const hexToBytes = (hex: string, what = "hex"): Uint8Array => {
  const out = hexToBytesOrUndefined(hex)
  if (out === undefined) throw new DecodeError({ reason: "hex", message: `${what} is not valid hex` })
  return out
}

const encoder = new TextEncoder()
const decoder = new TextDecoder("utf-8", { fatal: true })

/** UTF-8 bytes of `s`. */
export const utf8 = (s: string): Uint8Array => encoder.encode(s)

/** Strict UTF-8 decoding; invalid sequences are a tagged {@link DecodeError}. */
export const fromUtf8 = (b: Uint8Array, what = "text"): string => {
  try {
    return decoder.decode(b)
  } catch {
    throw new DecodeError({ reason: "schema", message: `${what} is not valid UTF-8` })
  }
}

/** Concatenation of byte arrays. */
export const concatBytes = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Byte equality whose running time depends only on the lengths (for MACs and hashes). */
export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/** Big-endian bytes → bigint. */
export const bytesToBigInt = (b: Uint8Array): bigint => (b.length === 0 ? 0n : BigInt("0x" + bytesToHex(b)))

/** bigint → fixed-length big-endian bytes (throws a RangeError only on programmer error: value too large). */
export const bigIntToBytes = (n: bigint, length = 32): Uint8Array => {
  const hex = n.toString(16).padStart(length * 2, "0")
  if (hex.length > length * 2) throw new RangeError("integer does not fit")
  return hexToBytes(hex)
}
