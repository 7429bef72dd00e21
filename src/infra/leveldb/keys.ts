/**
 * Key layout of the LevelDB event store. Every key and value is raw bytes (`view` encoding); the first key
 * byte names the key space, so each space is one contiguous range that can be scanned or counted alone.
 *
 * | key                                              | value                                     |
 * |--------------------------------------------------|-------------------------------------------|
 * | `s` ‖ u64be(sequence)                            | the event record (see `record.ts`)        |
 * | `v` ‖ u16be(len) ‖ streamId ‖ u32be(firstVersion) | u64be(firstSequence) ‖ u32be(count)       |
 * | `i` ‖ u64be(firstSequence)                       | per event: u32be h1 ‖ u32be h2 of its id  |
 * | `m` ‖ `head`                                     | u64be(sequence) ‖ hash(32): last batch    |
 * | `m` ‖ `format`                                   | utf8 format tag                           |
 * | `m` ‖ `vault`                                    | vault material (clear JSON) or `none`     |
 *
 * Why one `v` entry per append rather than per event: the events of one append are consecutive in the
 * global order (they are sequenced together), so a run `(firstSequence, count)` indexes them all with one
 * write. The stream id is length-prefixed (not separator-terminated) so any string is a valid id and a
 * stream's runs stay contiguous. `m/head` is rewritten in every group-commit batch: it is the commit marker
 * that says which records belong to a complete batch. The `i` entries are the event-id index, one per
 * group commit: the two 32-bit hashes (`id-filter.ts`'s `probeOf`) of each event id of the batch, in
 * sequence order, from which open rebuilds the in-memory {@link IdIndex}; one entry per batch instead of
 * one per event keeps index maintenance off the append path (format 2; format 1 had `e` ‖ eventId keys).
 *
 * @module
 */

const S = 0x73 // "s"
const V = 0x76 // "v"
const I = 0x69 // "i"
const M = 0x6d // "m"

/** Reads 4 big-endian bytes at `offset` as an unsigned number. */
export const readU32 = (b: Uint8Array, o: number): number =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0

/** Writes 4 big-endian bytes at `offset`. */
export const writeU32 = (b: Uint8Array, o: number, n: number): void => {
  b[o] = n >>> 24
  b[o + 1] = n >>> 16
  b[o + 2] = n >>> 8
  b[o + 3] = n
}

/** Writes a non-negative safe integer as 8 big-endian bytes at `offset`. */
export const writeU64 = (buf: Uint8Array, offset: number, n: number): void => {
  writeU32(buf, offset, Math.floor(n / 0x1_0000_0000))
  writeU32(buf, offset + 4, n >>> 0)
}

/** Reads 8 big-endian bytes at `offset` as a number (sequences stay far below 2^53). */
export const readU64 = (buf: Uint8Array, offset: number): number =>
  readU32(buf, offset) * 0x1_0000_0000 + readU32(buf, offset + 4)

/** Key of the record at `sequence`. */
export const recordKey = (sequence: number): Uint8Array => {
  const k = Buffer.allocUnsafe(9)
  k[0] = S
  writeU64(k, 1, sequence)
  return k
}

/** Smallest key of the record space. */
export const RECORDS_START: Uint8Array = Uint8Array.of(S)
/** First key after the record space. */
export const RECORDS_END: Uint8Array = Uint8Array.of(S + 1)

/** The sequence of a record key, or undefined when `key` is not one. */
export const sequenceOfKey = (key: Uint8Array): number | undefined =>
  key.length === 9 && key[0] === S ? readU64(key, 1) : undefined

/** The bytes every key of one stream starts with. */
export const streamPrefix = (streamId: string): Uint8Array => {
  const id = Buffer.from(streamId, "utf8")
  if (id.length > 0xffff) throw new RangeError("stream id longer than 65535 bytes")
  const k = Buffer.allocUnsafe(3 + id.length)
  k[0] = V
  k.writeUInt16BE(id.length, 1)
  id.copy(k, 3)
  return k
}

/** Key of the run of a stream that starts at `firstVersion`. */
export const streamRunKey = (prefix: Uint8Array, firstVersion: number): Uint8Array => {
  const k = Buffer.allocUnsafe(prefix.length + 4)
  k.set(prefix, 0)
  writeU32(k, prefix.length, firstVersion)
  return k
}

