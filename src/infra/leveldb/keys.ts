/**
 * Key layout of the LevelDB event store. Every key and value is raw bytes (`view` encoding); the first key
 * byte names the key space, so each space is one contiguous range that can be scanned or counted alone.
 *
 * | key                                              | value                                     |
 * |--------------------------------------------------|-------------------------------------------|
 * | `s` ‖ u64be(firstSequence)                       | a chunk: consecutive records (`chunk.ts`) |
 * | `i` ‖ u64be(firstSequence)                       | the batch's index block (below)           |
 * | `m` ‖ `head`                                     | u64be(sequence) ‖ hash(32): last batch    |
 * | `m` ‖ `format`                                   | utf8 format tag                           |
 * | `m` ‖ `vault`                                    | vault material (clear JSON) or `none`     |
 *
 * A chunk is what the writer commits in one turn (`group-commit.ts`): the records of consecutive sequences,
 * sealed as one group with the vault, stored as ONE value under its first sequence. A batch (one LevelDB
 * write) holds one or more whole chunks.
 *
 * The index block of a group commit (one per batch, format 4):
 * `u32be(n) ‖ n × (u32be h1 ‖ u32be h2)` — the two 32-bit hashes (`id-filter.ts`'s `probeOf`) of each event
 * id of the batch, in sequence order — then `u32be(c) ‖ c × u32be(events)`, the sizes of the batch's chunks
 * in order, then, per append of the batch in order, its stream run
 * `u16be(len) ‖ streamId ‖ u32be(firstVersion) ‖ u32be(count)`. The chunks and the runs each cover the
 * batch exactly (their counts add up to n), so every first sequence follows from the block's key. Open
 * rebuilds the in-memory {@link IdIndex}, stream index and chunk index from these blocks.
 *
 * Why so few keys: LevelDB's cost is per key — a native call and a batch entry on the way in, a skip-list
 * node, an iterator step and two buffers on the way out — not per byte. Format 2 wrote one stream-run key
 * per append (measured: those keys alone cost more CPU than the records, −35 % appends/s); format 3 one key
 * per event (reading a key cost ~4 µs, a chunk's record ~1 µs). Now a chunk of ~50 events is one key, a
 * batch's index one more, and only `m/head` is rewritten in place (one small key per batch): the commit
 * marker that says which chunks belong to a complete batch.
 *
 * @module
 */

const S = 0x73 // "s"
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

/** Key of the chunk whose first record is at `sequence`. */
export const chunkKey = (sequence: number): Uint8Array => {
  const k = Buffer.allocUnsafe(9)
  k[0] = S
  writeU64(k, 1, sequence)
  return k
}

/** Smallest key of the chunk space. */
export const CHUNKS_START: Uint8Array = Uint8Array.of(S)
/** First key after the chunk space. */
export const CHUNKS_END: Uint8Array = Uint8Array.of(S + 1)

/** The first sequence of a chunk key, or undefined when `key` is not one. */
export const sequenceOfKey = (key: Uint8Array): number | undefined =>
  key.length === 9 && key[0] === S ? readU64(key, 1) : undefined

/** Key of the index block of the group commit whose first event is `firstSequence`. */
export const indexBlockKey = (firstSequence: number): Uint8Array => {
  const k = Buffer.allocUnsafe(9)
  k[0] = I
  writeU64(k, 1, firstSequence)
  return k
}

/** Smallest key of the index-block space. */
export const INDEX_START: Uint8Array = Uint8Array.of(I)
/** First key after the index-block space. */
export const INDEX_END: Uint8Array = Uint8Array.of(I + 1)

/** An append's stream run, as the index block stores it. */
export interface BlockRun {
  readonly streamId: string
  readonly firstVersion: number
  readonly count: number
}

/** A stream run with its place in the global order. */
export interface StreamRun extends BlockRun {
  readonly firstSequence: number
}

/**
 * Value of an index block: the probes of the batch's event ids, its chunk sizes, then its runs (see the
 * module comment).
 */
