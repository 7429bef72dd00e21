import { Cause, Effect, Exit, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { chunkKey } from "../../../src/infra/leveldb/keys.js"
import { decodeRecord, encodeRecord } from "../../../src/infra/leveldb/record.js"
import type { NewEvent } from "../../../src/ports/event-store.js"
import { chunkHolding, deleteRecord, getRecord, putChunk, putRecord } from "../fixtures/chunks.js"
import { fails, leveldbHarness, openFailure, withRaw } from "../fixtures/leveldb-harness.js"
import { newEvents, walletCreated } from "../fixtures/sample-events.js"

const { freshDir, open, auditClosed } = leveldbHarness("corecashu-chunks-")
const key = new Uint8Array(32).fill(11)
const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

/** `rounds` rounds in which `streams` streams each append `per` events in the same turn (one chunk). */
const concurrentLog = async (
  streams: number,
  rounds: number,
  per: number,
  kind: "proofs" | "wallets" = "proofs",
) => {
  const dir = await freshDir()
  const store = await open({ dataDir: dir, key, pageSize: 5 })
  const expected = new Map<string, NewEvent[]>()
  for (let r = 0; r < rounds; r++)
    await Promise.all(
      Array.from({ length: streams }, (_, s) => {
        const events =
          kind === "proofs"
            ? newEvents(`s${s}`, r * per, per)
            : Array.from({ length: per }, (_, k) => ({
                eventId: `s${s}-${r * per + k}`,
                event: walletCreated(`w${s}-${r * per + k}`),
              }))
        expected.set(`wallet/s${s}`, [...(expected.get(`wallet/s${s}`) ?? []), ...events])
        return run(store.append(`wallet/s${s}`, r * per, events))
      }),
    )
  return { dir, store, expected, n: streams * rounds * per }
}

describe("LevelDB event store: one sealed group per chunk of concurrent appends", () => {
  it("seals the appends of one turn together, across streams", async () => {
    const { store } = await concurrentLog(4, 1, 2)
    const raw = await run(Stream.runCollect(store.readRaw(1)))
    // One group of 8 members (version byte 2, index i, count 8), whatever the streams.
    expect(
      Array.from(raw).map((e) => {
        const p = Buffer.from(e.payload)
        return [p[0], p.readUInt32BE(1), p.readUInt32BE(5)]
      }),
    ).toEqual(Array.from({ length: 8 }, (_, i) => [2, i, 8]))
    expect(new Set(Array.from(raw).map((e) => e.envelope.streamId)).size).toBe(4)
  })

  it("reads every stream back exactly, from every version, and audits clean", async () => {
    const { dir, store, expected, n } = await concurrentLog(5, 4, 3, "wallets")
    for (const [streamId, events] of expected) {
      for (let from = 1; from <= events.length + 1; from++) {
        const got = await run(store.read(streamId, from))
        expect(got.map((r) => r.envelope.eventId)).toEqual(events.slice(from - 1).map((e) => e.eventId))
        expect(got.map((r) => r.event)).toEqual(events.slice(from - 1).map((e) => e.event))
        expect(got.every((r) => r.envelope.streamId === streamId)).toBe(true)
      }
    }
    const all = await run(Stream.runCollect(store.readAll(1)))
    for (let from = 1; from <= n; from += 7)
      expect(Array.from(await run(Stream.runCollect(store.readAll(from))))).toEqual(
        Array.from(all).slice(from - 1),
      )
    await run(store.close)
    expect((await auditClosed(dir, key)).report).toEqual({
      ok: true,
      scope: "full",
      events: n,
      head: n,
    })
  })

  it("fails a stream's read when another stream's member of its group was tampered with", async () => {
    // Two turns of three streams × two events: groups 1–6 and 7–12; record 5 belongs to stream s2.
    const { dir, store } = await concurrentLog(3, 2, 2)
    expect((await run(store.read("wallet/s0"))).length).toBe(4)
    await run(store.close)
    await withRaw(dir, async (db) => {
      const bytes = await getRecord(db, 5)
      expect(decodeRecord(bytes)!.fields.streamId).toBe("wallet/s2")
      const at = bytes.length - 32 - 1 // the last ciphertext byte
      bytes[at] = bytes[at]! ^ 1
      await putRecord(db, 5, bytes)
    })
    const reopened = await open({ dataDir: dir, key, tailCheck: 2 })
    const exit = await Effect.runPromiseExit(reopened.read("wallet/s0"))
    const err = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : undefined
    expect(err?._tag === "Some" ? err.value : undefined).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: 5,
    })
    // Stream s1 has no damaged record of its own, but shares the group: its read fails too.
    expect(Exit.isFailure(await Effect.runPromiseExit(reopened.read("wallet/s1")))).toBe(true)
  })
})

