import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { ClassicLevel } from "classic-level"
import { Effect, Exit, Fiber, Scope, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { GENESIS_HASH, verifyEventHash } from "../../src/events/envelope.js"
import { probeOf } from "../../src/infra/leveldb/id-filter.js"
import {
  FORMAT_KEY,
  HEAD_KEY,
  headValue,
  INDEX_END,
  INDEX_START,
  indexBlockKey,
  indexBlockValue,
  VAULT_KEY,
} from "../../src/infra/leveldb/keys.js"
import { decodeRecord, encodeRecord } from "../../src/infra/leveldb/record.js"
import {
  type LevelDbEventStore,
  LevelDbEventStoreLive,
  type LevelDbStoreOptions,
  openLevelDbEventStore,
} from "../../src/infra/leveldb-store.js"
import { unlockVault } from "../../src/infra/vault.js"
import { EventStore, type NewEvent } from "../../src/ports/event-store.js"
import { auditLog, payloadDecoder } from "../../src/projections/audit.js"
import { runEventStoreContract } from "../ports/event-store-contract.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"
import { deleteRecord, getRecord, putChunk, putRecord } from "./fixtures/chunks.js"
import {
  fails,
  failureOf,
  leveldbHarness,
  materialOf,
  openFailure,
  withRaw,
} from "./fixtures/leveldb-harness.js"
import { MNEMONIC, newEvents, proofSecret, walletCreated } from "./fixtures/sample-events.js"

// ---------------------------------------------------------------------------------------------------------
// Harness: stores opened in their own scopes, raw access to the files, typed failures.
// ---------------------------------------------------------------------------------------------------------

const { freshDir, open, auditClosed } = leveldbHarness()

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)
const collect = async <A, E>(stream: Stream.Stream<A, E>): Promise<A[]> =>
  Array.from(await run(Stream.runCollect(stream)))

/** A store with `n` events in `streams` round-robin streams, one event per append; closed on return. */
const filled = async (n: number, opts: Partial<LevelDbStoreOptions> = {}): Promise<string> => {
  const dir = await freshDir()
  const store = await open({ dataDir: dir, unencrypted: true, ...opts } as LevelDbStoreOptions)
  for (let i = 0; i < n; i++) await run(store.append(`wallet/w${i % 3}`, "any", newEvents("f", i, 1)))
  await run(store.close)
  return dir
}

// ---------------------------------------------------------------------------------------------------------
// The shared contract, with reopen
// ---------------------------------------------------------------------------------------------------------

