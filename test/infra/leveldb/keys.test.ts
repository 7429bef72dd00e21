import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { probeOf } from "../../../src/infra/leveldb/id-filter.js"
import {
  decodeHead,
  decodeIdBlock,
  decodeStreamRun,
  headValue,
  idBlockKey,
  idBlockValue,
  recordKey,
  sequenceOfKey,
  streamPrefix,
  streamRunKey,
  streamRunValue,
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

  it("keeps each stream's runs contiguous and in version order, for any stream id", () =>
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 30 }),
        fc.string({ unit: "grapheme", maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { minLength: 2, maxLength: 5 }),
        (s, t, versions) => {
          const ks = versions.map((v) => streamRunKey(streamPrefix(s), v))
          for (const [i, k] of ks.entries()) {
            expect(cmp(k, streamPrefix(s))).toBeGreaterThan(0)
            expect(Math.sign(cmp(k, ks[0]!))).toBe(Math.sign(versions[i]! - versions[0]!))
          }
          if (s !== t) {
            // Every key of t falls on the same side of every key of s.
            const kt = versions.map((v) => streamRunKey(streamPrefix(t), v))
            const sides = new Set(ks.flatMap((a) => kt.map((b) => Math.sign(cmp(a, b)))))
            expect(sides.size).toBe(1)
          }
        },
      ),
    ))

  it("round-trips stream runs, event ids and the commit marker", () =>
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 30 }),
        fc.integer({ min: 1, max: 0xffff_ffff }),
        seqArb,
        fc.integer({ min: 1, max: 0xffff_ffff }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (stream, version, seq, count, hash) => {
          expect(
            decodeStreamRun(streamRunKey(streamPrefix(stream), version), streamRunValue(seq, count)),
          ).toEqual({
            streamId: stream,
            firstVersion: version,
            firstSequence: seq,
            count,
          })
          const probes = [stream, `${stream}:1`].map(probeOf)
          const block = decodeIdBlock(idBlockKey(seq), idBlockValue(probes))!
          expect(block.firstSequence).toBe(seq)
          expect(Array.from({ length: block.count }, (_, i) => block.probe(i))).toEqual(probes)
          const head = decodeHead(headValue(seq, hash))!
          expect(head.sequence).toBe(seq)
          expect(Buffer.from(head.hash)).toEqual(Buffer.from(hash))
        },
      ),
    ))
})
