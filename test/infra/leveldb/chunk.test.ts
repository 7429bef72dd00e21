import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { chunkValue, encodeChunk, readChunk, splitChunk } from "../../../src/infra/leveldb/chunk.js"
import { ChunkIndex } from "../../../src/infra/leveldb/chunk-index.js"
import { encodeRecord, type RecordFields } from "../../../src/infra/leveldb/record.js"

const records = fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 20 })

describe("chunk framing", () => {
  it("round-trips any non-empty list of non-empty records, as views into the value", () =>
    fc.assert(
      fc.property(records, (rs) => {
        const value = chunkValue(rs)
        const back = splitChunk(value)!
        expect(back.map((r) => Buffer.from(r))).toEqual(rs.map((r) => Buffer.from(r)))
        expect(back.every((r) => r.buffer === value.buffer)).toBe(true)
      }),
    ))

  it("reads up to broken framing and says so: a value cut anywhere inside a record, or an empty one", () =>
    fc.assert(
      fc.property(records, fc.nat(), (rs, at) => {
        const value = chunkValue(rs)
        // Cut strictly inside the value, not at a record boundary.
        const boundaries = new Set<number>()
        let o = 0
        for (const r of rs) {
          o += 4 + r.length
          boundaries.add(o)
        }
        const cut = 1 + (at % (value.length - 1))
        if (boundaries.has(cut)) return
        const { records: got, intact } = readChunk(value.subarray(0, cut))
        expect(intact).toBe(false)
        expect(splitChunk(value.subarray(0, cut))).toBeUndefined()
        // Every record before the cut is still handed out, intact.
        let whole = 0
        let end = 0
        for (const r of rs) {
          end += 4 + r.length
          if (end <= cut) whole++
        }
        expect(got.map((r) => Buffer.from(r))).toEqual(rs.slice(0, whole).map((r) => Buffer.from(r)))
      }),
    ))

  it("refuses an empty value and a zero-length record", () => {
    expect(splitChunk(new Uint8Array(0))).toBeUndefined()
    expect(splitChunk(Uint8Array.of(0, 0, 0, 0))).toBeUndefined()
    expect(readChunk(Uint8Array.of(0, 0, 0, 1, 7, 0, 0, 0, 0))).toMatchObject({ intact: false })
  })
})

describe("encodeChunk", () => {
  const fieldsArb = fc.record({
    streamId: fc.oneof(fc.constantFrom("wallet/a", "wallet/b"), fc.string({ unit: "binary", maxLength: 8 })),
    eventId: fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: "binary", maxLength: 12 })),
    type: fc.constantFrom("ProofsIssued", "WalletCreated"),
    schemaVersion: fc.integer({ min: 1, max: 9 }),
    time: fc.nat(),
    payload: fc.uint8Array({ maxLength: 80 }),
  })

  it("builds exactly the chunk of the records encodeRecord chains, and says where each one sits", () =>
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fieldsArb, { minLength: 1, maxLength: 12 }),
        (prevHash, specs) => {
          const fields: RecordFields[] = specs.map((f, i) => ({
            sequence: 100 + i,
            streamId: f.streamId,
            streamVersion: i + 1,
            eventId: f.eventId,
            type: f.type,
            schemaVersion: f.schemaVersion,
            time: f.time,
          }))
          const payloads = specs.map((f) => f.payload)
          // The reference: one record at a time, each linked to the one before.
          const records: Buffer[] = []
          let prev: Uint8Array = prevHash
          for (const [i, f] of fields.entries()) {
            const { record, hash } = encodeRecord(prev, f, payloads[i]!)
            records.push(record)
            prev = hash
          }
          const built = encodeChunk(prevHash, fields, payloads)
          expect(built.value).toEqual(chunkValue(records))
          expect(Buffer.from(built.lastHash)).toEqual(Buffer.from(prev))
          records.forEach((r, i) => {
            expect(built.value.subarray(built.starts[i]!, built.ends[i]!)).toEqual(r)
            expect(built.value.subarray(built.payloadAts[i]!, built.ends[i]! - 32)).toEqual(
              Buffer.from(payloads[i]!),
            )
          })
        },
      ),
    ))
})

describe("chunk index", () => {
  it("finds the chunk holding any sequence, and where it ends, as a scan would", () =>
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 40 }), (sizes) => {
        const index = new ChunkIndex()
        const starts: number[] = []
        let next = 1
        for (const size of sizes) {
          index.add(next)
          starts.push(next)
          next += size
        }
        const head = next - 1
        expect(index.size).toBe(sizes.length)
        for (let seq = 1; seq <= head; seq++) {
          const c = starts.filter((s) => s <= seq).length - 1
          expect(index.startOf(seq)).toBe(starts[c])
          expect(index.endOf(seq, head)).toBe(c + 1 < starts.length ? starts[c + 1]! - 1 : head)
        }
      }),
    ))

  it("answers for an empty index, and refuses starts that do not ascend", () => {
    const index = new ChunkIndex()
    expect(index.startOf(5)).toBe(5)
    expect(index.endOf(5, 0)).toBe(0)
    index.add(3)
    expect(() => index.add(3)).toThrow(RangeError)
    expect(() => index.add(2)).toThrow(RangeError)
  })
})