runEventStoreContract(
  "leveldb",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "corecashu-contract-"))
    const mine: Scope.Closeable[] = []
    const openHere = async () => {
      const scope = await Effect.runPromise(Scope.make())
      mine.push(scope)
      return Effect.runPromise(
        Scope.provide(scope)(openLevelDbEventStore({ dataDir: dir, unencrypted: true })),
      )
    }
    return {
      store: await openHere(),
      reopen: openHere,
      cleanup: async () => {
        for (const scope of mine) await Effect.runPromise(Scope.close(scope, Exit.void))
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
  { propertyRuns: 15 },
)

// The same contract through a vault: appends of several events are then sealed as groups.
runEventStoreContract(
  "leveldb (sealed)",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "corecashu-contract-"))
    const mine: Scope.Closeable[] = []
    const openHere = async () => {
      const scope = await Effect.runPromise(Scope.make())
      mine.push(scope)
      return Effect.runPromise(
        Scope.provide(scope)(
          openLevelDbEventStore({ dataDir: dir, key: new Uint8Array(32).fill(5), pageSize: 3 }),
        ),
      )
    }
    return {
      store: await openHere(),
      reopen: openHere,
      cleanup: async () => {
        for (const scope of mine) await Effect.runPromise(Scope.close(scope, Exit.void))
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
  { propertyRuns: 8 },
)

// ---------------------------------------------------------------------------------------------------------
// LevelDB-specific behaviour
// ---------------------------------------------------------------------------------------------------------

describe("LevelDB event store: group commit", () => {
  it("shares fsynced batches between concurrent appends and chains them in arrival order", async () => {
    const dir = await freshDir()
    const store = await open({ dataDir: dir, unencrypted: true })
    const wallets = 40
    const rounds = 5
    const results = await run(
      Effect.forEach(
        Array.from({ length: wallets }, (_, w) => w),
        (w) =>
          Effect.gen(function* () {
            const out = []
            let version = 0
            for (let r = 0; r < rounds; r++) {
              const res = yield* store.append(`wallet/w${w}`, version, newEvents(`g${w}`, r * 2, 2))
              version = res.streamVersion
              out.push(res)
            }
            return out
          }),
        { concurrency: "unbounded" },
      ),
    )
    const total = wallets * rounds * 2
    const stats = store.stats()
    expect(stats.events).toBe(total)
    // Far fewer fsyncs than appends: appends issued while a batch was on its way to disk shared the next one.
    expect(stats.batches).toBeLessThan((wallets * rounds) / 4)
    const sequences = results.flat().flatMap((r) => [r.firstSequence, r.lastSequence])
    expect(new Set(sequences).size).toBe(sequences.length)
    const raw = await collect(store.readRaw())
    expect(raw.map((e) => e.envelope.sequence)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    let prev = GENESIS_HASH
    for (const e of raw) {
      // The records' hashes are exactly the contract's `computeEventHash`.
      expect(verifyEventHash(prev, e)).toBe(true)
      prev = e.envelope.hash
    }
    expect(await run(store.verifyChain)).toEqual({ head: total, verified: total })
  })

  it("rejects a stale append without failing the appends that share its batch", async () => {
    const store = await open({ dataDir: await freshDir(), unencrypted: true })
    await run(store.append("wallet/x", 0, newEvents("x", 0, 1)))
    const exits = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) =>
        Effect.runPromiseExit(store.append(`wallet/ok${i}`, 0, newEvents(`ok${i}`, 0, 2))),
      ),
      Effect.runPromiseExit(store.append("wallet/x", 0, newEvents("x", 1, 1))),
      Effect.runPromiseExit(
        store.append("wallet/y", 0, [
          { eventId: "bad", event: { _tag: "ProofsSpent", ys: [] } } as unknown as NewEvent,
        ]),
      ),
    ])
    expect(exits.slice(0, 10).every(Exit.isSuccess)).toBe(true)
    expect(failureOf(exits[10]!)).toMatchObject({ _tag: "WrongExpectedVersion", expected: 0, actual: 1 })
    expect(failureOf(exits[11]!)).toMatchObject({ _tag: "EventCodecError" })
    expect(await run(store.head)).toBe(21)
    expect(await run(store.verifyChain)).toEqual({ head: 21, verified: 21 })
  })

  it("answers a retry issued while the original is still in flight only once it is durable", async () => {
    const store = await open({ dataDir: await freshDir(), unencrypted: true })
    const batch = newEvents("r", 0, 3)
    const [first, second] = await Promise.all([
      run(store.append("wallet/r", 0, batch)),
      run(store.append("wallet/r", 0, batch)),
    ])
    expect(first).toEqual({ firstSequence: 1, lastSequence: 3, streamVersion: 3, deduplicated: false })
    expect(second).toEqual({ ...first, deduplicated: true })
    expect(await run(store.head)).toBe(3)
  })

  it("finds stored ids after a reopen through the id index, and tells new ids apart", async () => {
    const dir = await filled(300)
    const store = await open({ dataDir: dir, unencrypted: true })
    // Every stored id is recognised (no false negative after the filter is rebuilt from the index) …
    for (const i of [0, 1, 150, 299]) {
      const res = await run(store.append(`wallet/w${i % 3}`, "any", newEvents("f", i, 1)))
      expect(res).toMatchObject({ firstSequence: i + 1, deduplicated: true })
    }
    // … and new ids are appended.
    const fresh = await run(store.append("wallet/w0", "any", newEvents("new", 0, 50)))
    expect(fresh).toMatchObject({ firstSequence: 301, lastSequence: 350, deduplicated: false })
  })
})

describe("LevelDB event store: layer", () => {
  it("provides the EventStore service and closes the store with the layer", async () => {
    const dir = await freshDir()
    const program = Effect.gen(function* () {
      const store = yield* EventStore
      return yield* store.append("wallet/l", 0, newEvents("l", 0, 2))
    })
    expect(
      await run(Effect.provide(program, LevelDbEventStoreLive({ dataDir: dir, unencrypted: true }))),
    ).toEqual({
      firstSequence: 1,
      lastSequence: 2,
      streamVersion: 2,
      deduplicated: false,
    })
    // The layer released the directory: it opens again, with the events in it.
    const store = await open({ dataDir: dir, unencrypted: true })
    expect(await run(store.head)).toBe(2)
  })
})

