import { describe, expect, it } from "vitest"
import { identitySealer, type PayloadSealer } from "../../../src/events/sealer.js"
import { GENESIS } from "../../../src/infra/leveldb/chain.js"
import { splitChunk } from "../../../src/infra/leveldb/chunk.js"
import { ChunkIndex } from "../../../src/infra/leveldb/chunk-index.js"
import { type AppendError, GroupCommitWriter } from "../../../src/infra/leveldb/group-commit.js"
import { IdIndex } from "../../../src/infra/leveldb/id-index.js"
import { HEAD_KEY, sequenceOfKey } from "../../../src/infra/leveldb/keys.js"
import type { Db } from "../../../src/infra/leveldb/open-db.js"
import { decodeRecord } from "../../../src/infra/leveldb/record.js"
import { StreamIndex } from "../../../src/infra/leveldb/stream-index.js"
import { VaultError } from "../../../src/model/index.js"
import type { AppendResult, NewEvent } from "../../../src/ports/event-store.js"
import { newEvents } from "../fixtures/sample-events.js"

/** An in-memory stand-in for the LevelDB handle whose numbered writes can be made to fail. */
const fakeDb = (failing: ReadonlySet<number>) => {
  const data = new Map<string, Uint8Array>()
  const hex = (k: Uint8Array) => Buffer.from(k).toString("hex")
  let writes = 0
  const db = {
    batch: () => {
      const ops: Array<[Uint8Array, Uint8Array]> = []
      return {
        put: (k: Uint8Array, v: Uint8Array) => void ops.push([k, v]),
        write: async () => {
          const n = ++writes
          await new Promise((r) => setTimeout(r, 2))
          if (failing.has(n)) throw new Error("simulated I/O failure")
          for (const [k, v] of ops) data.set(hex(k), v)
        },
        close: async () => undefined,
      }
    },
    getMany: async (keys: Uint8Array[]) => keys.map((k) => data.get(hex(k))),
  }
  /** The record at `sequence`, from the chunk holding it. */
  const record = (sequence: number): Uint8Array | undefined => {
    for (const [k, v] of data) {
      const start = sequenceOfKey(Buffer.from(k, "hex"))
      const records = start === undefined ? undefined : splitChunk(v)
      if (
        start !== undefined &&
        records !== undefined &&
        sequence >= start &&
        sequence < start + records.length
      )
        return records[sequence - start]
    }
    return undefined
  }
  return {
    db: db as unknown as Db,
    get: (k: Uint8Array) => data.get(hex(k)),
    record,
    writes: () => writes,
  }
}

const append = (w: GroupCommitWriter, stream: string, expected: number | "any", events: NewEvent[]) =>
  new Promise<AppendResult | AppendError>((resolve) =>
    w.append(stream, expected, events, (error, result) =>
      resolve(error === undefined ? result! : "defect" in error ? Promise.reject(error.defect) : error),
    ),
  )

const writer = (db: Db) =>
  new GroupCommitWriter(
    db,
    identitySealer,
    new IdIndex(),
    { head: 0, headHash: GENESIS, streams: new StreamIndex(), chunks: new ChunkIndex() },
    () => {},
  )

