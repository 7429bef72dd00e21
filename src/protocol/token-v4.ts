/**
 * The v4 token body (NUT-00 `cashuB` / `crawB`): a CBOR map `{t, d?, m, u}` read and written by a reader and
 * writer specialised to that shape.
 *
 * Why not the generic {@link decodeCbor}: building a generic value tree and then validating it costs two
 * passes and many short-lived objects; this reader validates while it walks the bytes once and builds the
 * {@link Token} directly, which is what makes decoding several times faster than cashu-ts. It keeps the
 * generic path's guarantees: every length is checked against the bytes actually present before anything is
 * read (nothing is allocated from a declared length), depth and item count are bounded, integers and lengths
 * must be minimally encoded, tags and indefinite lengths are rejected, duplicate and `__proto__` keys are
 * rejected, strings must be valid UTF-8. Unknown fields are ignored as the spec demands, but still validated:
 * their extent is found by a bounded iterative walk and their bytes go through the strict generic decoder.
 *
 * The writer emits maps in the order of the spec's vectors (`t,d,m,u`; `i,p`; `a,s,c,d,w,pe`; `e,s,r`) so
 * that encoding reproduces them byte for byte.
 *
 * @module
 */
import type { DecodeError, Dleq, Proof, Token, TokenEntry } from "../model/index.js"
import { decodeCbor } from "./cbor.js"
import type { TokenLimits } from "./limits.js"
import {
  isKeysetIdLength,
  isPointLength,
  isScalarLength,
  LONE_SURROGATE,
  normaliseMint,
  normaliseProof,
  ProofTally,
  reject,
} from "./token-schema.js"

type MutableProof = { -readonly [K in keyof Proof]: Proof[K] }
type MutableDleq = { -readonly [K in keyof Dleq]: Dleq[K] }

const utf8Fatal = new TextDecoder("utf-8", { fatal: true })
const utf8Encoder = new TextEncoder()

// Single-character map keys by code; `pe` gets a code above the byte range.
const K_T = 0x74
const K_D = 0x64
const K_M = 0x6d
const K_U = 0x75
const K_I = 0x69
const K_P = 0x70
const K_A = 0x61
const K_S = 0x73
const K_C = 0x63
const K_W = 0x77
const K_E = 0x65
const K_R = 0x72
const K_PE = 0x100
const K_OTHER = -1

const MAJOR_UINT = 0
const MAJOR_BYTES = 2
const MAJOR_TEXT = 3
const MAJOR_ARRAY = 4
const MAJOR_MAP = 5
const MAJOR_TAG = 6
const CBOR_NULL = 0xf6

/**
 * Single-pass reader of one v4 token body.
 *
 * Error paths (`t.0.p.3.a`) are assembled only when something fails: the reader tracks the current group
 * (`ti`) and proof (`pi`) and each value reader is handed a constant field name.
 */