describe("LevelDB event store: one process per data directory", () => {
  it("fails a second opener with StoreLocked until the first closes", async () => {
    const dir = await freshDir()
    const store = await open({ dataDir: dir, unencrypted: true })
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({
      _tag: "StoreLocked",
      dataDir: dir,
    })
    await run(store.close)
    const again = await open({ dataDir: dir, unencrypted: true })
    expect(await run(again.head)).toBe(0)
  })
})

describe("LevelDB event store: corruption never passes silently", () => {
  const damage = async (dir: string, f: (db: ClassicLevel<Uint8Array, Uint8Array>) => Promise<void>) =>
    withRaw(dir, f)

  it("names a deleted record: at open when it is in the checked tail, in verifyChain and reads otherwise", async () => {
    const dir = await filled(120)
    await damage(dir, (db) => deleteRecord(db, 60))
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: 60,
    })
    const store = await open({ dataDir: dir, unencrypted: true, tailCheck: 20 })
    expect(store.opened).toEqual({ head: 120, verifiedTail: 21 })
    expect(await fails(store.verifyChain)).toMatchObject({ _tag: "StoreCorrupted", firstBadSequence: 60 })
    expect(await fails(Stream.runCollect(store.readAll()))).toMatchObject({ firstBadSequence: 60 })
    expect(await fails(Stream.runCollect(store.readRaw(40)))).toMatchObject({ firstBadSequence: 60 })
    expect(await fails(store.read("wallet/w2"))).toMatchObject({ firstBadSequence: 60 })
  })

  it("names a record whose payload changed by one byte", async () => {
    const dir = await filled(120)
    await damage(dir, async (db) => {
      const value = await getRecord(db, 77)
      value[value.length - 40]! ^= 0x01
      await putRecord(db, 77, value)
    })
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: 77,
    })
    const store = await open({ dataDir: dir, unencrypted: true, tailCheck: 10 })
    expect(await fails(store.verifyChain)).toMatchObject({ _tag: "StoreCorrupted", firstBadSequence: 77 })
    expect(await fails(Stream.runCollect(store.readAll(70)))).toMatchObject({ firstBadSequence: 77 })
    expect(await fails(store.read("wallet/w1"))).toMatchObject({ firstBadSequence: 77 })
  })

  it("names the first of two swapped records", async () => {
    const dir = await filled(120)
    await damage(dir, async (db) => {
      const [a, b] = [await getRecord(db, 90), await getRecord(db, 91)]
      await putRecord(db, 90, b)
      await putRecord(db, 91, a)
    })
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({ firstBadSequence: 90 })
    const store = await open({ dataDir: dir, unencrypted: true, tailCheck: 5 })
    expect(await fails(store.verifyChain)).toMatchObject({ _tag: "StoreCorrupted", firstBadSequence: 90 })
  })

  it("reads ahead page by page: the same events as one page, and damage in a later page is still named", async () => {
    const dir = await filled(120)
    const one = await open({ dataDir: dir, unencrypted: true, pageSize: 1000 })
    const whole = await collect(one.readAll())
    const rawFrom40 = await collect(one.readRaw(40))
    await run(one.close)
    const paged = await open({ dataDir: dir, unencrypted: true, pageSize: 7 })
    expect(await collect(paged.readAll())).toEqual(whole)
    expect(await collect(paged.readRaw(40))).toEqual(rawFrom40)
    // A stream stopped early leaves a page read ahead behind; closing the store afterwards is clean.
    expect(await collect(Stream.take(paged.readAll(), 3))).toEqual(whole.slice(0, 3))
    await run(paged.close)
    await damage(dir, async (db) => {
      const value = await getRecord(db, 100)
      value[value.length - 40]! ^= 0x01
      await putRecord(db, 100, value)
    })
    const store = await open({ dataDir: dir, unencrypted: true, pageSize: 7, tailCheck: 5 })
    expect(await fails(Stream.runCollect(store.readAll()))).toMatchObject({ firstBadSequence: 100 })
    expect(await fails(Stream.runCollect(store.readRaw(95)))).toMatchObject({ firstBadSequence: 100 })
  })

  it("detects an event rewritten with a recomputed hash (the link to it breaks)", async () => {
    const dir = await filled(50)
    await damage(dir, async (db) => {
      const r = decodeRecord(await getRecord(db, 30))!
      const forged = encodeRecord(r.prevHash, { ...r.fields, time: r.fields.time + 1 }, r.payload)
      await putRecord(db, 30, forged.record)
    })
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({ firstBadSequence: 31 })
  })

  it("refuses to drop an acknowledged event: a missing head record is corruption, not a torn tail", async () => {
    const dir = await filled(20)
    await damage(dir, (db) => deleteRecord(db, 20))
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: 20,
    })
  })

  it("refuses records without a commit marker", async () => {
    const dir = await filled(5)
    await damage(dir, (db) => db.del(HEAD_KEY))
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: 1,
    })
  })

  /** Records 31..33 with their index entry but no commit marker covering them. */
  const pastTheMarker = async (dir: string) =>
    damage(dir, async (db) => {
      const last = decodeRecord(await getRecord(db, 30))!
      let prev = last.hash
      const records = []
      for (let seq = 31; seq <= 33; seq++) {
        const fields = {
          ...last.fields,
          sequence: seq,
          streamId: "wallet/past",
          streamVersion: seq - 30,
          eventId: `past-${seq}`,
        }
        const { record, hash } = encodeRecord(prev, fields, last.payload)
        prev = hash
        records.push(record)
      }
      await putChunk(db, 31, records)
      await db.put(
        indexBlockKey(31),
        indexBlockValue(
          [31, 32, 33].map((seq) => probeOf(`past-${seq}`)),
          [3],
          [{ streamBytes: Buffer.from("wallet/past"), firstVersion: 1, count: 3 }],
        ),
      )
    })

  it("refuses records past the commit marker (a batch writes both at once) and never deletes them", async () => {
    const dir = await filled(30)
    await pastTheMarker(dir)
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: 31,
    })
    // The evidence is still there for the next look.
    await withRaw(dir, async (db) => expect((await getRecord(db, 33)).length).toBeGreaterThan(0))
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({ firstBadSequence: 31 })
  })

  it("refuses a rewound commit marker: the batches after it stay and are named", async () => {
    const dir = await filled(30)
    await damage(dir, async (db) => {
      const r = decodeRecord(await getRecord(db, 20))!
      await db.put(HEAD_KEY, headValue(20, r.hash))
    })
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: 21,
    })
    await withRaw(dir, async (db) => expect((await getRecord(db, 30)).length).toBeGreaterThan(0))
  })
})