/** Value of a stream run: where its events sit in the global order. */
export const streamRunValue = (firstSequence: number, count: number): Uint8Array => {
  const v = Buffer.allocUnsafe(12)
  writeU64(v, 0, firstSequence)
  writeU32(v, 8, count)
  return v
}

/** A decoded stream run. */
export interface StreamRun {
  readonly streamId: string
  readonly firstVersion: number
  readonly firstSequence: number
  readonly count: number
}

/** Decodes a stream-run entry, or undefined when it is malformed. */
export const decodeStreamRun = (key: Uint8Array, value: Uint8Array): StreamRun | undefined => {
  if (key.length < 7 || key[0] !== V || value.length !== 12) return undefined
  const len = (key[1]! << 8) | key[2]!
  if (key.length !== 3 + len + 4) return undefined
  return {
    streamId: Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("utf8", 3, 3 + len),
    firstVersion: readU32(key, 3 + len),
    firstSequence: readU64(value, 0),
    count: readU32(value, 8),
  }
}

/** Smallest key of the stream-run space. */
export const STREAMS_START: Uint8Array = Uint8Array.of(V)
/** First key after the stream-run space. */
export const STREAMS_END: Uint8Array = Uint8Array.of(V + 1)

/** Key of the id block of the group commit whose first event is `firstSequence`. */
export const idBlockKey = (firstSequence: number): Uint8Array => {
  const k = Buffer.allocUnsafe(9)
  k[0] = I
  writeU64(k, 1, firstSequence)
  return k
}

/** Smallest key of the id-block space. */
export const IDS_START: Uint8Array = Uint8Array.of(I)
/** First key after the id-block space. */
export const IDS_END: Uint8Array = Uint8Array.of(I + 1)

/** Value of an id block: the probes of the batch's event ids, in sequence order. */
export const idBlockValue = (probes: ReadonlyArray<readonly [number, number]>): Uint8Array => {
  const v = Buffer.allocUnsafe(probes.length * 8)
  for (let i = 0; i < probes.length; i++) {
    const [h1, h2] = probes[i]!
    writeU32(v, 8 * i, h1)
    writeU32(v, 8 * i + 4, h2)
  }
  return v
}

/** A decoded id block: where its batch starts and how many ids it holds. */
export interface IdBlock {
  readonly firstSequence: number
  readonly count: number
  /** The probe of the i-th id. */
  readonly probe: (i: number) => readonly [number, number]
}

/** Decodes an id-block entry, or undefined when it is malformed. */
export const decodeIdBlock = (key: Uint8Array, value: Uint8Array): IdBlock | undefined => {
  if (key.length !== 9 || key[0] !== I || value.length === 0 || value.length % 8 !== 0) return undefined
  return {
    firstSequence: readU64(key, 1),
    count: value.length / 8,
    probe: (i) => [readU32(value, 8 * i), readU32(value, 8 * i + 4)],
  }
}

const meta = (name: string): Uint8Array => Buffer.concat([Uint8Array.of(M), Buffer.from(name, "utf8")])

/** The commit marker: sequence and hash of the last event of the last complete batch. */
export const HEAD_KEY: Uint8Array = meta("head")
/** The on-disk format tag. */
export const FORMAT_KEY: Uint8Array = meta("format")
/** The vault material (or `none` for an unencrypted store). */
export const VAULT_KEY: Uint8Array = meta("vault")

/**
 * The format tag this code writes and reads. Version 2: event-id blocks instead of per-event id keys, and
 * appends of several events sealed as one group (`vault.ts`).
 */
export const FORMAT_TAG = "corecashu-leveldb/2"

/** Format tags of earlier versions, which this code recognises but does not read (see the store). */
export const OLD_FORMAT_TAGS: ReadonlySet<string> = new Set(["corecashu-leveldb/1"])

/** Encodes the commit marker. */
export const headValue = (sequence: number, hash: Uint8Array): Uint8Array => {
  const v = Buffer.allocUnsafe(40)
  writeU64(v, 0, sequence)
  v.set(hash, 8)
  return v
}

/** Decodes the commit marker, or undefined when malformed. */
export const decodeHead = (value: Uint8Array): { sequence: number; hash: Uint8Array } | undefined =>
  value.length === 40 ? { sequence: readU64(value, 0), hash: value.slice(8, 40) } : undefined
