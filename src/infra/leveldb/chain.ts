/**
 * Verification of a run of stored records: contiguous sequences, well-formed records, hashes that hold and
 * links from each record to its predecessor. Used by the open-time tail check and by the full
 * `verifyChain` scan, which only differ in where they start and how much they read.
 *
 * @module
 */
import { Effect } from "effect"
import { GENESIS_HASH } from "../../events/envelope.js"
import { StoreCorrupted, StoreUnavailable } from "../../events/errors.js"
import { RECORDS_END, recordKey, sequenceOfKey } from "./keys.js"
import { type Db, describe } from "./open-db.js"
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

/** Walks records in ascending order and reports the first damage. */
export class ChainWalker {
  /** The next sequence expected. */
  next: number
  /** Hash (hex) of the last verified record (undefined when starting mid-log: the first link is trusted). */
  prevHex: string | undefined
  /**
   * The hash (hex) the last verified record links to — `prevHex` before it was fed — when known; readers
   * use it as the record's `prevHash` (each record's is its predecessor's hash: one hex per record).
   */
  linkHex: string | undefined

  constructor(from: number, prevHash: Buffer | undefined) {
    this.next = from
    this.prevHex = from === 1 ? GENESIS_HASH : prevHash?.toString("hex")
    this.linkHex = undefined
  }

  /** Feeds one stored entry; returns the damage and its sequence, or the verified record. */
  feed(
    key: Uint8Array,
    value: Uint8Array,
  ): { readonly damage: Damage; readonly sequence: number } | RecordView {
    const at = this.next
    const keySeq = sequenceOfKey(key)
    if (keySeq === undefined || keySeq > at) return { damage: "missing", sequence: at }
    if (keySeq < at) return { damage: "misplaced", sequence: keySeq }
    const r = viewRecord(value)
    if (r === undefined) return { damage: "malformed", sequence: at }
    if (r.fields.sequence !== at) return { damage: "misplaced", sequence: at }
    if (this.prevHex !== undefined && !hexEqualsAt(this.prevHex, r.bytes, PREV_HASH_AT))
      return { damage: "broken-link", sequence: at }
    const hash = verifiedHashHexOf(r)
    if (hash === undefined) return { damage: "bad-hash", sequence: at }
    this.linkHex = this.prevHex
    this.prevHex = hash
    this.next = at + 1
    return r
  }
}

const io = (what: string) => (err: unknown) =>
  new StoreUnavailable({ reason: "io", message: `${what} failed: ${describe(err)}` })

/**
 * Verifies records `from..to` (inclusive) page by page and that the last one's hash is `endHash`. `prevHash`
 * is the hash before `from` when known. Fails with `StoreCorrupted` naming the first bad sequence.
 */
export const verifyRange = (
  db: Db,
  from: number,
  to: number,
  prevHash: Buffer | undefined,
  endHash: Buffer,
  pageSize = 1024,
): Effect.Effect<number, StoreCorrupted | StoreUnavailable> =>
  Effect.gen(function* () {
    if (to < from) return 0
    const walker = new ChainWalker(from, prevHash)
    while (walker.next <= to) {
      const start = walker.next
      const page = yield* Effect.tryPromise({
        try: () =>
          db.iterator({ gte: recordKey(start), lte: recordKey(to), limit: pageSize }).all() as Promise<
            Array<[Uint8Array, Uint8Array]>
          >,
        catch: io("reading the event log"),
      })
      if (page.length === 0) return yield* corrupted(start, "missing")
      for (const [k, v] of page) {
        const out = walker.feed(k, v)
        if ("damage" in out) return yield* corrupted(out.sequence, out.damage)
      }
    }
    if (walker.prevHex !== Buffer.from(endHash).toString("hex"))
      return yield* corrupted(to, "bad-hash", " (it differs from the commit marker)")
    return to - from + 1
  })

/** Keys of records stored past `head` (there should be none). */
export const recordsPast = (db: Db, head: number): Effect.Effect<Uint8Array[], StoreUnavailable> =>
  Effect.tryPromise({
    try: () => db.keys({ gt: recordKey(head), lt: RECORDS_END }).all(),
    catch: io("scanning the end of the event log"),
  })