export const indexBlockValue = (
  probes: ReadonlyArray<readonly [number, number]>,
  chunkSizes: ReadonlyArray<number>,
  runs: ReadonlyArray<{
    readonly streamBytes: Uint8Array
    readonly firstVersion: number
    readonly count: number
  }>,
): Uint8Array => {
  let size = 8 + probes.length * 8 + chunkSizes.length * 4
  for (const r of runs) size += 10 + r.streamBytes.length
  const v = Buffer.allocUnsafe(size)
  writeU32(v, 0, probes.length)
  for (let i = 0; i < probes.length; i++) {
    const [h1, h2] = probes[i]!
    writeU32(v, 4 + 8 * i, h1)
    writeU32(v, 8 + 8 * i, h2)
  }
  let o = 4 + probes.length * 8
  writeU32(v, o, chunkSizes.length)
  o += 4
  for (const c of chunkSizes) {
    writeU32(v, o, c)
    o += 4
  }
  for (const r of runs) {
    v[o] = r.streamBytes.length >>> 8
    v[o + 1] = r.streamBytes.length
    v.set(r.streamBytes, o + 2)
    o += 2 + r.streamBytes.length
    writeU32(v, o, r.firstVersion)
    writeU32(v, o + 4, r.count)
    o += 8
  }
  return v
}

/** A decoded index block. */
export interface IndexBlock {
  readonly firstSequence: number
  /** Events in the batch. */
  readonly count: number
  /** The probe of the i-th id. */
  readonly probe: (i: number) => readonly [number, number]
  /** The first sequence of each of the batch's chunks, in order. */
  readonly chunkStarts: ReadonlyArray<number>
  /** The batch's stream runs, in sequence order. */
  readonly runs: ReadonlyArray<StreamRun>
}

/** Decodes an index-block entry, or undefined when it is malformed. */
export const decodeIndexBlock = (key: Uint8Array, value: Uint8Array): IndexBlock | undefined => {
  if (key.length !== 9 || key[0] !== I || value.length < 4) return undefined
  const count = readU32(value, 0)
  let o = 4 + count * 8
  if (count === 0 || o + 4 > value.length) return undefined
  const firstSequence = readU64(key, 1)
  const chunks = readU32(value, o)
  o += 4
  if (chunks === 0 || chunks > count || o + 4 * chunks > value.length) return undefined
  const chunkStarts: number[] = new Array(chunks)
  let start = firstSequence
  for (let c = 0; c < chunks; c++, o += 4) {
    const size = readU32(value, o)
    if (size === 0) return undefined
    chunkStarts[c] = start
    start += size
  }
  if (start !== firstSequence + count) return undefined
  const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  const runs: StreamRun[] = []
  let sequence = firstSequence
  while (o < value.length) {
    if (o + 2 > value.length) return undefined
    const len = (b[o]! << 8) | b[o + 1]!
    if (o + 10 + len > value.length) return undefined
    const streamId = b.toString("utf8", o + 2, o + 2 + len)
    const firstVersion = readU32(b, o + 2 + len)
    const n = readU32(b, o + 6 + len)
    if (n === 0 || firstVersion === 0) return undefined
    runs.push({ streamId, firstVersion, count: n, firstSequence: sequence })
    sequence += n
    o += 10 + len
  }
  if (sequence !== firstSequence + count) return undefined
  return {
    firstSequence,
    count,
    probe: (i) => [readU32(value, 4 + 8 * i), readU32(value, 8 + 8 * i)],
    chunkStarts,
    runs,
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
 * The format tag this code writes and reads. Version 5: a payload's AES-GCM associated data also binds
 * its sequence, stream version and time (`events/sealer.ts`), so without the key no event can be moved,
 * dropped from the middle, reordered or re-timed even when the keyless hash chain is recomputed. Version 4:
 * one value per chunk (version 3 kept a key per
 * record); one index block per batch holds the batch's event-id probes, chunk sizes and stream runs
 * (version 2 kept a key per append for the runs; version 1 a key per event id); a chunk's payloads are
 * sealed as one group (`vault.ts`).
 */
export const FORMAT_TAG = "corecashu-leveldb/5"

/** Format tags of earlier versions, which this code recognises but does not read (see the store). */
export const OLD_FORMAT_TAGS: ReadonlySet<string> = new Set([
  "corecashu-leveldb/1",
  "corecashu-leveldb/2",
  "corecashu-leveldb/3",
  "corecashu-leveldb/4",
])

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
