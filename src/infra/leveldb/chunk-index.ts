/**
 * Where each committed chunk starts, in memory: a reader finds the chunk holding any sequence without a
 * LevelDB seek (an iterator round trip per lookup). Rebuilt at open from the index blocks (`keys.ts`),
 * extended by the writer as batches commit. Memory: one number per chunk (a chunk holds up to ~50 events).
 *
 * @module
 */

/** The first sequence of every committed chunk, ascending. */
export class ChunkIndex {
  private readonly starts: number[] = []

  /** Number of chunks. */
  get size(): number {
    return this.starts.length
  }

  /** Adds the next chunk's first sequence (strictly after the last one added). */
  add(firstSequence: number): void {
    const last = this.starts.length === 0 ? 0 : this.starts[this.starts.length - 1]!
    if (firstSequence <= last) throw new RangeError("chunk starts must ascend")
    this.starts.push(firstSequence)
  }

  /** The first sequence of the chunk holding `sequence` (`sequence` itself when no chunk starts before it). */
  startOf(sequence: number): number {
    const s = this.starts
    if (s.length === 0 || s[0]! > sequence) return sequence
    let lo = 0
    let hi = s.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (s[mid]! <= sequence) lo = mid
      else hi = mid - 1
    }
    return s[lo]!
  }

  /** The last sequence of the chunk holding `sequence`, given the committed head (where the last chunk ends). */
  endOf(sequence: number, head: number): number {
    const s = this.starts
    let lo = 0
    let hi = s.length
    // The first start after `sequence`.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (s[mid]! <= sequence) lo = mid + 1
      else hi = mid
    }
    return lo < s.length ? Math.min(head, s[lo]! - 1) : head
  }
}