describe("LevelDB event store: the unhashed indexes are checked against the records", () => {
  /** Rewrites the index block of the one-event batch at `sequence` with `runs` (its probe and size kept). */
  const rewriteBlock = (dir: string, sequence: number, runs: Parameters<typeof indexBlockValue>[2]) =>
    withRaw(dir, async (db) => {
      const r = decodeRecord(await getRecord(db, sequence))!
      await db.put(indexBlockKey(sequence), indexBlockValue([probeOf(r.fields.eventId)], [1], runs))
    })

  it("an index block whose runs do not cover its events is refused at open", async () => {
    const dir = await filled(30)
    await rewriteBlock(dir, 30, [])
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({ _tag: "StoreCorrupted" })
  })

  it("a run moved to another stream opens (continuity holds) but fails verifyChain and the audit", async () => {
    const dir = await filled(30)
    await rewriteBlock(dir, 30, [{ streamBytes: Buffer.from("wallet/other"), firstVersion: 1, count: 1 }])
    const store = await open({ dataDir: dir, unencrypted: true })
    // What the forgery achieves: the stream's last event is gone from its reads and version.
    expect(await run(store.streamVersion("wallet/w2"))).toBe(9)
    expect(await fails(store.verifyChain)).toMatchObject({ _tag: "StoreCorrupted" })
    expect(await run(auditLog(store))).toMatchObject({ ok: false, violation: { kind: "chain" } })
  })

  it("a dropped event-id probe fails verifyChain (a retry of that id would be stored twice)", async () => {
    const dir = await filled(30)
    await withRaw(dir, async (db) => {
      const r = decodeRecord(await getRecord(db, 12))!
      await db.put(
        indexBlockKey(12),
        indexBlockValue(
          [probeOf(`not-${r.fields.eventId}`)],
          [1],
          [{ streamBytes: Buffer.from(r.fields.streamId), firstVersion: r.fields.streamVersion, count: 1 }],
        ),
      )
    })
    const store = await open({ dataDir: dir, unencrypted: true })
    expect(await fails(store.verifyChain)).toMatchObject({ _tag: "StoreCorrupted", firstBadSequence: 12 })
  })
})

