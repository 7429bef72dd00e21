/**
 * The full check's comparison of the in-memory indexes with the records they describe.
 *
 * Index blocks (`keys.ts`) carry no hash: they are rebuilt into the stream, chunk and event-id indexes at
 * open and trusted by readers. A forger who edits them — hides a stream's last run, moves a run to another
 * stream, shifts a chunk boundary, drops an id probe — changes what `read(stream)` returns or lets a
 * retried event id be appended twice, without touching a hashed byte. So `verifyChain` (the audit) feeds
 * every verified record through here and fails on the first disagreement.
 *
 * @module
 */
import type { StoreCorrupted } from "../../model/index.js"
import { corrupted, type RecordSink } from "./chain.js"
import type { ChunkIndex } from "./chunk-index.js"
import { probeOf } from "./id-filter.js"
import type { IdIndex } from "./id-index.js"
import type { StreamIndex } from "./stream-index.js"

/** Collects what the records say, then compares it with the indexes. */
export class IndexCheck {
  private readonly perStream = new Map<string, number[]>()
  private chunkStarts = 0
  private bad: StoreCorrupted | undefined

  constructor(
    private readonly streams: StreamIndex,
    private readonly chunks: ChunkIndex,
    private readonly ids: IdIndex,
  ) {}

  private fail(sequence: number, what: string): void {
    this.bad ??= corrupted(sequence, "misplaced", ` (the index disagrees with the records: ${what})`)
  }

  /** Called with the first sequence of every chunk read. */
  readonly chunk = (firstSequence: number): void => {
    this.chunkStarts++
    if (this.chunks.startOf(firstSequence) !== firstSequence) this.fail(firstSequence, "a chunk boundary")
  }

  /** Called with every verified record. */
  readonly record: RecordSink = (r) => {
    const { sequence, streamId, streamVersion, eventId } = r.fields
    let seqs = this.perStream.get(streamId)
    if (seqs === undefined) {
      seqs = []
      this.perStream.set(streamId, seqs)
    }
    seqs.push(sequence)
    if (streamVersion !== seqs.length) this.fail(sequence, "a stream version")
    if (!this.ids.candidates(probeOf(eventId)).includes(sequence)) this.fail(sequence, "an event id")
  }

  /** The first disagreement, or undefined when the indexes describe exactly the records seen. */
  finish(): StoreCorrupted | undefined {
    if (this.bad !== undefined) return this.bad
    if (this.chunkStarts !== this.chunks.size)
      return corrupted(0, "misplaced", " (the chunk index has extra chunks)")
    for (const [streamId, seqs] of this.perStream) {
      const indexed = this.streams.sequencesFrom(streamId, 1)
      if (indexed.length !== seqs.length || indexed.some((s, i) => s !== seqs[i]))
        return corrupted(
          seqs.find((s, i) => indexed[i] !== s) ?? seqs[0]!,
          "misplaced",
          " (a stream's runs disagree with its records)",
        )
      if ((this.streams.versions.get(streamId) ?? 0) !== seqs.length)
        return corrupted(
          seqs[seqs.length - 1]!,
          "misplaced",
          " (a stream's version disagrees with its records)",
        )
    }
    for (const streamId of this.streams.versions.keys())
      if (!this.perStream.has(streamId))
        return corrupted(0, "misplaced", " (the index names a stream no record belongs to)")
    return undefined
  }
}
