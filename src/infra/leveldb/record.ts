/**
 * The stored form of one event: its bytes are exactly the input of the chain hash followed by the hash.
 *
 * ```
 * "corecashu/event/v1" ‖ prevHash(32) ‖ u64be(len) ‖ fields JSON (len bytes) ‖ payload ‖ hash(32)
 * ```
 *
 * where `fields = [sequence, streamId, streamVersion, eventId, type, schemaVersion, time]` and
 * `hash = SHA256(everything before it)` — byte for byte what {@link computeEventHash} hashes. Why this shape:
 * writing and verifying a record costs one buffer and one one-shot SHA-256, with no re-serialisation, and
 * anyone holding the record can check it against `computeEventHash` without this module.
 *
 * @module
 */
import { hash as oneShotHash } from "node:crypto"
import type { Envelope, StoredEvent } from "../../events/envelope.js"
import { quote } from "../../events/schema-json.js"

const DOMAIN = Buffer.from("corecashu/event/v1", "utf8")
const HASH_LEN = 32
const PREV_AT = DOMAIN.length
const LEN_AT = PREV_AT + HASH_LEN
const FIELDS_AT = LEN_AT + 8
const MIN_RECORD = FIELDS_AT + HASH_LEN

/** The envelope fields a record is built from (everything the writer decides before hashing). */
export type RecordFields = Omit<Envelope, "hash" | "prevHash">

/** SHA-256 as raw bytes. */
export const sha256 = (data: Uint8Array): Buffer => oneShotHash("sha256", data, "buffer") as unknown as Buffer

/**
 * The fields JSON of a record: the text `JSON.stringify([sequence, streamId, streamVersion, eventId, type,
 * schemaVersion, time])` writes (the fields are safe integers and strings), without building the array.
 * `streamText` is `quote(fields.streamId)`, which the caller may have computed once for many records.
 */
export const fieldsText = (fields: RecordFields, streamText = quote(fields.streamId)): string =>
  `[${fields.sequence},${streamText},${fields.streamVersion},${quote(fields.eventId)},${quote(fields.type)},${fields.schemaVersion},${fields.time}]`

/** The size of a record whose fields JSON takes `fieldsBytes` bytes and whose payload `payloadBytes`. */
export const recordSize = (fieldsBytes: number, payloadBytes: number): number =>
  FIELDS_AT + fieldsBytes + payloadBytes + HASH_LEN

/**
 * Writes a record at `at` in `target` (room for {@link recordSize} bytes): its link is the 32 bytes at
 * `prevAt` in `prev` (they may lie in `target`, before `at`), then the fields JSON (`json`, `jsonBytes` bytes
 * of UTF-8), the payload, and its hash. Returns where the hash starts.
 */
export const writeRecord = (
  target: Buffer,
  at: number,
  prev: Uint8Array,
  prevAt: number,
  json: string,
  jsonBytes: number,
  payload: Uint8Array,
): number => {
  const payloadAt = at + FIELDS_AT + jsonBytes
  const hashAt = payloadAt + payload.length
  target.set(DOMAIN, at)
  // A byte loop: a sub-view of `prev` would be one more object per record.
  for (let i = 0; i < HASH_LEN; i++) target[at + PREV_AT + i] = prev[prevAt + i]!
  target.writeUInt32BE(0, at + LEN_AT)
  target.writeUInt32BE(jsonBytes, at + LEN_AT + 4)
  // ASCII text (the usual case: byte length = length) is written as latin1, which is the same bytes.
  target.write(json, at + FIELDS_AT, jsonBytes, jsonBytes === json.length ? "latin1" : "utf8")
  target.set(payload, payloadAt)
  // The digest as hex, written into the record: a one-shot hash into a Buffer allocates native memory per
  // event (GC pressure on the append path).
  target.write(sha256Hex(target.subarray(at, hashAt)), hashAt, HASH_LEN, "hex")
  return hashAt
}

/** Builds a record and returns it with its hash (the last 32 bytes of the record). */
export const encodeRecord = (
  prevHash: Uint8Array,
  fields: RecordFields,
  payload: Uint8Array,
): { readonly record: Buffer; readonly hash: Buffer; readonly payloadAt: number } => {
  const json = fieldsText(fields)
  const len = Buffer.byteLength(json, "utf8")
  const record = Buffer.allocUnsafe(recordSize(len, payload.length))
  const hashAt = writeRecord(record, 0, prevHash, 0, json, len, payload)
  return { record, hash: record.subarray(hashAt), payloadAt: FIELDS_AT + len }
}

