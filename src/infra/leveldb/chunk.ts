/**
 * A chunk: the records of consecutive sequences that the writer committed in one turn (and, with the vault,
 * sealed as one group), stored as ONE LevelDB value under its first sequence (`keys.ts`):
 *
 * ```
 * chunk = n × (u32be(len) ‖ record)      n ≥ 1, each record as `record.ts` lays it out
 * ```
 *
 * Why: LevelDB's cost is per key, not per byte. A key per event cost ~4 µs of CPU to read back (an iterator
 * step, a key and a value buffer, the marshalling between threads) and ~1.5 µs to write (a native call and a
 * batch entry on the way in, a skip-list node in the memtable); a record inside a chunk costs a length
 * prefix and a sub-buffer. A chunk is also the unit a sealed group opens in, so a reader that needs one
 * member of a group already holds the others. Chunks stay small: the writer cuts one at ~50 events (or at
 * the end of an append that is larger on its own).
 *
 * @module
 */
import { quote } from "../../events/schema-json.js"
import { readU32, writeU32 } from "./keys.js"
import { fieldsText, type RecordFields, recordSize, writeRecord } from "./record.js"

/** The framing around one record. */
const FRAME = 4

/** Frames `records` (in sequence order) as one chunk value. */
export const chunkValue = (records: ReadonlyArray<Uint8Array>): Buffer => {
  let size = 0
  for (const r of records) size += FRAME + r.length
  const out = Buffer.allocUnsafe(size)
  let o = 0
  for (const r of records) {
    writeU32(out, o, r.length)
    out.set(r, o + FRAME)
    o += FRAME + r.length
  }
  return out
}

/** A chunk built by {@link encodeChunk}: its value, where each record sits in it, and the last hash. */
export interface EncodedChunk {
  readonly value: Buffer
  /** Per record: where it starts, where its payload starts and where it ends (offsets into `value`). */
  readonly starts: number[]
  readonly payloadAts: number[]
  readonly ends: number[]
  /** The hash of the last record (a view into `value`). */
  readonly lastHash: Buffer
}

/**
 * Builds the records of `fields` and `payloads` (in sequence order, chained from `prevHash`) straight into
 * one chunk value: one allocation per chunk, not one per record plus the copy into the chunk.
 */
export const encodeChunk = (
  prevHash: Uint8Array,
  fields: ReadonlyArray<RecordFields>,
  payloads: ReadonlyArray<Uint8Array>,
): EncodedChunk => {
  const n = fields.length
  const texts: string[] = new Array(n)
  const lengths: number[] = new Array(n)
  let size = 0
  let streamId: string | undefined
  let streamText = ""
  for (let i = 0; i < n; i++) {
    const f = fields[i]!
    // Runs of one stream are the rule (an append's events are consecutive): quote its id once per run.
    if (f.streamId !== streamId) {
      streamId = f.streamId
      streamText = quote(streamId)
    }
    const text = fieldsText(f, streamText)
    const len = Buffer.byteLength(text, "utf8")
    texts[i] = text
    lengths[i] = len
    size += FRAME + recordSize(len, payloads[i]!.length)
  }
  const value = Buffer.allocUnsafe(size)
  const starts: number[] = new Array(n)
  const payloadAts: number[] = new Array(n)
  const ends: number[] = new Array(n)
  let prev: Uint8Array = prevHash
  let prevAt = 0
  let o = 0
  for (let i = 0; i < n; i++) {
    const at = o + FRAME
    const hashAt = writeRecord(value, at, prev, prevAt, texts[i]!, lengths[i]!, payloads[i]!)
    const end = hashAt + 32
    writeU32(value, o, end - at)
    starts[i] = at
    payloadAts[i] = hashAt - payloads[i]!.length
    ends[i] = end
    prev = value
    prevAt = hashAt
    o = end
  }
  return { value, starts, payloadAts, ends, lastHash: value.subarray(prevAt, prevAt + 32) }
}

/**
 * The records of a chunk value, as views into it (no copy), up to where its framing breaks (a length of
 * zero or running past the end); `intact` says whether it held to the end. The records themselves are
 * checked by the caller.
 */
export const readChunk = (value: Uint8Array): { readonly records: Buffer[]; readonly intact: boolean } => {
  const b = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  const records: Buffer[] = []
  let o = 0
  while (o < b.length) {
    if (o + FRAME > b.length) return { records, intact: false }
    const len = readU32(b, o)
    const end = o + FRAME + len
    if (len === 0 || end > b.length) return { records, intact: false }
    records.push(b.subarray(o + FRAME, end))
    o = end
  }
  return { records, intact: records.length > 0 }
}

/** The records of an intact chunk value (see {@link readChunk}), or undefined when its framing is broken. */
export const splitChunk = (value: Uint8Array): Buffer[] | undefined => {
  const { records, intact } = readChunk(value)
  return intact ? records : undefined
}