describe("LevelDB event store: a chunk of records per value, damage named at the record", () => {
  /**
   * Chunks 1–8, 9–16 and 17–24 of streams s0, s1 and s2: one append of eight events each, awaited in turn,
   * so each is a chunk of its own (concurrent appends share chunks as timing has it).
   */
  const chunkedLog = async () => {
    const dir = await freshDir()
    const store = await open({ dataDir: dir, key, pageSize: 5 })
    for (let s = 0; s < 3; s++) await run(store.append(`wallet/s${s}`, 0, newEvents(`s${s}`, 0, 8)))
    await run(store.close)
    return dir
  }

  it("reads from inside a chunk exactly: readRaw, readAll and subscribe start at `from`", async () => {
    const { store, n } = await concurrentLog(4, 3, 2)
    const all = Array.from(await run(Stream.runCollect(store.readRaw(1))))
    expect(all.map((e) => e.envelope.sequence)).toEqual(Array.from({ length: n }, (_, i) => i + 1))
    for (const from of [2, 8, 9, 11, 24]) {
      const raw = Array.from(await run(Stream.runCollect(store.readRaw(from))))
      expect(raw).toEqual(all.slice(from - 1))
      const decoded = Array.from(await run(Stream.runCollect(store.readAll(from))))
      expect(decoded.map((e) => e.envelope)).toEqual(all.slice(from - 1).map((e) => e.envelope))
      const live = await run(Stream.runCollect(Stream.take(store.subscribe(from), n - from + 1)))
      expect(Array.from(live).map((e) => e.envelope.sequence)).toEqual(
        all.slice(from - 1).map((e) => e.envelope.sequence),
      )
    }
  })

  it("names a record removed from the middle of a chunk: at open, in verifyChain, readAll and read", async () => {
    const dir = await chunkedLog()
    const stream = await withRaw(dir, async (db) => {
      const victim = decodeRecord(await getRecord(db, 12))!.fields.streamId
      await deleteRecord(db, 12)
      return victim
    })
    expect(await openFailure({ dataDir: dir, key })).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: 12,
    })
    // The tail check from 17 on passes; everything that reads the chunk 9–16 names sequence 12.
    const store = await open({ dataDir: dir, key, tailCheck: 4 })
    expect(await fails(store.verifyChain)).toMatchObject({ _tag: "StoreCorrupted", firstBadSequence: 12 })
    expect(await fails(Stream.runCollect(store.readAll()))).toMatchObject({ firstBadSequence: 12 })
    expect(await fails(Stream.runCollect(store.readRaw(10)))).toMatchObject({ firstBadSequence: 12 })
    expect(await fails(store.read(stream))).toMatchObject({ _tag: "StoreCorrupted" })
  })

  it("names the first record that broken framing hides, and a whole missing chunk at its start", async () => {
    const cut = await chunkedLog()
    await withRaw(cut, async (db) => {
      const value = Buffer.from((await db.get(chunkKey(9)))!)
      // Records 9–13 stay whole; record 14's frame runs past the end.
      let o = 0
      for (let i = 0; i < 5; i++) o += 4 + value.readUInt32BE(o)
      await db.put(chunkKey(9), value.subarray(0, o + 10))
    })
    expect(await openFailure({ dataDir: cut, key })).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: 14,
    })
    const gone = await chunkedLog()
    await withRaw(gone, (db) => db.del(chunkKey(9)))
    expect(await openFailure({ dataDir: gone, key })).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: 9,
    })
    const store = await open({ dataDir: gone, key, tailCheck: 4 })
    expect(await fails(store.read("wallet/s1"))).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: 9,
    })
  })

  it("refuses a record appended to the head's chunk past the commit marker", async () => {
    const dir = await chunkedLog()
    await withRaw(dir, async (db) => {
      const last = decodeRecord(await getRecord(db, 24))!
      const extra = encodeRecord(last.hash, { ...last.fields, sequence: 25, eventId: "extra" }, last.payload)
      const { records } = await chunkHolding(db, 24)
      await putChunk(db, 17, [...records, extra.record])
    })
    expect(await openFailure({ dataDir: dir, key })).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: 25,
    })
  })
})
