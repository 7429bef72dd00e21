/**
 * The in-memory index of every committed event id: which sequence(s) an id *may* be stored at.
 *
 * Why in memory: idempotency asks "was this id stored, and where?" on every appended event, and keeping
 * the answer in LevelDB cost one index entry per event (a native put on the hot path, a key in the write
 * batch, compaction work) plus a disk read for every id the Bloom filter could not rule out. Here:
 * - the {@link IdFilter} (Bloom) answers "certainly new" for almost every id, in one cache line;
 * - behind it, an open-addressing table maps the id's two 32-bit hashes (the filter's {@link probeOf}) to
 *   the sequence it was committed at. Equal hashes of different ids (about 2^-64 per pair) are allowed: the
 *   table returns every candidate and the caller compares the stored record's event id, so an answer is
 *   exact once the candidate records are read; "no candidate" is exact without any read.
 * It is rebuilt at open from the id blocks of `keys.ts` (8 bytes per event, one entry per group commit).
 * Memory: 16 bytes per slot at a load factor of at most 1/2, so 1M ids take 32 MiB at worst.
 *
 * @module
 */
import { IdFilter, type Probe, probeOf } from "./id-filter.js"

/** An exact (up to a re-check of the record) index from event ids to sequences, behind a Bloom filter. */
export class IdIndex {
  /** The Bloom front: ids staged or committed. */
  readonly filter: IdFilter
  private hashes: Uint32Array
  private sequences: Float64Array
  private mask: number
  private count = 0

  constructor(initialCapacity = 65_536) {
    this.filter = new IdFilter(initialCapacity)
    let slots = 1024
    while (slots < initialCapacity * 2) slots *= 2
    this.hashes = new Uint32Array(slots * 2)
    this.sequences = new Float64Array(slots)
    this.mask = slots - 1
  }

  /** Number of committed ids. */
  get size(): number {
    return this.count
  }

  /** Records that `id` is committed at `sequence`. */
  add(id: string, sequence: number): void {
    this.commit(probeOf(id), sequence)
  }

  /** {@link add} with the id's probe already computed. */
  commit(probe: Probe, sequence: number): void {
    this.filter.addProbe(probe)
    if ((this.count + 1) * 2 > this.sequences.length) this.grow()
    this.insert(probe[0], probe[1], sequence)
    this.count++
  }

  /**
   * Sequences an id with this probe may be stored at: empty when the id is certainly not committed
   * (usually decided by the Bloom filter alone), else the candidates to check against the records.
   */
  candidates(probe: Probe): number[] {
    if (!this.filter.hasProbe(probe)) return NONE
    const [h1, h2] = probe
    let out: number[] = NONE
    for (let i = h1 & this.mask; ; i = (i + 1) & this.mask) {
      const seq = this.sequences[i]!
      if (seq === 0) return out
      if (this.hashes[2 * i] === h1 && this.hashes[2 * i + 1] === h2)
        out = out === NONE ? [seq] : [...out, seq]
    }
  }

  private insert(h1: number, h2: number, sequence: number): void {
    let i = h1 & this.mask
    while (this.sequences[i] !== 0) i = (i + 1) & this.mask
    this.hashes[2 * i] = h1
    this.hashes[2 * i + 1] = h2
    this.sequences[i] = sequence
  }

  private grow(): void {
    const hashes = this.hashes
    const sequences = this.sequences
    const slots = sequences.length * 2
    this.hashes = new Uint32Array(slots * 2)
    this.sequences = new Float64Array(slots)
    this.mask = slots - 1
    for (let i = 0; i < sequences.length; i++) {
      const seq = sequences[i]!
      if (seq !== 0) this.insert(hashes[2 * i]!, hashes[2 * i + 1]!, seq)
    }
  }
}

const NONE: number[] = []