describe("LevelDB event store: opening never creates over existing data", () => {
  const key = new Uint8Array(32).fill(3)
  const damage = withRaw
  it("refuses a directory whose CURRENT file is gone, and leaves every file in place", async () => {
    const dir = await filled(10)
    await rm(join(dir, "CURRENT"))
    const before = (await readdir(dir)).sort()
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({ _tag: "StoreCorrupted" })
    expect(await openFailure({ dataDir: dir, key })).toMatchObject({ _tag: "StoreCorrupted" })
    expect((await readdir(dir)).sort()).toEqual(before)
  })

  it("refuses a directory holding other files, creates in a missing or empty one", async () => {
    const dir = await freshDir()
    await writeFile(join(dir, "notes.txt"), "mine")
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({ _tag: "StoreCorrupted" })
    const empty = await freshDir()
    expect(await run((await open({ dataDir: empty, unencrypted: true })).head)).toBe(0)
    const missing = join(await freshDir(), "new", "dir")
    expect(await run((await open({ dataDir: missing, unencrypted: true })).head)).toBe(0)
  })

  it("creates over what a crash during LevelDB's own creation leaves (no log or table yet)", async () => {
    const dir = await freshDir()
    for (const name of ["LOCK", "LOG", "MANIFEST-000001", "000001.dbtmp"])
      await writeFile(join(dir, name), "")
    expect(await run((await open({ dataDir: dir, unencrypted: true })).head)).toBe(0)
    // … but not once a write-ahead log exists beside them: that may hold events.
    const other = await freshDir()
    for (const name of ["LOCK", "MANIFEST-000001", "000003.log"]) await writeFile(join(other, name), "x")
    expect(await openFailure({ dataDir: other, unencrypted: true })).toMatchObject({ _tag: "StoreCorrupted" })
  })

  it("with create: false, a missing log is StoreUnavailable and nothing is created", async () => {
    const dir = await freshDir()
    expect(await openFailure({ dataDir: dir, unencrypted: true, create: false })).toMatchObject({
      _tag: "StoreUnavailable",
    })
    expect(await readdir(dir)).toEqual([])
  })

  it("refuses to put a vault over records whose store header is gone", async () => {
    const dir = await filled(5)
    await damage(dir, async (db) => {
      await db.del(FORMAT_KEY)
      await db.del(VAULT_KEY)
    })
    expect(await openFailure({ dataDir: dir, key })).toMatchObject({ _tag: "StoreCorrupted" })
  })
})

describe("LevelDB event store: LevelDB's write-ahead log", () => {
  /** The newest LevelDB log file of a closed store. */
  const newestLog = async (dir: string) => {
    const logs = (await readdir(dir)).filter((n) => /^\d+\.log$/.test(n)).sort()
    return join(dir, logs[logs.length - 1]!)
  }

  it("refuses to open when a byte of an acknowledged batch in the log flipped (LevelDB would drop it)", async () => {
    const dir = await filled(40)
    const log = await newestLog(dir)
    const bytes = await readFile(log)
    expect(bytes.length).toBeGreaterThan(100)
    // A byte near the end: inside the newest batches.
    bytes[bytes.length - 50]! ^= 0x20
    await writeFile(log, bytes)
    const failure = await openFailure({ dataDir: dir, unencrypted: true })
    expect(failure).toMatchObject({ _tag: "StoreCorrupted" })
    expect(String((failure as { message: string }).message)).toMatch(/write-ahead log/)
  })

  it("accepts a torn last write (a record cut by the end of the file): it was never acknowledged", async () => {
    const dir = await filled(40)
    const log = await newestLog(dir)
    const bytes = await readFile(log)
    await writeFile(log, bytes.subarray(0, bytes.length - 20))
    const store = await open({ dataDir: dir, unencrypted: true })
    // The last batch is gone with its marker; everything before it is intact.
    expect(await run(store.verifyChain)).toMatchObject({ head: expect.any(Number) })
    expect(await run(store.head)).toBeLessThan(40)
  })
})

