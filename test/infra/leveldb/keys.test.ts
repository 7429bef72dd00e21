import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { probeOf } from "../../../src/infra/leveldb/id-filter.js"
import {
  chunkKey,
  decodeHead,
  decodeIndexBlock,
  headValue,
  indexBlockKey,
  indexBlockValue,
  sequenceOfKey,
} from "../../../src/infra/leveldb/keys.js"

const cmp = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b)
const seqArb = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })

describe("LevelDB key layout", () => {
  it("orders chunk keys as their first sequences, and reads the sequence back", () =>
    fc.assert(
      fc.property(seqArb, seqArb, (a, b) => {
        expect(Math.sign(cmp(chunkKey(a), chunkKey(b)))).toBe(Math.sign(a - b))
        expect(sequenceOfKey(chunkKey(a))).toBe(a)
      }),
    ))

  it("round-trips index blocks (event-id probes, chunk sizes and stream runs) and the commit marker", () =>
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            stream: fc.string({ unit: "grapheme", maxLength: 30 }),
            version: fc.integer({ min: 1, max: 0xffff_ffff }),
            count: fc.integer({ min: 1, max: 5 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 100 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (runs, cuts, seq, hash) => {
          const n = runs.reduce((a, r) => a + r.count, 0)
          const probes = Array.from({ length: n }, (_, i) => probeOf(`${seq}:${i}`))
          // Chunks are whole appends (runs): a chunk ends after run i when `cuts[i]` (and after the last).
          const chunkSizes: number[] = []
          let size = 0
          runs.forEach((r, i) => {
            size += r.count
            if (cuts[i] === true || i === runs.length - 1) {
              chunkSizes.push(size)
              size = 0
            }
          })
          const value = indexBlockValue(
            probes,
            chunkSizes,
            runs.map((r) => ({
              streamBytes: Buffer.from(r.stream, "utf8"),
              firstVersion: r.version,
              count: r.count,
            })),
          )
          const block = decodeIndexBlock(indexBlockKey(seq), value)!
          expect(block.firstSequence).toBe(seq)
          expect(block.count).toBe(n)
          expect(Array.from({ length: block.count }, (_, i) => block.probe(i))).toEqual(probes)
          let start = seq
          expect(block.chunkStarts).toEqual(
            chunkSizes.map((c) => {
              start += c
              return start - c
            }),
          )
          let at = seq
          expect(block.runs).toEqual(
            runs.map((r) => {
              const run = { streamId: r.stream, firstVersion: r.version, count: r.count, firstSequence: at }
              at += r.count
              return run
            }),
          )
          // A block cut short, or claiming no events, is malformed.
          expect(decodeIndexBlock(indexBlockKey(seq), value.subarray(0, value.length - 1))).toBeUndefined()
          const empty = Buffer.from(value)
          empty.writeUInt32BE(0, 0)
          expect(decodeIndexBlock(indexBlockKey(seq), empty)).toBeUndefined()
          // Chunk sizes that do not add up to the block's events are malformed.
          const short = indexBlockValue(probes, [...chunkSizes.slice(0, -1), chunkSizes.at(-1)! + 1], [])
          expect(decodeIndexBlock(indexBlockKey(seq), short)).toBeUndefined()
          const head = decodeHead(headValue(seq, hash))!
          expect(head.sequence).toBe(seq)
          expect(Buffer.from(head.hash)).toEqual(Buffer.from(hash))
        },
      ),
    ))
})
