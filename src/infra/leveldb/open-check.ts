/**
 * What opening a LevelDB event log checks, recovers and loads before the first append.
 *
 * - The commit marker `m/head` names the last event of the last complete batch. Chunks and index blocks
 *   *past* it cannot come from a crash: every batch writes its records and the marker in ONE LevelDB write
 *   batch, which LevelDB applies whole or not at all. So they prove that the marker was rewound or records
 *   were added, and open fails with `StoreCorrupted`. Nothing is ever deleted: evidence stays for the audit.
 *   (Earlier versions deleted them as a "torn tail", which let a rewound marker erase acknowledged events.)
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
import { StoreCorrupted, type StoreUnavailable } from "../../model/index.js"
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
import { type Db, readFailure } from "./open-db.js"
import { StreamIndex } from "./stream-index.js"

/** What open found and did. */
export interface OpenReport {
  /** The last committed sequence (0 for an empty log). */
  readonly head: number
  /** Events whose chain was verified at open. */
  readonly verifiedTail: number
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

const attempt = <A>(what: string, f: () => Promise<A>): Effect.Effect<A, StoreCorrupted | StoreUnavailable> =>
  Effect.tryPromise({ try: f, catch: readFailure(what) })

/** Checks the log's end (nothing may lie past the marker) and loads the writer's state. */
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

    // Anything past the marker was put there after its batch: refused, and left in place as evidence.
    const extraRecords = yield* recordsPast(db, head)
    if (extraRecords.length > 0 || blocksPast.length > 0)
      return yield* new StoreCorrupted({
        firstBadSequence: head + 1,
        message:
          `the log holds ${extraRecords.length} chunks and ${blocksPast.length} index entries past its ` +
          `commit marker (sequence ${head}); a batch writes both at once, so the marker was rewound or ` +
          "records were added",
      })
    const report: OpenReport = { head, verifiedTail }
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