describe("LevelDB event store: data at rest", () => {
  const secrets = [MNEMONIC, proofSecret(0), proofSecret(1), "quote-secret-id-0001"]

  const writeSecrets = async (opts: LevelDbStoreOptions) => {
    const store = await open(opts)
    await run(store.append("wallet/s", 0, [{ eventId: "w-0", event: walletCreated("s") }]))
    await run(store.append("wallet/s", 1, newEvents("s", 0, 2)))
    await run(
      store.append("wallet/s", 3, [
        {
          eventId: "s-q",
          event: {
            _tag: "OperationStarted",
            kind: "melt",
            operationId: "op-1",
            mintUrl: "https://mint.example.com",
            unit: "sat",
            method: "bolt11",
            quoteId: "quote-secret-id-0001",
            amount: 1000n,
            feeReserve: 2n,
            request: "lnbc1",
          },
        },
      ]),
    )
    await run(store.close)
  }

  const scan = async (dir: string): Promise<string[]> => {
    const hits: string[] = []
    for (const name of await readdir(dir)) {
      const bytes = await readFile(join(dir, name))
      for (const s of secrets) if (bytes.includes(Buffer.from(s))) hits.push(`${name}: ${s.slice(0, 12)}`)
    }
    return hits
  }

  it("keeps no secret in clear in any file of the data directory (and the scan does find them unencrypted)", async () => {
    const sealed = await freshDir()
    await writeSecrets({ dataDir: sealed, passphrase: "correct horse", vault: INSECURE_TEST_VAULT_OPTIONS })
    expect(await scan(sealed)).toEqual([])
    const plain = await freshDir()
    await writeSecrets({ dataDir: plain, unencrypted: true })
    expect((await scan(plain)).length).toBeGreaterThan(0)
  })

  it("reopens with the passphrase; a wrong one, none, or no encryption are typed errors", async () => {
    const dir = await freshDir()
    const opts = { dataDir: dir, passphrase: "correct horse", vault: INSECURE_TEST_VAULT_OPTIONS }
    await writeSecrets(opts)
    const store = await open(opts)
    expect((await run(store.read("wallet/s")))[0]!.event).toEqual(walletCreated("s"))
    await run(store.close)
    expect(await openFailure({ ...opts, passphrase: "wrong horse" })).toMatchObject({
      _tag: "VaultError",
      reason: "wrong-key",
    })
    expect(await openFailure({ dataDir: dir, unencrypted: true })).toMatchObject({
      _tag: "VaultError",
      reason: "missing-key",
    })
    expect(await openFailure({ dataDir: dir, key: new Uint8Array(32) })).toMatchObject({ _tag: "VaultError" })
  })

  it("verifies the chain without the key, and refuses payload access and appends", async () => {
    const dir = await freshDir()
    await writeSecrets({ dataDir: dir, key: new Uint8Array(32).fill(9) })
    const store = await open({ dataDir: dir, chainOnly: true })
    expect(await run(store.verifyChain)).toEqual({ head: 4, verified: 4 })
    expect((await collect(store.readRaw())).map((e) => e.envelope.eventId)).toEqual([
      "w-0",
      "s-0",
      "s-1",
      "s-q",
    ])
    expect(await fails(Stream.runCollect(store.readAll()))).toMatchObject({
      _tag: "VaultError",
      reason: "missing-key",
    })
    expect(await fails(store.append("wallet/s", "any", newEvents("z", 0, 1)))).toMatchObject({
      _tag: "VaultError",
      reason: "missing-key",
    })
  })

  it("binds each sealed payload to its envelope: a payload moved to another event fails to open", async () => {
    const dir = await freshDir()
    const key = new Uint8Array(32).fill(3)
    const store = await open({ dataDir: dir, key })
    await run(store.append("wallet/a", 0, newEvents("a", 0, 1)))
    await run(
      store.append(
        "wallet/b",
        0,
        newEvents("a", 0, 1).map((e) => ({ ...e, eventId: "b-0" })),
      ),
    )
    await run(store.close)
    // Rewrite record 2 with record 1's sealed payload and a recomputed, valid chain and marker.
    await withRaw(dir, async (db) => {
      const one = decodeRecord(await getRecord(db, 1))!
      const two = decodeRecord(await getRecord(db, 2))!
      const forged = encodeRecord(one.hash, two.fields, one.payload)
      await putRecord(db, 2, forged.record)
      await db.put(HEAD_KEY, headValue(2, forged.hash))
    })
    const reopened = await open({ dataDir: dir, key })
    expect(await run(reopened.verifyChain)).toEqual({ head: 2, verified: 2 })
    expect(await fails(reopened.read("wallet/b"))).toMatchObject({ _tag: "VaultError", reason: "tampered" })
    expect((await run(reopened.read("wallet/a"))).length).toBe(1)
  })
})