/** The public view of a record just built by {@link encodeRecord} (no parsing needed). */
export const storedEventOf = (fields: RecordFields, record: Buffer, payloadAt: number): StoredEvent => ({
  envelope: {
    ...fields,
    prevHash: record.toString("hex", PREV_AT, PREV_AT + HASH_LEN),
    hash: record.toString("hex", record.length - HASH_LEN),
  },
  payload: record.subarray(payloadAt, record.length - HASH_LEN),
})

/** A record split into its parts, without any hash check. */
export interface DecodedRecord {
  readonly fields: RecordFields
  readonly prevHash: Buffer
  readonly hash: Buffer
  readonly payload: Buffer
  /** The bytes the hash covers. */
  readonly hashed: Buffer
}

/**
 * A record located in place: its fields parsed, its parts given as offsets into `bytes` rather than as
 * sub-buffers. Why: the read path walks every record of the log, and each `subarray` is a fresh object; the
 * chain walker needs only offsets to check the link and the hash.
 */
export interface RecordView {
  readonly bytes: Buffer
  readonly fields: RecordFields
  /** Where the payload starts (the fields JSON ends). */
  readonly payloadAt: number
  /** Where the stored hash starts (the payload ends); the hash covers `bytes[0, hashAt)`. */
  readonly hashAt: number
}

/** Offset of the previous hash inside a record. */
export const PREV_HASH_AT = PREV_AT

const isNat = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0

/** `bytes` as a Buffer, without copying (and without a new object when it already is one). */
const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** The fields array through `JSON.parse` (any valid JSON text), or undefined. */
const jsonFields = (b: Buffer, from: number, to: number): unknown[] | undefined => {
  let f: unknown
  try {
    // Not mint input: the fields of a record of our own log.
    // nosemgrep: json-parse-outside-protocol
    f = JSON.parse(b.toString("utf8", from, to))
  } catch {
    return undefined
  }
  return Array.isArray(f) && f.length === 7 ? f : undefined
}

const QUOTE = 0x22
const COMMA = 0x2c

