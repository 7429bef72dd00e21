import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { computeEventHash, verifyEventHash } from "../../../src/events/envelope.js"
import {
  decodeRecord,
  encodeRecord,
  hashEqualsAt,
  hexEqualsAt,
  PREV_HASH_AT,
  recordHashHolds,
  toStoredEvent,
  verifiedHashHexOf,
  verifiedHashOf,
  viewRecord,
} from "../../../src/infra/leveldb/record.js"

const fieldsArb = fc.record({
  sequence: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  streamId: fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 20 }),
  ),
  streamVersion: fc.integer({ min: 1, max: 0xffff_ffff }),
  eventId: fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 60 }),
    fc.string({ unit: "binary", maxLength: 20 }),
  ),
  type: fc.string({ minLength: 1, maxLength: 30 }),
  schemaVersion: fc.integer({ min: 1, max: 1000 }),
  time: fc.integer({ min: 0, max: 2 ** 48 }),
})
const hashArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
const payloadArb = fc.uint8Array({ maxLength: 600 })

describe("LevelDB record", () => {
  it("hashes exactly as the envelope contract's computeEventHash, and decodes back to its parts", () =>
    fc.assert(
      fc.property(hashArb, fieldsArb, payloadArb, (prev, fields, payload) => {
        const { record, hash } = encodeRecord(prev, fields, payload)
        const prevHex = Buffer.from(prev).toString("hex")
        expect(hash.toString("hex")).toBe(computeEventHash(prevHex, fields, payload))
        const r = decodeRecord(record)!
        expect(r.fields).toEqual(fields)
        expect(Buffer.from(r.payload)).toEqual(Buffer.from(payload))
        expect(recordHashHolds(r)).toBe(true)
        const stored = toStoredEvent(r)
        expect(stored.envelope).toEqual({ ...fields, prevHash: prevHex, hash: hash.toString("hex") })
        expect(verifyEventHash(prevHex, stored)).toBe(true)
        const v = viewRecord(record)!
        expect(v.fields).toEqual(fields)
        expect(Buffer.from(v.bytes.subarray(v.payloadAt, v.hashAt))).toEqual(Buffer.from(payload))
        expect(hashEqualsAt(prev, v.bytes, PREV_HASH_AT)).toBe(true)
        expect(verifiedHashOf(v)?.toString("hex")).toBe(hash.toString("hex"))
        expect(verifiedHashHexOf(v)).toBe(hash.toString("hex"))
        expect(hexEqualsAt(Buffer.from(prev).toString("hex"), v.bytes, PREV_HASH_AT)).toBe(true)
      }),
      { numRuns: 300 },
    ))

  it("detects any single changed byte", () =>
    fc.assert(
      fc.property(
        hashArb,
        fieldsArb,
        payloadArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (prev, fields, payload, at, xor) => {
          const { record } = encodeRecord(prev, fields, payload)
          const bad = Buffer.from(record)
          bad[at % bad.length]! ^= xor
          const r = decodeRecord(bad)
          expect(r === undefined || !recordHashHolds(r)).toBe(true)
          const v = viewRecord(bad)
          // The in-place check of the read path: a changed byte breaks the hash or the link to `prev`.
          expect(
            v === undefined || verifiedHashOf(v) === undefined || !hashEqualsAt(prev, v.bytes, PREV_HASH_AT),
          ).toBe(true)
          expect(
            v === undefined ||
              verifiedHashHexOf(v) === undefined ||
              !hexEqualsAt(Buffer.from(prev).toString("hex"), v.bytes, PREV_HASH_AT),
          ).toBe(true)
        },
      ),
      { numRuns: 500 },
    ))

  it("refuses bytes that are not a record", () => {
    const { record } = encodeRecord(
      new Uint8Array(32),
      { sequence: 1, streamId: "s", streamVersion: 1, eventId: "e", type: "T", schemaVersion: 1, time: 0 },
      new Uint8Array(3),
    )
    expect(decodeRecord(new Uint8Array(0))).toBeUndefined()
    expect(decodeRecord(record.subarray(0, 60))).toBeUndefined()
    expect(decodeRecord(Buffer.concat([Buffer.from("x"), record.subarray(1)]))).toBeUndefined()
    // A length field that runs past the end.
    const long = Buffer.from(record)
    long.writeUInt32BE(10_000, 18 + 32 + 4)
    expect(decodeRecord(long)).toBeUndefined()
  })
})

describe("record fields parsing", () => {
  /** A record around an arbitrary fields text (hash not filled: `viewRecord` does not check it). */
  const withFieldsText = (text: string): Buffer => {
    const base = encodeRecord(
      Buffer.alloc(32),
      { sequence: 1, streamId: "s", streamVersion: 1, eventId: "e", type: "T", schemaVersion: 1, time: 0 },
      Buffer.from("p"),
    ).record
    const json = Buffer.from(text, "utf8")
    const head = base.subarray(0, 50)
    const len = Buffer.alloc(8)
    len.writeUInt32BE(json.length, 4)
    return Buffer.concat([head, len, json, Buffer.from("p"), Buffer.alloc(32)])
  }

  it("reads any JSON spelling of the fields as JSON.parse would, and refuses what it would refuse", () =>
    fc.assert(
      fc.property(fieldsArb, fc.constantFrom(0, 1, 2), (f, spaces) => {
        const arr = [f.sequence, f.streamId, f.streamVersion, f.eventId, f.type, f.schemaVersion, f.time]
        const v = viewRecord(withFieldsText(JSON.stringify(arr, null, spaces)))
        expect(v?.fields).toEqual(f)
      }),
    ))

  it("refuses numbers JSON refuses or that are not natural, and unterminated or extra text", () => {
    for (const text of [
      '[01,"s",1,"e","T",1,0]',
      '[1,"s",1,"e","T",1,-1]',
      '[1.5,"s",1,"e","T",1,0]',
      '[1,"s",1,"e","T",1]',
      '[1,"s",1,"e","T",1,0,2]',
      '[1,"s,1,"e","T",1,0]',
      '[1,"s",1,"e","T",1,0]x',
      '[1,s,1,"e","T",1,0]',
    ])
      expect(viewRecord(withFieldsText(text)), text).toBeUndefined()
    // Exponents and escapes are valid JSON: the slow path reads them.
    expect(viewRecord(withFieldsText('[1e3,"s\\u0041",1,"e","T",1,0]'))?.fields).toMatchObject({
      sequence: 1000,
      streamId: "sA",
    })
  })
})