class V4Reader {
  pos: number
  items = 0
  /** Major type of the last header read. */
  major = 0
  /** Additional-info bits of the last header read. */
  info = 0
  /** For an 8-byte argument: its high and low 32-bit halves (amounts above 2^53 are rebuilt from them). */
  hi = 0
  lo = 0
  /** Current keyset group and proof index, -1 outside them. */
  ti = -1
  pi = -1
  /** Text of the last key that is not one this reader knows. */
  otherKey = ""
  readonly tally: ProofTally
  /**
   * The same bytes as a Buffer (a view, no copy): its native hex and latin1 slicing is several times faster
   * than building strings in JS, which dominates decoding time.
   */
  readonly nb: Buffer

  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly limits: TokenLimits,
    readonly resolveId: ((id: string) => string) | undefined,
  ) {
    this.pos = start
    this.tally = new ProofTally(limits)
    this.nb = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  }

  /** The dotted path of `field` at the current position (`undefined` field = the container itself). */
  path(field: string | undefined): string | undefined {
    const inner = this.pi >= 0 ? `t.${this.ti}.p.${this.pi}` : this.ti >= 0 ? `t.${this.ti}` : undefined
    if (inner === undefined) return field
    return field === undefined ? inner : `${inner}.${field}`
  }

  fail(reason: DecodeError["reason"], message: string, at: number, field?: string): never {
    return reject(reason, `${message} at byte ${at}`, this.path(field))
  }

  /** The last header was not the type `field` needs: a tag is a CBOR-level rejection, anything else a shape one. */
  wrongType(message: string, at: number, field: string | undefined): never {
    if (this.major === MAJOR_TAG) return this.fail("cbor", "CBOR tags are not accepted", at, field)
    return this.fail("schema", message, at, field)
  }

  /** Reads one item header and returns its argument (lengths/counts/small ints); sets `major` and `info`. */
  head(): number {
    const b = this.b
    const at = this.pos
    if (at >= b.length) this.fail("cbor", "truncated CBOR", at)
    if (++this.items > this.limits.maxItems) this.fail("limit", "too many CBOR items", at)
    const ib = b[at]!
    const major = ib >> 5
    const info = ib & 31
    this.major = major
    this.info = info
    this.pos = at + 1
    if (info < 24) return info
    let value: number
    if (info === 24) {
      if (at + 2 > b.length) this.fail("cbor", "truncated CBOR header", at)
      value = b[at + 1]!
      this.pos = at + 2
      if (value < 24 && major !== 7) this.fail("cbor", "non-minimal CBOR integer", at)
      if (major === 7 && value < 32) this.fail("cbor", "invalid CBOR simple value", at)
    } else if (info === 25) {
      if (at + 3 > b.length) this.fail("cbor", "truncated CBOR header", at)
      value = (b[at + 1]! << 8) | b[at + 2]!
      this.pos = at + 3
      if (value < 0x100 && major !== 7) this.fail("cbor", "non-minimal CBOR integer", at)
    } else if (info === 26) {
      if (at + 5 > b.length) this.fail("cbor", "truncated CBOR header", at)
      value = ((b[at + 1]! << 24) | (b[at + 2]! << 16) | (b[at + 3]! << 8) | b[at + 4]!) >>> 0
      this.pos = at + 5
      if (value < 0x10000 && major !== 7) this.fail("cbor", "non-minimal CBOR integer", at)
    } else if (info === 27) {
      if (at + 9 > b.length) this.fail("cbor", "truncated CBOR header", at)
      const hi = ((b[at + 1]! << 24) | (b[at + 2]! << 16) | (b[at + 3]! << 8) | b[at + 4]!) >>> 0
      const lo = ((b[at + 5]! << 24) | (b[at + 6]! << 16) | (b[at + 7]! << 8) | b[at + 8]!) >>> 0
      this.pos = at + 9
      if (hi === 0 && major !== 7) this.fail("cbor", "non-minimal CBOR integer", at)
      this.hi = hi
      this.lo = lo
      // Above 2^53 the number is inexact; amounts rebuild the exact value from hi/lo, and no length or count
      // that large can be backed by the input, so the bound checks reject it.
      value = hi < 0x200000 ? hi * 0x100000000 + lo : Number.MAX_SAFE_INTEGER
    } else if (info === 31) {
      return this.fail("cbor", "indefinite-length CBOR is not accepted", at)
    } else {
      return this.fail("cbor", "reserved CBOR additional info", at)
    }
    return value
  }

  /** Consumes a CBOR `null` if one is next (optional fields written as null by some wallets). */
  skipNull(): boolean {
    if (this.b[this.pos] !== CBOR_NULL) return false
    if (++this.items > this.limits.maxItems) this.fail("limit", "too many CBOR items", this.pos)
    this.pos++
    return true
  }

  container(major: number, depth: number, what: string, field: string | undefined): number {
    const at = this.pos
    const n = this.head()
    if (this.major !== major)
      this.wrongType(`${what} must be a CBOR ${major === MAJOR_MAP ? "map" : "array"}`, at, field)
    if (depth > this.limits.maxDepth) this.fail("depth", "CBOR nested too deeply", at, field)
    // Every item takes at least one byte: a count larger than what is left is a lie.
    if ((major === MAJOR_MAP ? n * 2 : n) > this.b.length - this.pos)
      this.fail("cbor", "CBOR container longer than the input", at, field)
    return n
  }

  /** Reads a text string of at most `max` UTF-8 bytes. */
  text(max: number, field: string): string {
    const at = this.pos
    const len = this.head()
    if (this.major !== MAJOR_TEXT) this.wrongType(`${field} must be a text string`, at, field)
    if (len > max) this.fail("limit", `${field} is too long`, at, field)
    const start = this.pos
    const end = start + len
    if (end > this.b.length) this.fail("cbor", "CBOR string runs past the input", at, field)
    this.pos = end
    return this.utf8(start, end, at, field)
  }

  utf8(start: number, end: number, at: number, field: string | undefined): string {
    const b = this.b
    let k = start
    while (k < end && b[k]! < 0x80) k++
    // ASCII (hex secrets, URLs, units) is by far the common case; latin1 decoding of ASCII is an exact copy.
    if (k === end) return this.nb.toString("latin1", start, end)
    try {
      return utf8Fatal.decode(b.subarray(start, end))
    } catch {
      return this.fail("cbor", "text is not valid UTF-8", at, field)
    }
  }

  /** Reads a byte string of an accepted length and returns it as lowercase hex. */
  hex(accepts: (bytes: number) => boolean, field: string): string {
    const at = this.pos
    const len = this.head()
    if (this.major !== MAJOR_BYTES) this.wrongType(`${field} must be a byte string`, at, field)
    if (!accepts(len)) this.fail("schema", `${field} has the wrong length`, at, field)
    const start = this.pos
    const end = start + len
    if (end > this.b.length) this.fail("cbor", "CBOR byte string runs past the input", at, field)
    this.pos = end
    return this.nb.toString("hex", start, end)
  }

  amount(): bigint {
    const at = this.pos
    const v = this.head()
    if (this.major !== MAJOR_UINT) this.fail("amount", "amount must be a non-negative integer", at, "a")
    if (this.info === 27 && this.hi >= 0x200000) return (BigInt(this.hi) << 32n) | BigInt(this.lo)
    return BigInt(v)
  }

  /** Reads a map key; returns its code (K_*), or K_OTHER with the key text in `otherKey`. */
  key(): number {
    const at = this.pos
    const len = this.head()
    if (this.major !== MAJOR_TEXT) this.wrongType("map keys must be text strings", at, undefined)
    const start = this.pos
    const end = start + len
    if (len > this.limits.maxStringLength) this.fail("limit", "map key is too long", at)
    if (end > this.b.length) this.fail("cbor", "CBOR string runs past the input", at)
    this.pos = end
    const b = this.b
    if (len === 1 && b[start]! < 0x80) return b[start]!
    if (len === 2 && b[start] === 0x70 && b[start + 1] === 0x65) return K_PE
    const text = this.utf8(start, end, at, undefined)
    if (text === "__proto__") this.fail("forbidden-key", "forbidden map key __proto__", at)
    this.otherKey = text
    return K_OTHER
  }

  /** Marks key `bit` as seen in `seen`, failing on a repeat. */
  once(seen: number, bit: number, at: number): number {
    if ((seen & bit) !== 0) this.fail("duplicate", "duplicate map key", at)
    return seen | bit
  }

  /**
   * Skips (and validates) the value of a key this reader does not know. `others` collects the names of such
   * keys in the current map so repeats are caught too.
   */
  unknown(code: number, others: Set<string> | undefined, depth: number, at: number): Set<string> {
    const name = code === K_OTHER ? this.otherKey : code === K_PE ? "pe" : String.fromCharCode(code)
    const set = others ?? new Set<string>()
    if (set.has(name)) this.fail("duplicate", "duplicate map key", at)
    set.add(name)
    this.skip(depth)
    return set
  }

  /**
   * Walks over one value without recursion (depth bounded by the stack of open containers), then hands its
   * bytes to the strict generic decoder so unknown content meets the same rules as known content.
   */
  skip(depth: number): void {
    const start = this.pos
    const b = this.b
    const limits = this.limits
    const open: number[] = []
    for (;;) {
      const at = this.pos
      const v = this.head()
      switch (this.major) {
        case MAJOR_BYTES:
        case MAJOR_TEXT:
          if (v > limits.maxStringLength) this.fail("limit", "CBOR string too long", at)
          if (this.pos + v > b.length) this.fail("cbor", "CBOR string runs past the input", at)
          this.pos += v
          break
        case MAJOR_ARRAY:
        case MAJOR_MAP: {
          const count = this.major === MAJOR_MAP ? v * 2 : v
          if (count > b.length - this.pos) this.fail("cbor", "CBOR container longer than the input", at)
          if (depth + open.length + 1 > limits.maxDepth) this.fail("depth", "CBOR nested too deeply", at)
          if (count > 0) {
            open.push(count)
            continue
          }
          break
        }
        case MAJOR_TAG:
          this.fail("cbor", "CBOR tags are not accepted", at)
          break
        default:
          break // integers, simple values and floats: the header was the whole item
      }
      // Close every container whose last item this was.
      let top = open.length - 1
      while (top >= 0 && --open[top]! === 0) {
        open.pop()
        top--
      }
      if (top < 0) break
    }
    try {
      decodeCbor(b.subarray(start, this.pos), {
        ...limits,
        maxDepth: Math.max(1, limits.maxDepth - depth),
      })
    } catch (e) {
      // Same reason, but with this token's path and offset.
      const reason = e instanceof Object && "reason" in e ? (e.reason as DecodeError["reason"]) : "cbor"
      this.fail(reason, "invalid value under an unknown key", start)
    }
  }

  dleq(depth: number): Dleq {
    const n = this.container(MAJOR_MAP, depth, "dleq", "d")
    let seen = 0
    let others: Set<string> | undefined
    let e: string | undefined
    let s: string | undefined
    let r: string | undefined
    for (let k = 0; k < n; k++) {
      const at = this.pos
      const code = this.key()
      switch (code) {
        case K_E:
          seen = this.once(seen, 1, at)
          e = this.hex(isScalarLength, "d.e")
          break
        case K_S:
          seen = this.once(seen, 2, at)
          s = this.hex(isScalarLength, "d.s")
          break
        case K_R:
          seen = this.once(seen, 4, at)
          if (!this.skipNull()) r = this.hex(isScalarLength, "d.r")
          break
        default:
          others = this.unknown(code, others, depth, at)
      }
    }
    if (e === undefined || s === undefined) return reject("schema", "dleq needs e and s", this.path("d"))
    const out: MutableDleq = { e, s }
    if (r !== undefined) out.r = r
    return out
  }

  proof(id: string, depth: number): MutableProof {
    const n = this.container(MAJOR_MAP, depth, "proof", undefined)
    let seen = 0
    let others: Set<string> | undefined
    let amount: bigint | undefined
    let secret: string | undefined
    let secretBytes = 0
    let C: string | undefined
    let dleq: Dleq | undefined
    let witness: string | undefined
    let pe: string | undefined
    const limits = this.limits
    for (let k = 0; k < n; k++) {
      const at = this.pos
      const code = this.key()
      switch (code) {
        case K_A:
          seen = this.once(seen, 1, at)
          amount = this.amount()
          break
        case K_S: {
          seen = this.once(seen, 2, at)
          const before = this.pos
          secret = this.text(limits.maxSecretLength, "s")
          secretBytes = this.pos - before
          break
        }
        case K_C:
          seen = this.once(seen, 4, at)
          C = this.hex(isPointLength, "c")
          break
        case K_D:
          seen = this.once(seen, 8, at)
          if (!this.skipNull()) dleq = this.dleq(depth + 1)
          break
        case K_W:
          seen = this.once(seen, 16, at)
          if (!this.skipNull()) witness = this.text(limits.maxStringLength, "w")
          break
        case K_PE:
          seen = this.once(seen, 32, at)
          if (!this.skipNull()) pe = this.hex(isPointLength, "pe")
          break
        default:
          others = this.unknown(code, others, depth, at)
      }
    }
    if (amount === undefined || secret === undefined || C === undefined)
      return reject("schema", "proof needs a, s and c", this.path(undefined))
    const problem = this.tally.add(secret, secretBytes)
    if (problem !== undefined) reject(problem.reason, problem.message, this.path("s"))
    const proof: MutableProof = { amount, id, secret, C }
    if (dleq !== undefined) proof.dleq = dleq
    if (witness !== undefined) proof.witness = witness
    if (pe !== undefined) proof.p2pk_e = pe
    return proof
  }

  /** One `{i, p}` group; appends its proofs to `out`. */
  entry(depth: number, out: Proof[]): void {
    const n = this.container(MAJOR_MAP, depth, "keyset group", undefined)
    let seen = 0
    let others: Set<string> | undefined
    let id = ""
    const first = out.length
    for (let k = 0; k < n; k++) {
      const at = this.pos
      const code = this.key()
      switch (code) {
        case K_I:
          seen = this.once(seen, 1, at)
          id = this.hex(isKeysetIdLength, "i")
          if (this.resolveId !== undefined) id = this.resolveId(id)
          // Keys may come in any order: proofs read before `i` get their id now.
          for (let j = first; j < out.length; j++) (out[j] as MutableProof).id = id
          break
        case K_P: {
          seen = this.once(seen, 2, at)
          const count = this.container(MAJOR_ARRAY, depth + 1, "proofs", "p")
          if (count === 0) this.fail("schema", "keyset group has no proofs", at, "p")
          for (let pi = 0; pi < count; pi++) {
            this.pi = pi
            out.push(this.proof(id, depth + 2))
          }
          this.pi = -1
          break
        }
        default:
          others = this.unknown(code, others, depth, at)
      }
    }
    if (seen !== 3) reject("schema", "keyset group needs i and p", this.path(undefined))
  }

  token(): Token {
    const n = this.container(MAJOR_MAP, 1, "token", undefined)
    let seen = 0
    let others: Set<string> | undefined
    const proofs: Proof[] = []
    let mint: string | undefined
    let unit: string | undefined
    let memo: string | undefined
    const limits = this.limits
    for (let k = 0; k < n; k++) {
      const at = this.pos
      const code = this.key()
      switch (code) {
        case K_T: {
          seen = this.once(seen, 1, at)
          const count = this.container(MAJOR_ARRAY, 2, "t", "t")
          if (count === 0) this.fail("schema", "token has no keyset groups", at, "t")
          if (count > limits.maxEntries) this.fail("limit", "token has too many keyset groups", at, "t")
          for (let ti = 0; ti < count; ti++) {
            this.ti = ti
            this.entry(3, proofs)
          }
          this.ti = -1
          break
        }
        case K_D:
          seen = this.once(seen, 2, at)
          if (!this.skipNull()) memo = this.text(limits.maxStringLength, "d")
          break
        case K_M:
          seen = this.once(seen, 4, at)
          mint = this.text(limits.maxStringLength, "m")
          break
        case K_U:
          seen = this.once(seen, 8, at)
          unit = this.text(limits.maxStringLength, "u")
          break
        default:
          others = this.unknown(code, others, 1, at)
      }
    }
    if (this.pos !== this.b.length) this.fail("cbor", "trailing bytes after the token", this.pos)
    if ((seen & 1) === 0) return reject("schema", "token needs t", "t")
    if (mint === undefined) return reject("schema", "token needs a mint (m)", "m")
    if (unit === undefined) return reject("schema", "token needs a unit (u)", "u")
    const normalised = normaliseMint(mint)
    if (normalised.length === 0) return reject("schema", "mint must not be empty", "m")
    const token: { -readonly [K in keyof Token]: Token[K] } = {
      version: 4,
      entries: [{ mint: normalised, proofs }],
      unit,
    }
    if (memo !== undefined) token.memo = memo
    return token
  }
}

