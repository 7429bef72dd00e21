/**
 * A compact set of every event id in the log that answers "certainly new" or "maybe stored".
 *
 * Why: idempotency needs to know whether an id was stored before, and almost every appended id is new, so
 * a Bloom filter (16 bits and 8 probes per id, well under 0.5 % false positives) answers most questions in
 * one cache line; it is the front of the exact in-memory index (`id-index.ts`), which settles the "maybe"
 * answers (retries and rare false positives) without a disk read. It grows by adding layers of 4× the capacity,
 * so it never needs a rebuild: 1M ids cost a few MB.
 *
 * @module
 */

const BITS_PER_ID = 16
const PROBES = 8

/** The two hashes that locate an id in the filter; computed once per id when it is both tested and added. */
export type Probe = readonly [number, number]

/** The murmur3 finaliser: spreads every input bit over every output bit. */
const fmix = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Two independent 32-bit hashes of a string (FNV-1a and a multiply-xorshift hash, both finalised). */
export const probeOf = (s: string): Probe => {
  let h1 = 0x811c9dc5
  let h2 = 0x9e3779b9
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 0x01000193)
    h2 = Math.imul(h2 ^ c, 0x5bd1e995)
    h2 ^= h2 >>> 15
  }
  return [fmix(h1), fmix(h2)]
}

/**
 * One fixed-size layer: a *blocked* Bloom filter. The first hash picks a 512-bit block (one 64-byte cache
 * line), the second places the probes inside it, so a test or an insert touches one cache line instead of
 * eight scattered ones — on a table of megabytes that is most of its cost.
 */
class Layer {
  readonly bits: Uint32Array
  readonly blockMask: number
  count = 0
  constructor(
    readonly capacity: number,
    bitsPerId: number,
  ) {
    let blocks = 1
    while (blocks * 512 < capacity * bitsPerId) blocks *= 2
    this.bits = new Uint32Array(blocks * 16)
    this.blockMask = blocks - 1
  }
  add(h1: number, h2: number): void {
    const base = (h1 & this.blockMask) << 4
    const step = (h2 >>> 16) | 1
    for (let i = 0; i < PROBES; i++) {
      const bit = (h2 + Math.imul(i, step)) & 511
      this.bits[base + (bit >>> 5)]! |= 1 << (bit & 31)
    }
    this.count++
  }
  has(h1: number, h2: number): boolean {
    const base = (h1 & this.blockMask) << 4
    const step = (h2 >>> 16) | 1
    for (let i = 0; i < PROBES; i++) {
      const bit = (h2 + Math.imul(i, step)) & 511
      if ((this.bits[base + (bit >>> 5)]! & (1 << (bit & 31))) === 0) return false
    }
    return true
  }
}

/** A growing Bloom filter over strings. */
export class IdFilter {
  private readonly layers: Layer[]

  constructor(initialCapacity = 65_536) {
    this.layers = [new Layer(Math.max(1024, initialCapacity), BITS_PER_ID)]
  }

  /** Records `id` as (maybe) stored. */
  add(id: string): void {
    this.addProbe(probeOf(id))
  }

  /** False when `id` was certainly never added; true when it may have been. */
  mayContain(id: string): boolean {
    return this.hasProbe(probeOf(id))
  }

  /** {@link add} with the id's probe already computed (see {@link probeOf}). */
  addProbe([h1, h2]: Probe): void {
    let last = this.layers[this.layers.length - 1]!
    if (last.count >= last.capacity) {
      // Each new layer is 4× larger and a little sparser, so the false positives of all layers together
      // stay bounded however far the filter grows.
      last = new Layer(last.capacity * 4, BITS_PER_ID + 4 * this.layers.length)
      this.layers.push(last)
    }
    last.add(h1, h2)
  }

  /** {@link mayContain} with the id's probe already computed. */
  hasProbe([h1, h2]: Probe): boolean {
    for (const layer of this.layers) if (layer.has(h1, h2)) return true
    return false
  }

  /** Bytes held by the filter's bit tables. */
  get byteSize(): number {
    return this.layers.reduce((n, l) => n + l.bits.byteLength, 0)
  }
}
