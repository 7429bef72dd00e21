/**
 * Strict base64 for tokens and payment requests.
 *
 * Encoding writes the URL-safe alphabet (RFC 4648 §5), padded or not. Decoding accepts what real wallets
 * emit — URL-safe or standard alphabet, with or without `=` padding — but nothing else: a foreign character,
 * misplaced or wrong padding, an impossible length (4n+1) or non-zero trailing bits fail with a tagged
 * {@link DecodeError} (reason `base64`). Rejecting non-zero trailing bits keeps the encoding one-to-one, so two
 * different strings never decode to the same token.
 *
 * The strictness lives here; the byte conversion itself is Node's native `Buffer` codec (several times faster
 * than a JS loop, and lenient — which is why every input is checked before it gets there).
 *
 * @module
 */
import { DecodeError } from "../model/index.js"

// Anchored at lastIndex (sticky): alphabet characters of either flavour, then at most two `=` at the end.
// The character class excludes `=`, so backtracking is linear.
const SHAPE = /[A-Za-z0-9+/_-]*={0,2}$/y

// Char code → 6-bit value for the last character's trailing-bits check (both alphabets).
const VALUE = new Uint8Array(128)
{
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
  for (let i = 0; i < 62; i++) VALUE[alphabet.charCodeAt(i)] = i
  VALUE[43] = 62 // +
  VALUE[45] = 62 // -
  VALUE[47] = 63 // /
  VALUE[95] = 63 // _
}

const fail = (message: string): never => {
  throw new DecodeError({ reason: "base64", message })
}

/** Base64url (URL-safe alphabet) of `bytes`; `=` padding only when `pad` is true. */
export const base64UrlEncode = (bytes: Uint8Array, pad = false): string => {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url")
  if (!pad) return text
  const rem = bytes.byteLength % 3
  return rem === 0 ? text : text + (rem === 1 ? "==" : "=")
}

/**
 * Decodes base64 text in the URL-safe or the standard alphabet, padded or unpadded, starting at code unit
 * `start` of `text` (so callers need not slice off a prefix).
 *
 * @throws {DecodeError} reason `base64` on any character outside the alphabets, bad padding, an impossible
 * length or non-zero trailing bits.
 */
export const base64Decode = (text: string, start = 0): Uint8Array => {
  SHAPE.lastIndex = start
  if (!SHAPE.test(text)) fail("invalid base64 character")
  let end = text.length
  let padding = 0
  while (end > start && text.charCodeAt(end - 1) === 61) {
    end--
    padding++
  }
  const len = end - start
  const rem = len % 4
  if (rem === 1) fail("base64 text has an impossible length")
  if (padding > 0 && (rem === 0 || rem + padding !== 4)) fail("base64 padding is malformed")
  // The last character carries 2 (rem 3) or 4 (rem 2) bits that encode nothing: they must be zero.
  if (rem !== 0 && (VALUE[text.charCodeAt(end - 1)]! & (rem === 2 ? 15 : 3)) !== 0)
    fail("base64 has non-zero trailing bits")
  const decoded = Buffer.from(start === 0 && padding === 0 ? text : text.slice(start, end), "base64")
  // A plain Uint8Array view: Buffer's `slice` shares memory, which callers of a Uint8Array do not expect.
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength)
}
