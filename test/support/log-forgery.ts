/**
 * A forger with write access to a data directory but without its key: reads the whole LevelDB log as
 * chunks of records, lets a test edit that list (drop, swap or re-time chunks, cut the tail), then writes
 * the log back as a CONSISTENT one — sequences renumbered, every hash and link recomputed, index blocks and
 * the commit marker rebuilt. Everything the keyless chain check looks at holds afterwards; only what the
 * key protects (the payloads' AEAD, whose associated data binds each payload's place) or what an anchor
 * kept elsewhere records can reveal the edit. The store must be closed.
 */
import type { ClassicLevel } from "classic-level"
import { chunkValue, splitChunk } from "../../src/infra/leveldb/chunk.js"
import { probeOf } from "../../src/infra/leveldb/id-filter.js"
import {
  CHUNKS_END,
  CHUNKS_START,
  chunkKey,
  HEAD_KEY,
  headValue,
  INDEX_END,
  INDEX_START,
  indexBlockKey,
  indexBlockValue,
} from "../../src/infra/leveldb/keys.js"
import { decodeRecord, encodeRecord, type RecordFields } from "../../src/infra/leveldb/record.js"

type RawDb = ClassicLevel<Uint8Array, Uint8Array>

/** One stored record as the forger sees it: the clear fields and the (sealed) payload bytes. */
export interface ForgedRecord {
  fields: RecordFields
  payload: Buffer
}

/** The log as chunks (a chunk is one sealed group: its members must stay together to open). */
export type ForgedLog = ForgedRecord[][]

/** Reads every chunk of the log. */
export const readLog = async (db: RawDb): Promise<ForgedLog> => {
  const out: ForgedLog = []
  for (const [, value] of await db.iterator({ gte: CHUNKS_START, lt: CHUNKS_END }).all()) {
    const records = splitChunk(value)
    if (records === undefined) throw new Error("unreadable chunk")
    out.push(
      records.map((r) => {
        const d = decodeRecord(r)
        if (d === undefined) throw new Error("unreadable record")
        return { fields: { ...d.fields }, payload: Buffer.from(d.payload) }
      }),
    )
  }
  return out
}

/**
 * Replaces the whole log by `log`, made consistent: sequences 1..n in order, stream versions renumbered per
 * stream when `renumberVersions` (so that stream indexes stay continuous), hashes chained from genesis, one
 * index block per chunk, the marker on the last record.
 */
export const writeLog = async (db: RawDb, log: ForgedLog, renumberVersions = true): Promise<void> => {
  const ops: Array<{ type: "put" | "del"; key: Uint8Array; value?: Uint8Array }> = []
  for (const key of await db.keys({ gte: CHUNKS_START, lt: CHUNKS_END }).all()) ops.push({ type: "del", key })
  for (const key of await db.keys({ gte: INDEX_START, lt: INDEX_END }).all()) ops.push({ type: "del", key })
  let prev: Uint8Array = Buffer.alloc(32)
  let sequence = 0
  const versions = new Map<string, number>()
  for (const chunk of log) {
    if (chunk.length === 0) continue
    const first = sequence + 1
    const records: Buffer[] = []
    const runs: Array<{ streamBytes: Uint8Array; firstVersion: number; count: number }> = []
    for (const r of chunk) {
      sequence++
      const streamVersion = renumberVersions
        ? (versions.get(r.fields.streamId) ?? 0) + 1
        : r.fields.streamVersion
      versions.set(r.fields.streamId, streamVersion)
      const fields: RecordFields = { ...r.fields, sequence, streamVersion }
      const built = encodeRecord(prev, fields, r.payload)
      prev = built.hash
      records.push(built.record)
      const last = runs[runs.length - 1]
      const streamBytes = Buffer.from(fields.streamId, "utf8")
      if (
        last !== undefined &&
        Buffer.from(last.streamBytes).equals(streamBytes) &&
        last.firstVersion + last.count === streamVersion
      )
        last.count++
      else runs.push({ streamBytes, firstVersion: streamVersion, count: 1 })
    }
    ops.push({ type: "put", key: chunkKey(first), value: chunkValue(records) })
    ops.push({
      type: "put",
      key: indexBlockKey(first),
      value: indexBlockValue(
        chunk.map((r) => probeOf(r.fields.eventId)),
        [chunk.length],
        runs,
      ),
    })
  }
  if (sequence === 0) ops.push({ type: "del", key: HEAD_KEY })
  else ops.push({ type: "put", key: HEAD_KEY, value: headValue(sequence, prev) })
  await db.batch(ops as never, { sync: true })
}

/** Reads, edits and writes back the log of a closed store. */
export const forgeLog = async (db: RawDb, edit: (log: ForgedLog) => ForgedLog): Promise<void> =>
  writeLog(db, edit(await readLog(db)))
