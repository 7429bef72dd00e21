/**
 * A strict, bounded JSON parser for untrusted text (mint responses, v3 tokens, witnesses).
 *
 * Why not `JSON.parse`: it silently rounds integers above 2^53 (amounts go to 2^64−1), keeps the last of
 * duplicate keys, accepts `__proto__` keys, and recurses without a depth bound. This parser returns integer
 * literals that do not fit a safe JS number as `bigint` (so amounts parse exactly), rejects duplicate and
 * `__proto__` keys, bounds depth, size, item count, integer and string length, and fails only with a tagged
 * {@link DecodeError}.
 *
 * @module
 */
import { DecodeError } from "../model/index.js"
import { DEFAULT_LIMITS, type InputLimits } from "./limits.js"

/** A parsed JSON value. Integer literals beyond ±2^53 come back as `bigint`. */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue }

const fail = (reason: DecodeError["reason"], message: string, at: number): never => {
  throw new DecodeError({ reason, message: `${message} at offset ${at}` })
}

/** Options for {@link parseJson}. */
export interface JsonOptions {
  /**
   * Reject number literals with a fraction or exponent (reason `amount`), even integral ones like `1.0` or
   * `1e3`, which would otherwise come back as integers. For documents whose only numbers are amounts (v3
   * tokens).
   */
  readonly integersOnly?: boolean
}

class Parser {
  i = 0
  items = 0
  constructor(
    readonly s: string,
    readonly limits: InputLimits,
    readonly integersOnly: boolean,
  ) {}

  ws(): void {
    const s = this.s
    let i = this.i
    for (;;) {
      const c = s.charCodeAt(i)
      if (c === 32 || c === 10 || c === 13 || c === 9) i++
      else break
    }
    this.i = i
  }

  count(): void {
    if (++this.items > this.limits.maxItems) fail("limit", "too many JSON values", this.i)
  }

  value(depth: number): JsonValue {
    this.ws()
    this.count()
    const c = this.s.charCodeAt(this.i)
    switch (c) {
      case 123: // {
        return this.object(depth + 1)
      case 91: // [
        return this.array(depth + 1)
      case 34: // "
        return this.string()
      case 116: // t
        return this.literal("true", true)
      case 102: // f
        return this.literal("false", false)
      case 110: // n
        return this.literal("null", null)
      default:
        if (c === 45 || (c >= 48 && c <= 57)) return this.number()
        return fail(
          "json",
          this.i >= this.s.length ? "unexpected end of JSON" : "unexpected character",
          this.i,
        )
    }
  }

  literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) fail("json", "invalid literal", this.i)
    this.i += word.length
    return v
  }

  object(depth: number): { [key: string]: JsonValue } {
    if (depth > this.limits.maxDepth) fail("depth", "JSON nested too deeply", this.i)
    this.i++ // {
    const out: { [key: string]: JsonValue } = {}
    this.ws()
    if (this.s.charCodeAt(this.i) === 125) {
      this.i++
      return out
    }
    for (;;) {
      this.ws()
      if (this.s.charCodeAt(this.i) !== 34) fail("json", "expected a string key", this.i)
      const keyAt = this.i
      const key = this.string()
      if (key === "__proto__") fail("forbidden-key", "forbidden key __proto__", keyAt)
      if (Object.hasOwn(out, key)) fail("duplicate", "duplicate JSON key", keyAt)
      this.ws()
      if (this.s.charCodeAt(this.i) !== 58) fail("json", "expected ':'", this.i)
      this.i++
      out[key] = this.value(depth)
      this.ws()
      const c = this.s.charCodeAt(this.i)
      if (c === 44) {
        this.i++
        continue
      }
      if (c === 125) {
        this.i++
        return out
      }
      return fail("json", "expected ',' or '}'", this.i)
    }
  }

  array(depth: number): JsonValue[] {
    if (depth > this.limits.maxDepth) fail("depth", "JSON nested too deeply", this.i)
    this.i++ // [
    const out: JsonValue[] = []
    this.ws()
    if (this.s.charCodeAt(this.i) === 93) {
      this.i++
      return out
    }
    for (;;) {
      out.push(this.value(depth))
      this.ws()
      const c = this.s.charCodeAt(this.i)
      if (c === 44) {
        this.i++
        continue
      }
      if (c === 93) {
        this.i++
        return out
      }
      return fail("json", "expected ',' or ']'", this.i)
    }
  }

  string(): string {
    const s = this.s
    const start = ++this.i
    // Fast path: no escapes.
    let i = start
    for (;;) {
      const c = s.charCodeAt(i)
      if (c === 34) break
      if (c === 92 || Number.isNaN(c)) return this.slowString(start)
      if (c < 32) fail("json", "control character in string", i)
      i++
    }
    if (i - start > this.limits.maxStringLength) fail("limit", "JSON string too long", start)
    this.i = i + 1
    return s.slice(start, i)
  }

  slowString(start: number): string {
    const s = this.s
    let i = start
    let out = ""
    let chunk = start
    for (;;) {
      if (i >= s.length) fail("json", "unterminated string", start)
      const c = s.charCodeAt(i)
      if (c === 34) break
      if (c < 32) fail("json", "control character in string", i)
      if (c === 92) {
        out += s.slice(chunk, i)
        const e = s.charCodeAt(i + 1)
        switch (e) {
          case 34:
            out += '"'
            break
          case 92:
            out += "\\"
            break
          case 47:
            out += "/"
            break
          case 98:
            out += "\b"
            break
          case 102:
            out += "\f"
            break
          case 110:
            out += "\n"
            break
          case 114:
            out += "\r"
            break
          case 116:
            out += "\t"
            break
          case 117: {
            const hex = s.slice(i + 2, i + 6)
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("json", "invalid \\u escape", i)
            out += String.fromCharCode(Number.parseInt(hex, 16))
            i += 4
            break
          }
          default:
            fail("json", "invalid escape", i)
        }
        i += 2
        chunk = i
        if (out.length > this.limits.maxStringLength) fail("limit", "JSON string too long", start)
        continue
      }
      i++
    }
    out += s.slice(chunk, i)
    if (out.length > this.limits.maxStringLength) fail("limit", "JSON string too long", start)
    this.i = i + 1
    return out
  }

  number(): number | bigint {
    const s = this.s
    const start = this.i
    let i = start
    if (s.charCodeAt(i) === 45) i++
    const intStart = i
    if (s.charCodeAt(i) === 48) i++
    else {
      if (!(s.charCodeAt(i) >= 49 && s.charCodeAt(i) <= 57)) fail("json", "invalid number", i)
      while (s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++
    }
    const intDigits = i - intStart
    let integer = true
    if (s.charCodeAt(i) === 46) {
      integer = false
      i++
      if (!(s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57)) fail("json", "invalid fraction", i)
      while (s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++
    }
    const e = s.charCodeAt(i)
    if (e === 101 || e === 69) {
      integer = false
      i++
      const sign = s.charCodeAt(i)
      if (sign === 43 || sign === 45) i++
      if (!(s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57)) fail("json", "invalid exponent", i)
      while (s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++
    }
    if (i - start > 64 || intDigits > this.limits.maxIntegerDigits)
      fail("limit", "number literal too long", start)
    this.i = i
    const text = s.slice(start, i)
    if (integer) {
      const n = Number(text)
      return Number.isSafeInteger(n) ? n : BigInt(text)
    }
    if (this.integersOnly) fail("amount", "number literal with a fraction or exponent", start)
    // Fractions and exponents stay numbers; amount schemas reject them.
    return Number(text)
  }
}

/**
 * Parses untrusted JSON text within `limits`.
 *
 * @throws {DecodeError} on malformed JSON, a limit exceeded, a duplicate or `__proto__` key.
 */
export const parseJson = (
  text: string,
  limits: InputLimits = DEFAULT_LIMITS,
  options: JsonOptions = {},
): JsonValue => {
  if (text.length > limits.maxBytes)
    throw new DecodeError({ reason: "too-large", message: "JSON input too large" })
  const p = new Parser(text, limits, options.integersOnly === true)
  const v = p.value(0)
  p.ws()
  if (p.i !== text.length) fail("json", "trailing characters after JSON", p.i)
  return v
}

/**
 * Serialises a value to JSON, writing `bigint`s as bare integer literals (exact), the inverse of
 * {@link parseJson} for the values it produces.
 */
export const stringifyJson = (value: unknown): string => {
  const out: string[] = []
  const write = (v: unknown): void => {
    if (v === null) out.push("null")
    else if (typeof v === "bigint") out.push(v.toString())
    else if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new DecodeError({ reason: "json", message: "non-finite number in JSON" })
      out.push(String(v))
    } else if (typeof v === "string" || typeof v === "boolean") out.push(JSON.stringify(v))
    else if (Array.isArray(v)) {
      out.push("[")
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out.push(",")
        write(v[i] === undefined ? null : v[i])
      }
      out.push("]")
    } else if (typeof v === "object") {
      out.push("{")
      let first = true
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (x === undefined) continue
        if (!first) out.push(",")
        first = false
        out.push(JSON.stringify(k), ":")
        write(x)
      }
      out.push("}")
    } else throw new DecodeError({ reason: "json", message: `cannot serialise ${typeof v} to JSON` })
  }
  write(value)
  return out.join("")
}