describe("LevelDB event store: streams and subscriptions", () => {
  it("pages through the log without gaps, from any sequence", async () => {
    const dir = await filled(50)
    const store = await open({ dataDir: dir, unencrypted: true, pageSize: 7 })
    for (const from of [1, 7, 8, 49, 50, 51]) {
      const got = await collect(store.readAll(from))
      expect(got.map((e) => e.envelope.sequence)).toEqual(
        Array.from({ length: Math.max(0, 51 - from) }, (_, i) => from + i),
      )
    }
    expect((await run(store.read("wallet/w1", 5))).map((e) => e.envelope.streamVersion)).toEqual(
      Array.from({ length: 13 }, (_, i) => i + 5),
    )
  })

  it("hands over from catch-up to live without gap or duplicate while appends race the subscription", async () => {
    const store = await open({ dataDir: await freshDir(), unencrypted: true, pageSize: 16 })
    await run(store.append("wallet/pre", 0, newEvents("pre", 0, 40)))
    const writers = 8
    const perWriter = 30
    const total = 40 + writers * perWriter
    const appending = Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++)
          await run(store.append(`wallet/h${w}`, i, newEvents(`h${w}`, i, 1)))
      }),
    )
    // Subscriptions start at different moments of the race.
    const subs = []
    for (let k = 0; k < 4; k++) {
      const from = 1 + k * 10
      subs.push({
        from,
        fiber: Effect.runFork(Stream.runCollect(Stream.take(store.subscribe(from), total - from + 1))),
      })
      await new Promise((r) => setTimeout(r, 3))
    }
    await appending
    for (const { from, fiber } of subs) {
      const got = Array.from(await run(Fiber.join(fiber)))
      expect(got.map((e) => e.envelope.sequence)).toEqual(
        Array.from({ length: total - from + 1 }, (_, i) => from + i),
      )
    }
  })

  it("waits for appends when reading past the head, and fails live subscribers on close", async () => {
    const store = await open({ dataDir: await freshDir(), unencrypted: true })
    const fiber = Effect.runFork(Stream.runCollect(store.subscribe()))
    await run(store.append("wallet/a", 0, newEvents("c", 0, 2)))
    await new Promise((r) => setTimeout(r, 10))
    await run(store.close)
    expect(failureOf(await run(Fiber.await(fiber)))).toMatchObject({
      _tag: "StoreUnavailable",
      reason: "closed",
    })
  })

  it("settles every queued append before close returns", async () => {
    const dir = await freshDir()
    const store = await open({ dataDir: dir, unencrypted: true })
    const pending = Array.from({ length: 20 }, (_, i) =>
      Effect.runPromiseExit(store.append(`wallet/q${i}`, 0, newEvents(`q${i}`, 0, 1))),
    )
    await run(store.close)
    const exits = await Promise.all(pending)
    const acknowledged = exits.filter(Exit.isSuccess).length
    expect(await fails(store.append("wallet/late", 0, newEvents("late", 0, 1)))).toMatchObject({
      _tag: "StoreUnavailable",
      reason: "closed",
    })
    const again = await open({ dataDir: dir, unencrypted: true })
    expect(await run(again.head)).toBe(acknowledged)
    expect(acknowledged).toBe(20)
  })
})

