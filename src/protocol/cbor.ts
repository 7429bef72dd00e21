/**
 * Bounded CBOR decoding for untrusted bytes (v4 tokens, payment requests).
 *
 * `cborg` is strict but recursive: 100k nested arrays overflow the stack, and objects built from maps would
 * honour a `__proto__` key. So a small iterative pre-scan walks the item headers first — bounding depth,
 * item count, string length and every declared length against the bytes actually present (nothing is ever
 * allocated from a declared length) — and only then hands the bytes to `cborg`. Failures are tagged
 * {@link DecodeError}s with reason `cbor`, `depth`, `limit` or `forbidden-key`.
 *
 * @module
 */
import { decode as cborgDecode, encode as cborgEncode } from "cborg"
import { DecodeError } from "../model/index.js"
import { DEFAULT_LIMITS, type InputLimits } from "./limits.js"

const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f] // "__proto__"

const bad = (reason: DecodeError["reason"], message: string, at: number): never => {
  throw new DecodeError({ reason, message: `${message} at byte ${at}` })
}

/**
 * Walks the CBOR item headers of `b` without building values. Rejects indefinite lengths, tags, reserved
 * additional-info values, truncated input, trailing bytes and `__proto__` map keys.
 */
export const scanCbor = (b: Uint8Array, limits: InputLimits = DEFAULT_LIMITS): void => {
  if (b.length > limits.maxBytes) bad("too-large", "CBOR input too large", 0)
  // Each open container: items still expected, and whether it is a map (keys at even remaining counts).
  const remaining: number[] = []
  const isMap: boolean[] = []
  let pos = 0
  let items = 0
  let done = false
  while (!done) {
    if (pos >= b.length) bad("cbor", "truncated CBOR", pos)
    const at = pos
    const ib = b[pos++]!
    const major = ib >> 5
    const info = ib & 31
    let value = 0
    if (info < 24) value = info
    else if (info <= 27) {
      const n = 1 << (info - 24)
      if (pos + n > b.length) bad("cbor", "truncated CBOR header", at)
      if (n === 8) {
        const hi = (b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!
        const lo = ((b[pos + 4]! << 24) | (b[pos + 5]! << 16) | (b[pos + 6]! << 8) | b[pos + 7]!) >>> 0
        // Lengths/counts this large can never be backed by the input; integers are range-checked later.
        value = hi === 0 ? lo : Number.MAX_SAFE_INTEGER
      } else {
        value = 0
        for (let k = 0; k < n; k++) value = value * 256 + b[pos + k]!
      }
      pos += n
    } else if (info === 31) bad("cbor", "indefinite-length CBOR is not accepted", at)
    else bad("cbor", "reserved CBOR additional info", at)

    if (++items > limits.maxItems) bad("limit", "too many CBOR items", at)
    const depth = remaining.length
    const keyPosition = depth > 0 && isMap[depth - 1] === true && remaining[depth - 1]! % 2 === 0

    let opened = false
    switch (major) {
      case 0:
      case 1:
        break
      case 2:
      case 3:
        if (value > limits.maxStringLength) bad("limit", "CBOR string too long", at)
        if (pos + value > b.length) bad("cbor", "CBOR string runs past the input", at)
        if (keyPosition && major === 3 && value === PROTO.length) {
          let same = true
          for (let k = 0; k < value; k++) if (b[pos + k] !== PROTO[k]) same = false
          if (same) bad("forbidden-key", "forbidden map key __proto__", at)
        }
        pos += value
        break
      case 4:
      case 5: {
        const count = major === 5 ? value * 2 : value
        // Every item takes at least one byte: a count larger than what is left is a lie.
        if (count > b.length - pos) bad("cbor", "CBOR container longer than the input", at)
        if (depth + 1 > limits.maxDepth) bad("depth", "CBOR nested too deeply", at)
        if (count > 0) {
          remaining.push(count)
          isMap.push(major === 5)
          opened = true
        }
        break
      }
      case 6:
        bad("cbor", "CBOR tags are not accepted", at)
        break
      default:
        // Major 7: simple values and floats. 23 = undefined is rejected by cborg below.
        if (info === 24 && pos > b.length) bad("cbor", "truncated simple value", at)
        break
    }
    if (opened) continue
    // Close every container whose last item this was.
    for (;;) {
      if (remaining.length === 0) {
        done = true
        break
      }
      const top = remaining.length - 1
      remaining[top]!--
      if (remaining[top]! > 0) break
      remaining.pop()
      isMap.pop()
    }
  }
  if (pos !== b.length) bad("cbor", "trailing bytes after CBOR item", pos)
}

/** Per-call relaxations of {@link decodeCbor}'s strictness. */
export interface CborDecodeOptions {
  /**
   * Accept the CBOR `undefined` simple value (0xf7). Off by default; NUT-18 payment requests written by some
   * encoders (and two spec vectors) carry `"g": undefined` for an absent field.
   */
  readonly allowUndefined?: boolean
}

/**
 * Decodes untrusted CBOR within `limits`: integers beyond 2^53 come back as `bigint`, byte strings as
 * `Uint8Array`, maps as plain objects with string keys. Duplicate keys, undefined (unless
 * `options.allowUndefined`), indefinite lengths and tags are rejected.
 *
 * @throws {DecodeError}
 */
export const decodeCbor = (
  bytes: Uint8Array,
  limits: InputLimits = DEFAULT_LIMITS,
  options: CborDecodeOptions = {},
): unknown => {
  scanCbor(bytes, limits)
  try {
    return cborgDecode(bytes, {
      strict: true,
      allowIndefinite: false,
      allowUndefined: options.allowUndefined === true,
      allowInfinity: false,
      allowNaN: false,
      allowBigInt: true,
      rejectDuplicateMapKeys: true,
      useMaps: false,
    })
  } catch (e) {
    const text = e instanceof Error ? e.message : "invalid CBOR"
    throw new DecodeError({
      reason: /duplicate|repeat map key/.test(text) ? "duplicate" : "cbor",
      message: `CBOR: ${text.slice(0, 120)}`,
    })
  }
}

/**
 * Encodes `value` as CBOR keeping map keys in insertion order (the NUT-00 v4 vectors are written that way;
 * RFC 8949 canonical sorting gives different bytes).
 */
export const encodeCbor = (value: unknown): Uint8Array => cborgEncode(value, { mapSorter: () => 0 })