/**
 * Decodes a v4 token body (the CBOR after `cashuB` / `crawB`) starting at byte `start` of `bytes`. When
 * `resolveId` is given it maps each group's keyset id (once per group, not per proof) — the short-id resolver.
 *
 * @throws {DecodeError}
 */
export const decodeV4Body = (
  bytes: Uint8Array,
  start: number,
  limits: TokenLimits,
  resolveId?: (id: string) => string,
): Token => {
  if (bytes.length - start > limits.maxBytes) reject("too-large", "token is too large")
  return new V4Reader(bytes, start, limits, resolveId).token()
}

/** Growable output buffer for the writer. */
class V4Writer {
  buf: Uint8Array
  pos = 0
  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity)
  }

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }

  head(major: number, value: number): void {
    this.reserve(9)
    const buf = this.buf
    const m = major << 5
    if (value < 24) buf[this.pos++] = m | value
    else if (value < 0x100) {
      buf[this.pos++] = m | 24
      buf[this.pos++] = value
    } else if (value < 0x10000) {
      buf[this.pos++] = m | 25
      buf[this.pos++] = value >>> 8
      buf[this.pos++] = value & 255
    } else if (value < 0x100000000) {
      buf[this.pos++] = m | 26
      buf[this.pos++] = value >>> 24
      buf[this.pos++] = (value >>> 16) & 255
      buf[this.pos++] = (value >>> 8) & 255
      buf[this.pos++] = value & 255
    } else this.head64(m, BigInt(value))
  }

  head64(m: number, value: bigint): void {
    this.reserve(9)
    const hi = Number(value >> 32n)
    const lo = Number(value & 0xffffffffn)
    const buf = this.buf
    buf[this.pos++] = m | 27
    buf[this.pos++] = hi >>> 24
    buf[this.pos++] = (hi >>> 16) & 255
    buf[this.pos++] = (hi >>> 8) & 255
    buf[this.pos++] = hi & 255
    buf[this.pos++] = lo >>> 24
    buf[this.pos++] = (lo >>> 16) & 255
    buf[this.pos++] = (lo >>> 8) & 255
    buf[this.pos++] = lo & 255
  }

  amount(a: bigint): void {
    if (a < 0x100000000n) this.head(MAJOR_UINT, Number(a))
    else this.head64(MAJOR_UINT << 5, a)
  }

  /** A one- or two-character ASCII key. */
  key(name: string): void {
    this.reserve(3)
    this.buf[this.pos++] = 0x60 | name.length
    for (let i = 0; i < name.length; i++) this.buf[this.pos++] = name.charCodeAt(i)
  }

  text(s: string): void {
    let ascii = true
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        ascii = false
        break
      }
    }
    if (ascii) {
      this.head(MAJOR_TEXT, s.length)
      this.reserve(s.length)
      const buf = this.buf
      let p = this.pos
      for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i)
      this.pos = p
      return
    }
    // Callers have refused lone surrogates (TextEncoder would silently turn them into U+FFFD).
    const bytes = utf8Encoder.encode(s)
    this.head(MAJOR_TEXT, bytes.length)
    this.reserve(bytes.length)
    this.buf.set(bytes, this.pos)
    this.pos += bytes.length
  }

  /** Writes validated lowercase hex as a byte string. */
  hexBytes(hex: string): void {
    const n = hex.length >>> 1
    this.head(MAJOR_BYTES, n)
    this.reserve(n)
    const buf = this.buf
    let p = this.pos
    for (let i = 0; i < hex.length; i += 2) {
      const h = hex.charCodeAt(i)
      const l = hex.charCodeAt(i + 1)
      buf[p++] = ((h > 57 ? h - 87 : h - 48) << 4) | (l > 57 ? l - 87 : l - 48)
    }
    this.pos = p
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }
}