describe("GroupCommitWriter", () => {
  it("fails the appends of a failed write and of the batch queued behind it, then continues from the last commit", async () => {
    const fake = fakeDb(new Set([2]))
    const w = writer(fake.db)
    // Write 1 (ok): a.
    expect(await append(w, "wallet/a", 0, newEvents("a", 0, 2))).toMatchObject({ lastSequence: 2 })
    // Write 2 fails with b in it; c queues behind it (its sequences build on b's) and fails too.
    const b = append(w, "wallet/b", 0, newEvents("b", 0, 1))
    await Promise.resolve()
    const c = append(w, "wallet/c", 0, newEvents("c", 0, 1))
    expect(await b).toMatchObject({ _tag: "StoreUnavailable", reason: "io" })
    expect(await c).toMatchObject({ _tag: "StoreUnavailable", reason: "io" })
    expect(w.head).toBe(2)
    expect(w.tail).toBe(2)
    // Retrying with the same ids appends them (they were never stored), right after the last commit.
    expect(await append(w, "wallet/b", 0, newEvents("b", 0, 1))).toEqual({
      firstSequence: 3,
      lastSequence: 3,
      streamVersion: 1,
      deduplicated: false,
    })
    const r2 = decodeRecord(fake.record(2)!)!
    const r3 = decodeRecord(fake.record(3)!)!
    expect(r3.prevHash.equals(r2.hash)).toBe(true)
    expect(Buffer.from(fake.get(HEAD_KEY)!).subarray(8).equals(r3.hash)).toBe(true)
  })

  it("looks an index hit up in the records and tells a retry from a new id", async () => {
    const fake = fakeDb(new Set())
    const w = writer(fake.db)
    const batch = newEvents("x", 0, 3)
    await append(w, "wallet/x", 0, batch)
    // A new writer over the same data: the filter knows the ids, the pending map does not.
    const ids = new IdIndex()
    for (const [i, e] of batch.entries()) ids.add(e.eventId, i + 1)
    const head = decodeRecord(fake.record(3)!)!
    const streams = new StreamIndex()
    streams.add({ streamId: "wallet/x", firstVersion: 1, count: 3, firstSequence: 1 })
    const chunks = new ChunkIndex()
    chunks.add(1)
    const again = new GroupCommitWriter(
      fake.db,
      identitySealer,
      ids,
      { head: 3, headHash: head.hash, streams, chunks },
      () => {},
    )
    expect(await append(again, "wallet/x", 0, batch.slice(1))).toEqual({
      firstSequence: 2,
      lastSequence: 3,
      streamVersion: 3,
      deduplicated: true,
    })
    expect(await append(again, "wallet/y", 0, batch.slice(0, 1))).toMatchObject({
      _tag: "WrongExpectedVersion",
    })
    expect(await append(again, "wallet/x", 3, newEvents("x", 3, 1))).toMatchObject({ firstSequence: 4 })
  })

  it("seals the appends of one turn as one group across streams, and fails only that chunk when sealing fails", async () => {
    const fake = fakeDb(new Set())
    const groups: number[] = []
    let failNext = false
    // A group-capable sealer that records group sizes and can be made to fail once.
    const sealer: PayloadSealer = {
      seal: (p) => Buffer.concat([Buffer.from([1]), p]),
      open: (p) => p.subarray(1),
      group: {
        seal: (plains) => {
          if (failNext) {
            failNext = false
            throw new VaultError({ reason: "bad-parameters", message: "simulated sealing failure" })
          }
          groups.push(plains.length)
          return plains.map((p) => Buffer.concat([Buffer.from([2]), p]))
        },
        open: (sealed) => sealed.map((p) => p.subarray(1)),
        positionOf: () => undefined,
      },
    }
    const w = new GroupCommitWriter(
      fake.db,
      sealer,
      new IdIndex(),
      { head: 0, headHash: GENESIS, streams: new StreamIndex(), chunks: new ChunkIndex() },
      () => {},
    )
    // One turn: three streams, 2 + 1 + 3 events → one group of six.
    const first = await Promise.all([
      append(w, "wallet/a", 0, newEvents("a", 0, 2)),
      append(w, "wallet/b", 0, newEvents("b", 0, 1)),
      append(w, "wallet/c", 0, newEvents("c", 0, 3)),
    ])
    expect(first.map((r) => (r as AppendResult).lastSequence)).toEqual([2, 3, 6])
    expect(groups).toEqual([6])
    // The next turn's chunk fails to seal: both of its appends fail with the sealer's error, nothing is
    // written, and the writer carries on from the last good chunk.
    failNext = true
    const failed = await Promise.all([
      append(w, "wallet/a", 2, newEvents("a", 2, 1)),
      append(w, "wallet/b", 1, newEvents("b", 1, 1)),
    ])
    expect(failed).toMatchObject([{ _tag: "VaultError" }, { _tag: "VaultError" }])
    expect(w.tail).toBe(6)
    expect(await append(w, "wallet/a", 2, newEvents("a", 2, 2))).toMatchObject({
      firstSequence: 7,
      lastSequence: 8,
      streamVersion: 4,
    })
    expect(w.head).toBe(8)
    expect(decodeRecord(fake.record(7)!)!.prevHash.equals(decodeRecord(fake.record(6)!)!.hash)).toBe(true)
  })
})
