/**
 * What opening a LevelDB event log checks, recovers and loads before the first append.
 *
 * - The commit marker `m/head` names the last event of the last complete batch. Chunks and index blocks
 *   *past* it cannot come from a complete batch (every batch writes the marker atomically
 *   with its records), so they are a torn tail: they are deleted, durably, and the recovery is reported
 *   (`OpenReport.recovered` and a warning through Effect's logger). Nothing at or before the marker is ever
 *   dropped: those events were acknowledged.
 * - The last `tailCheck` events up to the marker must be present, contiguous, well-formed, correctly hashed
 *   and linked, and the last one must carry the marker's hash; otherwise open fails with `StoreCorrupted`
 *   naming the first bad sequence. The whole log is checked by `verifyChain` (the audit), not at every open.
 * - The in-memory state the writer and readers need, from one scan of the index blocks (which must cover
 *   sequences 1..head exactly: a gap would let a retried id be appended twice, so it is reported as
 *   corruption): the id index, the stream index (each stream's runs must continue its versions) and the
 *   chunk index (where each chunk starts; the tail check starts at a chunk's first record).
 *
 * @module
 */
import { Effect } from "effect"
import { StoreCorrupted, StoreUnavailable } from "../../events/errors.js"
import { corrupted, GENESIS, recordsPast, verifyRange } from "./chain.js"
import { ChunkIndex } from "./chunk-index.js"
import { IdIndex } from "./id-index.js"
import {
  CHUNKS_END,
  CHUNKS_START,
  decodeHead,
  decodeIndexBlock,
  HEAD_KEY,
  INDEX_END,
  INDEX_START,
} from "./keys.js"
import { type Db, describe } from "./open-db.js"
import { StreamIndex } from "./stream-index.js"

/** What open found and did. */
export interface OpenReport {
  /** The last committed sequence (0 for an empty log). */
  readonly head: number
  /** Events whose chain was verified at open. */
  readonly verifiedTail: number
  /** Present when a torn tail was removed: the first removed sequence and what was deleted. */
  readonly recovered?: {
    readonly truncatedFrom: number
    /** Chunks removed (each holds one or more records). */
    readonly removedChunks: number
    readonly removedIndexEntries: number
  }
}

/** The state handed to the writer. */
export interface OpenState {
  readonly head: number
  readonly headHash: Buffer
  readonly streams: StreamIndex
  readonly chunks: ChunkIndex
  readonly ids: IdIndex
  readonly report: OpenReport
}

const io = (what: string) => (err: unknown) =>
  new StoreUnavailable({ reason: "io", message: `${what} failed: ${describe(err)}` })

const attempt = <A>(what: string, f: () => Promise<A>): Effect.Effect<A, StoreUnavailable> =>
  Effect.tryPromise({ try: f, catch: io(what) })

/** Checks the log's end, removes a torn tail, and loads the writer's state. */
export const checkOnOpen = (
  db: Db,
  tailCheck: number,
): Effect.Effect<OpenState, StoreCorrupted | StoreUnavailable> =>
  Effect.gen(function* () {
    const marker = yield* attempt("reading the commit marker", () => db.get(HEAD_KEY))
    let head = 0
    let headHash = GENESIS
    if (marker !== undefined) {
      const h = decodeHead(marker)
      if (h === undefined) return yield* corrupted(1, "malformed", " (the commit marker is unreadable)")
      head = h.sequence
      headHash = Buffer.from(h.hash)
    } else {
      const any = yield* attempt("reading the event log", () =>
        db.keys({ gte: CHUNKS_START, lt: CHUNKS_END, limit: 1 }).all(),
      )
      if (any.length > 0)
        return yield* new StoreCorrupted({
          firstBadSequence: 1,
          message: "event records exist but the commit marker is missing",
        })
    }

    const { ids, streams, chunks, blocksPast } = yield* loadIndex(db, head)
    // The tail up to the marker, from the start of the chunk holding the record before the window (so the
    // window's first link is checked too).
    const from = chunks.startOf(Math.max(1, head - tailCheck))
    const verifiedTail = head === 0 ? 0 : yield* verifyRange(db, from, head, undefined, headHash)

    // Anything past the marker is a torn tail.
    const extraRecords = yield* recordsPast(db, head)

    let recovered: OpenReport["recovered"]
    if (extraRecords.length > 0 || blocksPast.length > 0) {
      const ops = [...extraRecords, ...blocksPast].map((key) => ({ type: "del" as const, key }))
      yield* attempt("removing the torn tail", () => db.batch(ops, { sync: true }))
      recovered = {
        truncatedFrom: head + 1,
        removedChunks: extraRecords.length,
        removedIndexEntries: blocksPast.length,
      }
      yield* Effect.logWarning(
        `event log: removed a torn tail past sequence ${head} (${extraRecords.length} chunks, ` +
          `${blocksPast.length} index entries); the log ends at the last complete batch`,
      )
    }
    const report: OpenReport = recovered ? { head, verifiedTail, recovered } : { head, verifiedTail }
    return { head, headHash, streams, chunks, ids, report }
  })

/**
 * The id index over every committed id, the stream index and the chunk index, from the index blocks; and the
 * keys of blocks that start past `head`.
 */
const loadIndex = (
  db: Db,
  head: number,
): Effect.Effect<
  { ids: IdIndex; streams: StreamIndex; chunks: ChunkIndex; blocksPast: Uint8Array[] },
  StoreCorrupted | StoreUnavailable
> =>
  Effect.acquireUseRelease(
    Effect.sync(() => db.iterator({ gte: INDEX_START, lt: INDEX_END })),
    (it) =>
      Effect.gen(function* () {
        const ids = new IdIndex(Math.max(65_536, Math.ceil(head * 1.25)))
        const streams = new StreamIndex()
        const chunks = new ChunkIndex()
        const blocksPast: Uint8Array[] = []
        const damaged = (at: number, why: string) =>
          new StoreCorrupted({ firstBadSequence: at, message: `the event-id index ${why}` })
        let next = 1
        for (;;) {
          const page = yield* attempt("reading the event-id index", () => it.nextv(1024))
          if (page.length === 0) break
          for (const [key, value] of page) {
            const block = decodeIndexBlock(key, value)
            if (block === undefined) return yield* damaged(next, "has a malformed entry")
            if (block.firstSequence > head) {
              blocksPast.push(key)
              continue
            }
            if (block.firstSequence !== next) return yield* damaged(next, "does not cover this sequence")
            if (block.firstSequence + block.count - 1 > head)
              return yield* damaged(head + 1, "has an entry that straddles the commit marker")
            for (let i = 0; i < block.count; i++) ids.commit(block.probe(i), block.firstSequence + i)
            for (const start of block.chunkStarts) chunks.add(start)
            for (const run of block.runs) {
              if (!streams.continues(run))
                return yield* damaged(run.firstSequence, "breaks a stream's versions")
              streams.add(run)
            }
            next += block.count
          }
        }
        if (next !== head + 1) return yield* damaged(next, "does not cover this sequence")
        return { ids, streams, chunks, blocksPast }
      }),
    (it) => Effect.promise(() => it.close()),
  )