/**
 * Encodes a token's single entry as a v4 CBOR body, grouping proofs by keyset id in order of first
 * appearance. Validates everything before writing (amounts, hex fields, secrets, duplicates) so it never
 * produces a token the decoder would reject for its shape. Ids are written exactly as given: 8 bytes stay
 * short, 33 bytes stay full. A missing unit is written as `sat` (the field is required on the wire).
 *
 * @throws {DecodeError} reason `version` when the token does not have exactly one mint entry.
 */
export const encodeV4Body = (token: Token, limits: TokenLimits): Uint8Array => {
  if (typeof token !== "object" || token === null) return reject("schema", "token must be an object")
  const entries = token.entries
  if (!Array.isArray(entries) || entries.length !== 1)
    return reject("version", "a v4 token carries exactly one mint entry", "entries")
  const entry = entries[0] as TokenEntry
  if (typeof entry !== "object" || entry === null)
    return reject("schema", "entry must be an object", "entries.0")
  if (typeof entry.mint !== "string" || LONE_SURROGATE.test(entry.mint))
    return reject("schema", "mint must be a well-formed string", "mint")
  const mint = normaliseMint(entry.mint)
  if (mint.length === 0) return reject("schema", "mint must not be empty", "mint")
  const proofs = entry.proofs
  if (!Array.isArray(proofs) || proofs.length === 0) return reject("schema", "token has no proofs", "proofs")
  const unit = token.unit ?? "sat"
  if (typeof unit !== "string" || LONE_SURROGATE.test(unit))
    return reject("schema", "unit must be a well-formed string", "unit")
  const memo = token.memo
  if (memo !== undefined && (typeof memo !== "string" || LONE_SURROGATE.test(memo)))
    return reject("schema", "memo must be a well-formed string", "memo")

  const tally = new ProofTally({ ...limits, maxProofs: Number.MAX_SAFE_INTEGER })
  const groups = new Map<string, Proof[]>()
  for (let i = 0; i < proofs.length; i++) {
    const p = normaliseProof(proofs[i], () => `proofs.${i}`, tally)
    const group = groups.get(p.id)
    if (group === undefined) groups.set(p.id, [p])
    else group.push(p)
  }
  if (groups.size > limits.maxEntries) reject("limit", "token has too many keyset groups", "proofs")

  const w = new V4Writer(128 + proofs.length * 256)
  w.head(MAJOR_MAP, memo === undefined ? 3 : 4)
  w.key("t")
  w.head(MAJOR_ARRAY, groups.size)
  for (const [id, group] of groups) {
    w.head(MAJOR_MAP, 2)
    w.key("i")
    w.hexBytes(id)
    w.key("p")
    w.head(MAJOR_ARRAY, group.length)
    for (const p of group) {
      const { dleq, witness, p2pk_e: pe } = p
      w.head(
        MAJOR_MAP,
        3 + (dleq === undefined ? 0 : 1) + (witness === undefined ? 0 : 1) + (pe === undefined ? 0 : 1),
      )
      w.key("a")
      w.amount(p.amount)
      w.key("s")
      w.text(p.secret)
      w.key("c")
      w.hexBytes(p.C)
      if (dleq !== undefined) {
        w.key("d")
        w.head(MAJOR_MAP, dleq.r === undefined ? 2 : 3)
        w.key("e")
        w.hexBytes(dleq.e)
        w.key("s")
        w.hexBytes(dleq.s)
        if (dleq.r !== undefined) {
          w.key("r")
          w.hexBytes(dleq.r)
        }
      }
      if (witness !== undefined) {
        w.key("w")
        w.text(witness)
      }
      if (pe !== undefined) {
        w.key("pe")
        w.hexBytes(pe)
      }
    }
  }
  if (memo !== undefined) {
    w.key("d")
    w.text(memo)
  }
  w.key("m")
  w.text(mint)
  w.key("u")
  w.text(unit)
  return w.result()
}