/** A decimal natural number in `b[from, to)` of at most 15 digits (always safe), or -1. */
const natAt = (b: Buffer, from: number, to: number): number => {
  if (to <= from || to - from > 15 || (b[from] === 0x30 && to - from > 1)) return -1
  let n = 0
  for (let i = from; i < to; i++) {
    const d = b[i]! - 0x30
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n
}

/**
 * The fields array as `encodeRecord` writes it for plain-ASCII ids — `[n,"s",n,"s","s",n,n]` with no escape
 * and no byte above 0x7e in the strings — parsed without `JSON.parse`; undefined for anything else (the
 * caller then falls back to {@link jsonFields}, so the result never depends on which path ran). Why: every
 * record of every read goes through here, and the generic parser cost about as much as the hash check.
 */
const fastFields = (b: Buffer, from: number, to: number): unknown[] | undefined => {
  if (b[from] !== 0x5b || b[to - 1] !== 0x5d) return undefined
  const out: unknown[] = new Array(7)
  let at = from + 1
  for (let k = 0; k < 7; k++) {
    const last = k === 6
    if (k === 1 || k === 3 || k === 4) {
      if (b[at] !== QUOTE) return undefined
      const start = at + 1
      let i = start
      for (; i < to; i++) {
        const c = b[i]!
        if (c === QUOTE) break
        if (c < 0x20 || c > 0x7e || c === 0x5c) return undefined
      }
      if (i >= to) return undefined
      out[k] = b.toString("latin1", start, i)
      at = i + 1
    } else {
      let i = at
      while (i < to && b[i] !== COMMA && b[i] !== 0x5d) i++
      const n = natAt(b, at, i)
      if (n < 0) return undefined
      out[k] = n
      at = i
    }
    if (b[at] !== (last ? 0x5d : COMMA)) return undefined
    at++
  }
  return at === to ? out : undefined
}

/** Locates a record's parts and parses its fields; undefined when it is not a well-formed record. */
export const viewRecord = (bytes: Uint8Array): RecordView | undefined => {
  if (bytes.length < MIN_RECORD) return undefined
  const b = asBuffer(bytes)
  for (let i = 0; i < DOMAIN.length; i++) if (b[i] !== DOMAIN[i]) return undefined
  if (b.readUInt32BE(LEN_AT) !== 0) return undefined
  const len = b.readUInt32BE(LEN_AT + 4)
  const payloadAt = FIELDS_AT + len
  const hashAt = b.length - HASH_LEN
  if (payloadAt > hashAt) return undefined
  const fields = fastFields(b, FIELDS_AT, payloadAt) ?? jsonFields(b, FIELDS_AT, payloadAt)
  if (fields === undefined) return undefined
  const [sequence, streamId, streamVersion, eventId, type, schemaVersion, time] = fields
  if (!isNat(sequence) || !isNat(streamVersion) || !isNat(schemaVersion) || !isNat(time)) return undefined
  if (typeof streamId !== "string" || typeof eventId !== "string" || typeof type !== "string")
    return undefined
  return {
    bytes: b,
    fields: { sequence, streamId, streamVersion, eventId, type, schemaVersion, time },
    payloadAt,
    hashAt,
  }
}

/** Splits a record into its parts; undefined when it is not a well-formed record. */
export const decodeRecord = (bytes: Uint8Array): DecodedRecord | undefined => {
  const v = viewRecord(bytes)
  if (v === undefined) return undefined
  const b = v.bytes
  return {
    fields: v.fields,
    prevHash: b.subarray(PREV_AT, PREV_AT + HASH_LEN),
    hash: b.subarray(v.hashAt),
    payload: b.subarray(v.payloadAt, v.hashAt),
    hashed: b.subarray(0, v.hashAt),
  }
}

/** True when the 32 bytes of `hash` equal `bytes[at, at + 32)`. A plain loop: cheaper than a native call here. */
export const hashEqualsAt = (hash: Uint8Array, bytes: Uint8Array, at: number): boolean => {
  if (hash.length !== HASH_LEN || bytes.length < at + HASH_LEN) return false
  for (let i = 0; i < HASH_LEN; i++) if (hash[i] !== bytes[at + i]) return false
  return true
}

/**
 * The SHA-256 of a located record's contents when it matches the stored hash, else undefined. The digest is
 * returned so the caller can keep it as the next record's expected link without slicing the record.
 */
export const verifiedHashOf = (v: RecordView): Buffer | undefined => {
  const digest = sha256(v.bytes.subarray(0, v.hashAt))
  return hashEqualsAt(digest, v.bytes, v.hashAt) ? digest : undefined
}

/** SHA-256 as lowercase hex (one native call; no digest buffer when the hex is what is wanted). */
export const sha256Hex = (data: Uint8Array): string => oneShotHash("sha256", data, "hex")

const HEX_CODES = Uint8Array.from("0123456789abcdef", (c) => c.charCodeAt(0))

/** True when the 64 lowercase hex digits `hex` spell `bytes[at, at + 32)`. */
export const hexEqualsAt = (hex: string, bytes: Uint8Array, at: number): boolean => {
  if (hex.length !== 2 * HASH_LEN || bytes.length < at + HASH_LEN) return false
  for (let i = 0; i < HASH_LEN; i++) {
    const b = bytes[at + i]!
    if (hex.charCodeAt(2 * i) !== HEX_CODES[b >> 4] || hex.charCodeAt(2 * i + 1) !== HEX_CODES[b & 15])
      return false
  }
  return true
}

/**
 * {@link verifiedHashOf} as hex: the record's hash when it matches its contents, else undefined. Readers
 * hand out hex envelopes, so this saves the digest buffer and its conversion on every record read.
 */
export const verifiedHashHexOf = (v: RecordView): string | undefined => {
  const digest = sha256Hex(v.bytes.subarray(0, v.hashAt))
  return hexEqualsAt(digest, v.bytes, v.hashAt) ? digest : undefined
}

/** True when the record's stored hash is the hash of its contents. */
export const recordHashHolds = (r: DecodedRecord): boolean => sha256(r.hashed).equals(r.hash)

/** The public view of a decoded record. */
export const toStoredEvent = (r: DecodedRecord): StoredEvent => ({
  envelope: {
    ...r.fields,
    prevHash: r.prevHash.toString("hex"),
    hash: r.hash.toString("hex"),
  },
  payload: r.payload,
})
