import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { probeOf } from "../../../src/infra/leveldb/id-filter.js"
import {
  decodeHead,
  decodeIndexBlock,
  headValue,
  indexBlockKey,
  indexBlockValue,
  recordKey,
  sequenceOfKey,
} from "../../../src/infra/leveldb/keys.js"

const cmp = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b)
const seqArb = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })

describe("LevelDB key layout", () => {
  it("orders record keys as their sequences, and reads the sequence back", () =>
    fc.assert(
      fc.property(seqArb, seqArb, (a, b) => {
        expect(Math.sign(cmp(recordKey(a), recordKey(b)))).toBe(Math.sign(a - b))
        expect(sequenceOfKey(recordKey(a))).toBe(a)
      }),
    ))

  it("round-trips index blocks (event-id probes and stream runs) and the commit marker", () =>
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
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 100 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (runs, seq, hash) => {
          const n = runs.reduce((a, r) => a + r.count, 0)
          const probes = Array.from({ length: n }, (_, i) => probeOf(`${seq}:${i}`))
          const value = indexBlockValue(
            probes,
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
          const head = decodeHead(headValue(seq, hash))!
          expect(head.sequence).toBe(seq)
          expect(Buffer.from(head.hash)).toEqual(Buffer.from(hash))
        },
      ),
    ))
})
