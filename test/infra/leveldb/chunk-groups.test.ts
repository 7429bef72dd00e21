/**
 * Concurrent appends (one chunk of the writer) are sealed as ONE group across their streams: every stream
 * still reads back exactly its own events, the audit and every read position still hold, and tampering with
 * another stream's member of the group is caught when this stream is read.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ClassicLevel } from "classic-level"
import { Cause, Effect, Exit, Scope, Stream } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { NewEvent } from "../../../src/events/store.js"
import { VAULT_KEY } from "../../../src/infra/leveldb/keys.js"
import { decodeRecord } from "../../../src/infra/leveldb/record.js"
import {
  type LevelDbEventStore,
  type LevelDbStoreOptions,
  openLevelDbEventStore,
} from "../../../src/infra/leveldb-store.js"
import { unlockVault } from "../../../src/infra/vault.js"
import { auditLog, payloadDecoder } from "../../../src/projections/audit.js"
import { getRecord, putRecord } from "../fixtures/chunks.js"
import { newEvents, walletCreated } from "../fixtures/sample-events.js"

const scopes: Scope.Closeable[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const scope of scopes.splice(0)) await Effect.runPromise(Scope.close(scope, Exit.void))
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

const key = new Uint8Array(32).fill(11)
const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)
const open = async (opts: LevelDbStoreOptions): Promise<LevelDbEventStore> => {
  const scope = await Effect.runPromise(Scope.make())
  scopes.push(scope)
  return Effect.runPromise(Scope.provide(scope)(openLevelDbEventStore(opts)))
}
const withRaw = async <A>(dir: string, f: (db: ClassicLevel<Uint8Array, Uint8Array>) => Promise<A>) => {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" })
  await db.open()
  try {
    return await f(db)
  } finally {
    await db.close()
  }
}

/** `rounds` rounds in which `streams` streams each append `per` events in the same turn (one chunk). */
const concurrentLog = async (
  streams: number,
  rounds: number,
  per: number,
  kind: "proofs" | "wallets" = "proofs",
) => {
  const dir = await mkdtemp(join(tmpdir(), "corecashu-chunk-groups-"))
  dirs.push(dir)
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
    const vault = unlockVault(
      JSON.parse(Buffer.from((await withRaw(dir, (db) => db.get(VAULT_KEY)))!).toString()),
      { key },
    )
    const audited = await open({ dataDir: dir, chainOnly: true })
    expect(await run(auditLog(audited, payloadDecoder(vault)))).toEqual({
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
