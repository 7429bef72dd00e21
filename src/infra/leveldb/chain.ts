/**
 * Verification of a run of stored records, chunk by chunk (`chunk.ts`): contiguous sequences, well-formed
 * chunks and records, hashes that hold and links from each record to its predecessor. Used by the open-time
 * tail check and by the full `verifyChain` scan, which only differ in where they start and how much they
 * read.
 *
 * @module
 */
import { Effect } from "effect"
import { GENESIS_HASH } from "../../events/envelope.js"
import { StoreCorrupted, type StoreUnavailable } from "../../model/index.js"
import { readChunk } from "./chunk.js"
import { CHUNKS_END, chunkKey, sequenceOfKey } from "./keys.js"
import { type Db, readFailure } from "./open-db.js"
import { hexEqualsAt, PREV_HASH_AT, type RecordView, verifiedHashHexOf, viewRecord } from "./record.js"

/** The hash before the first event, as bytes. */
export const GENESIS = Buffer.from(GENESIS_HASH, "hex")

/** Why a record failed verification (stated in `StoreCorrupted.message`). */
export type Damage = "missing" | "malformed" | "misplaced" | "broken-link" | "bad-hash"

const explain: Record<Damage, string> = {
  missing: "the record is missing",
  malformed: "the record cannot be decoded",
  misplaced: "the record stored under this sequence names another sequence",
  "broken-link": "the record does not follow its predecessor's hash",
  "bad-hash": "the record's contents do not match its hash",
}

/** Builds the typed error for damage found at `sequence`. */
export const corrupted = (sequence: number, damage: Damage, context = ""): StoreCorrupted =>
  new StoreCorrupted({
    firstBadSequence: sequence,
    message: `event log damaged at sequence ${sequence}: ${explain[damage]}${context}`,
  })

/** Receives each verified record of a chunk with its link (`prevHash`) and its hash, as hex. */
export type RecordSink = (r: RecordView, prevHex: string, hashHex: string) => void

/** Damage found by the walker, and where. */
export interface Found {
  readonly damage: Damage
  readonly sequence: number
}

/**
 * Walks chunks in ascending order and reports the first damage. A walk starts at a chunk's first record:
 * chunks are read whole.
 */
export class ChainWalker {
  /** The next sequence expected. */
  next: number
  /** Hash (hex) of the last verified record (undefined when starting mid-log: the first link is trusted). */
  prevHex: string | undefined
  constructor(from: number, prevHash: Buffer | undefined) {
    this.next = from
    this.prevHex = from === 1 ? GENESIS_HASH : prevHash?.toString("hex")
  }

  /**
   * Feeds one stored chunk: `each` receives its records in order as they verify. Returns the damage and its
   * sequence, or undefined when the whole chunk verified (records fed before damage was found are not
   * to be trusted as a read: the caller fails the read).
   */
  feed(key: Uint8Array, value: Uint8Array, each: RecordSink): Found | undefined {
    const at = this.next
    const keySeq = sequenceOfKey(key)
    if (keySeq === undefined || keySeq > at) return { damage: "missing", sequence: at }
    if (keySeq < at) return { damage: "misplaced", sequence: keySeq }
    const { records, intact } = readChunk(value)
    for (let i = 0; i < records.length; i++) {
      const found = this.feedRecord(records[i]!, each)
      if (found !== undefined) return found
    }
    // Broken framing is named at the first record it hides.
    return intact ? undefined : { damage: "malformed", sequence: this.next }
  }

  private feedRecord(bytes: Buffer, each: RecordSink): Found | undefined {
    const at = this.next
    const r = viewRecord(bytes)
    if (r === undefined) return { damage: "malformed", sequence: at }
    if (r.fields.sequence !== at) return { damage: "misplaced", sequence: at }
    const prev = this.prevHex
    if (prev !== undefined && !hexEqualsAt(prev, r.bytes, PREV_HASH_AT))
      return { damage: "broken-link", sequence: at }
    const hash = verifiedHashHexOf(r)
    if (hash === undefined) return { damage: "bad-hash", sequence: at }
    this.prevHex = hash
    this.next = at + 1
    // Each record's prevHash is the hash of the one before (just verified): one hex per record.
    each(r, prev ?? r.bytes.toString("hex", PREV_HASH_AT, PREV_HASH_AT + 32), hash)
    return undefined
  }
}

const ignore: RecordSink = () => undefined

/**
 * Verifies records `from..to` (inclusive) a page of chunks at a time and that the last one's hash is
 * `endHash`. `from` is the first sequence of a chunk; `prevHash` is the hash before it when known. Fails
 * with `StoreCorrupted` naming the first bad sequence. `sink` sees every verified record; `onChunk` the
 * first sequence of every chunk, before its records.
 */
export const verifyRange = (
  db: Db,
  from: number,
  to: number,
  prevHash: Buffer | undefined,
  endHash: Buffer,
  pageSize = 256,
  sink: RecordSink = ignore,
  onChunk?: (firstSequence: number) => void,
): Effect.Effect<number, StoreCorrupted | StoreUnavailable> =>
  Effect.gen(function* () {
    if (to < from) return 0
    const walker = new ChainWalker(from, prevHash)
    while (walker.next <= to) {
      const start = walker.next
      const page = yield* Effect.tryPromise({
        try: () =>
          db.iterator({ gte: chunkKey(start), lte: chunkKey(to), limit: pageSize }).all() as Promise<
            Array<[Uint8Array, Uint8Array]>
          >,
        catch: readFailure("reading the event log"),
      })
      if (page.length === 0) return yield* corrupted(start, "missing")
      for (const [k, v] of page) {
        onChunk?.(walker.next)
        const found = walker.feed(k, v, sink)
        if (found !== undefined) return yield* corrupted(found.sequence, found.damage)
      }
    }
    // The head's chunk ends at the head (a batch is whole chunks): a record past it is out of place.
    if (walker.next !== to + 1)
      return yield* corrupted(to + 1, "misplaced", " (a record exists past the commit marker)")
    if (walker.prevHex !== Buffer.from(endHash).toString("hex"))
      return yield* corrupted(to, "bad-hash", " (it differs from the commit marker)")
    return to - from + 1
  })

/** Keys of chunks that start past `head` (there should be none). */
export const recordsPast = (
  db: Db,
  head: number,
): Effect.Effect<Uint8Array[], StoreCorrupted | StoreUnavailable> =>
  Effect.tryPromise({
    try: () => db.keys({ gt: chunkKey(head), lt: CHUNKS_END }).all(),
    catch: readFailure("scanning the end of the event log"),
  })