describe("LevelDB event store: sealed groups", () => {
  const key = new Uint8Array(32).fill(4)
  /** Appends of 1, 2, 3, … events round-robin over three streams, sealed (so most appends are groups). */
  const grouped = async (appends: number, pageSize = 4, kind: "proofs" | "wallets" = "proofs") => {
    const dir = await freshDir()
    const store = await open({ dataDir: dir, key, pageSize })
    let n = 0
    for (let a = 0; a < appends; a++) {
      const count = (a % 4) + 1
      const events =
        kind === "proofs"
          ? newEvents("g", n, count)
          : Array.from({ length: count }, (_, k) => ({
              eventId: `g-${n + k}`,
              event: walletCreated(`w${n + k}`),
            }))
      await run(store.append(`wallet/g${a % 3}`, "any", events))
      n += count
    }
    return { dir, store, n }
  }

  it("stores multi-event appends as one sealed group, single events as before", async () => {
    const { store } = await grouped(4)
    const raw = await collect(store.readRaw(1))
    // Appends of 1, 2, 3 and 4 events: sequences 1 | 2-3 | 4-6 | 7-10.
    const positions = raw.map((e) =>
      e.payload[0] === 2
        ? [Buffer.from(e.payload).readUInt32BE(1), Buffer.from(e.payload).readUInt32BE(5)]
        : [],
    )
    expect(positions).toEqual([[], [0, 2], [1, 2], [0, 3], [1, 3], [2, 3], [0, 4], [1, 4], [2, 4], [3, 4]])
    expect(raw.map((e) => e.payload[0])).toEqual([1, 2, 2, 2, 2, 2, 2, 2, 2, 2])
  })

  it("reads from every sequence, across page boundaries that cut groups, the same events as one pass", async () => {
    const { dir, store, n } = await grouped(12, 3, "wallets")
    await run(store.close)
    const { store: audited, report } = await auditClosed(dir, key)
    expect(report).toEqual({
      ok: true,
      scope: "full",
      events: n,
      head: n,
    })
    await run(audited.close)
    const reopened = await open({ dataDir: dir, key, pageSize: 3 })
    await readsEverywhere(reopened, n)
  })

  const readsEverywhere = async (store: LevelDbEventStore, n: number) => {
    const all = await collect(store.readAll(1))
    expect(all.map((e) => e.envelope.sequence)).toEqual(Array.from({ length: n }, (_, i) => i + 1))
    for (let from = 1; from <= n + 1; from++) {
      const got = await collect(store.readAll(from))
      expect(got).toEqual(all.slice(from - 1))
    }
    for (const stream of ["wallet/g0", "wallet/g1", "wallet/g2"]) {
      const whole = all.filter((e) => e.envelope.streamId === stream)
      for (let v = 1; v <= whole.length + 1; v++)
        expect(await run(store.read(stream, v))).toEqual(whole.slice(v - 1))
    }
    // A subscription that starts inside a group delivers from exactly there.
    const sub = await run(Stream.runCollect(Stream.take(store.subscribe(5), n - 4)))
    expect(Array.from(sub)).toEqual(all.slice(4))
  }

  it("fails a read whose group lost a member's ciphertext to another group (chain recomputed)", async () => {
    const { dir, store } = await grouped(3, 4, "wallets")
    await run(store.close)
    const vault = unlockVault(await materialOf(dir), { key })
    // Sequences 2-3 and 4-6 are groups: put record 5's payload into record 3 and re-chain everything.
    await withRaw(dir, async (db) => {
      const records = []
      for (let s = 1; s <= 6; s++) records.push(decodeRecord(await getRecord(db, s))!)
      const payloads = records.map((r) => r.payload)
      payloads[2] = Buffer.concat([Buffer.from([2, 0, 0, 0, 1, 0, 0, 0, 2]), payloads[4]!.subarray(9)])
      let prev = records[0]!.hash
      for (let s = 2; s <= 6; s++) {
        const forged = encodeRecord(prev, records[s - 1]!.fields, payloads[s - 1]!)
        prev = forged.hash
        await putRecord(db, s, forged.record)
      }
      await db.put(HEAD_KEY, headValue(6, prev))
    })
    const reopened = await open({ dataDir: dir, key })
    expect(await run(reopened.verifyChain)).toEqual({ head: 6, verified: 6 })
    // The audit opens groups whole too, and names the broken group's first member.
    expect(await run(auditLog(reopened, payloadDecoder(vault)))).toMatchObject({
      ok: false,
      violation: { sequence: 2, kind: "unreadable" },
    })
    expect(await fails(Stream.runCollect(reopened.readAll(1)))).toMatchObject({
      _tag: "VaultError",
      reason: "tampered",
    })
    expect(await fails(reopened.read("wallet/g1"))).toMatchObject({ _tag: "VaultError", reason: "tampered" })
    expect((await run(reopened.read("wallet/g2"))).length).toBe(3)
  })

  it("refuses a directory in an earlier format with a typed error", async () => {
    for (const old of ["corecashu-leveldb/1", "corecashu-leveldb/2"]) {
      const { dir, store } = await grouped(1)
      await run(store.close)
      await withRaw(dir, (db) => db.put(FORMAT_KEY, Buffer.from(old)))
      expect(await openFailure({ dataDir: dir, key })).toMatchObject({
        _tag: "StoreUnavailable",
        reason: "io",
        message: expect.stringContaining(`earlier format (${old})`),
      })
    }
  })

  it("reports a gap in the event-id index as corruption (a retried id could otherwise be stored twice)", async () => {
    const { dir, store } = await grouped(3)
    await run(store.close)
    await withRaw(dir, async (db) => {
      const blocks = await db.keys({ gte: INDEX_START, lt: INDEX_END }).all()
      expect(blocks.length).toBeGreaterThan(1)
      await db.del(blocks[1]!)
    })
    expect(await openFailure({ dataDir: dir, key })).toMatchObject({ _tag: "StoreCorrupted" })
  })
})
