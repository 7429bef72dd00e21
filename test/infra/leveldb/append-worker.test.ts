import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from "node:crypto"
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit, Scope, Stream } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { GENESIS_HASH } from "../../../src/events/envelope.js"
import { groupAad, type PayloadSealer, payloadAad } from "../../../src/events/sealer.js"
import type { NewEvent } from "../../../src/events/store.js"
import { type AppendJob, startAppendWorker } from "../../../src/infra/leveldb/append-worker.js"
import { encodeRecord, verifiedHashOf, viewRecord } from "../../../src/infra/leveldb/record.js"
import {
  type LevelDbEventStore,
  type LevelDbStoreOptions,
  openLevelDbEventStore,
} from "../../../src/infra/leveldb-store.js"
import { makeSealKernel } from "../../../src/infra/seal-kernel.js"
import { createVault, SEAL_OVERHEAD, SEALED_GROUP_VERSION, SEALED_VERSION } from "../../../src/infra/vault.js"
import { runEventStoreContract } from "../../events/store-contract.js"
import { MNEMONIC, newEvents, proofSecret, walletCreated } from "../fixtures/sample-events.js"

const scopes: Scope.Closeable[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const scope of scopes.splice(0)) await Effect.runPromise(Scope.close(scope, Exit.void))
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

const freshDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "corecashu-append-worker-"))
  dirs.push(dir)
  return dir
}

const open = async (opts: LevelDbStoreOptions): Promise<LevelDbEventStore> => {
  const scope = await Effect.runPromise(Scope.make())
  scopes.push(scope)
  return Effect.runPromise(Scope.provide(scope)(openLevelDbEventStore(opts)))
}

/** Appends `walletCount` streams' worth of appends concurrently, `rounds` times (one turn each). */
const appendConcurrently = async (store: LevelDbEventStore, walletCount: number, rounds: number) => {
  for (let r = 0; r < rounds; r++)
    await Promise.all(
      Array.from({ length: walletCount }, (_, w) =>
        Effect.runPromise(store.append(`wallet/w${w}`, r * 2, newEvents(`w${w}`, r * 2, 2))),
      ),
    )
}

// The shared contract with every chunk sealed and chained by the worker.
runEventStoreContract(
  "leveldb (sealed, every chunk through the append worker)",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "corecashu-contract-"))
    const mine: Scope.Closeable[] = []
    const openHere = async () => {
      const scope = await Effect.runPromise(Scope.make())
      mine.push(scope)
      return Effect.runPromise(
        Scope.provide(scope)(
          openLevelDbEventStore({ dataDir: dir, key: new Uint8Array(32).fill(9), sealWorker: "always" }),
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
  { propertyRuns: 6 },
)

describe("the seal kernel", () => {
  it("is self-contained: rebuilt from its source alone, it writes the documented formats", () => {
    // Rebuilt from its text with nothing in scope, as the worker builds it.
    const rebuilt = new Function(
      "deps",
      `const __name = (f) => f; return (${makeSealKernel.toString()})(deps)`,
    ) as typeof makeSealKernel
    const kernel = rebuilt({ createCipheriv, randomFillSync })
    const key = randomBytes(32)
    const aad = Buffer.from("aad")
    const openGcm = (nonce: Uint8Array, ct: Uint8Array, tag: Uint8Array, ad: Uint8Array) => {
      const d = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: 16 })
      d.setAAD(ad)
      d.setAuthTag(tag)
      return Buffer.concat([d.update(ct), d.final()]).toString()
    }
    // Single: 0x01 ‖ nonce ‖ ciphertext ‖ tag, aad 0x01 ‖ aad.
    const one = kernel.seal(key, Buffer.from("hello"), aad)
    expect(one[0]).toBe(SEALED_VERSION)
    expect(one.length).toBe(5 + SEAL_OVERHEAD)
    expect(
      openGcm(
        one.subarray(1, 13),
        one.subarray(13, 18),
        one.subarray(18),
        Buffer.concat([Uint8Array.of(1), aad]),
      ),
    ).toBe("hello")
    // Group: first member 0x02 ‖ index ‖ n ‖ nonce ‖ tag ‖ ct, others 0x02 ‖ index ‖ n ‖ ct.
    const [a, b] = kernel.sealGroup(key, [Buffer.from("a"), Buffer.from("bc")], aad)
    expect([a![0], b![0]]).toEqual([SEALED_GROUP_VERSION, SEALED_GROUP_VERSION])
    const text = openGcm(
      a!.subarray(9, 21),
      Buffer.concat([a!.subarray(37), b!.subarray(9)]),
      a!.subarray(21, 37),
      kernel.groupAad([1, 2], aad),
    )
    expect(text).toBe("abc")
    expect(kernel.constants.SEAL_OVERHEAD).toBe(SEAL_OVERHEAD)
  })
})

describe("the append worker", () => {
  it("seals and chains records exactly as the writer's own thread would", async () => {
    const { vault } = createVault({ key: new Uint8Array(32).fill(4) })
    const worker = startAppendWorker(vault)!
    try {
      const plains = [Buffer.from('{"a":1}'), Buffer.from('{"b":22}'), Buffer.from('{"c":333}')]
      const fields = [
        {
          sequence: 7,
          streamId: "wallet/a",
          streamVersion: 3,
          eventId: "e7",
          type: "T",
          schemaVersion: 1,
          time: 5,
        },
        {
          sequence: 8,
          streamId: "wallet/a",
          streamVersion: 4,
          eventId: "e8",
          type: "U",
          schemaVersion: 2,
          time: 5,
        },
        {
          sequence: 9,
          streamId: "wallet/é",
          streamVersion: 1,
          eventId: 'e"9',
          type: "T",
          schemaVersion: 1,
          time: 6,
        },
      ]
      const jobs: AppendJob[] = [
        { fields: fields.slice(0, 2), plains: plains.slice(0, 2), aad: "group-aad" },
        { fields: fields.slice(2), plains: plains.slice(2), aad: "single-aad" },
      ]
      const prev = Buffer.alloc(32, 0xab)
      const built = await new Promise<Parameters<Parameters<typeof worker.build>[2]>[1]>((resolve, reject) =>
        worker.build(jobs, prev, (error, b) => (error ? reject(error) : resolve(b))),
      )
      const records = [0, 1, 2].map((i) =>
        built!.records.subarray(i === 0 ? 0 : built!.ends[i - 1]!, built!.ends[i]!),
      )
      let link: Uint8Array = prev
      const payloads: Uint8Array[] = []
      records.forEach((bytes, i) => {
        const v = viewRecord(bytes)!
        expect(v.fields).toEqual(fields[i])
        expect(v.payloadAt).toBe(built!.payloadAts[i])
        const hash = verifiedHashOf(v)
        expect(hash).toBeDefined()
        expect(bytes.subarray(18, 50).equals(link)).toBe(true)
        const payload = bytes.subarray(v.payloadAt, v.hashAt)
        // The same record as the writer's thread builds around the same payload.
        expect(encodeRecord(link, fields[i]!, payload).record.equals(bytes)).toBe(true)
        payloads.push(payload)
        link = hash!
      })
      expect(
        vault.group
          .open(payloads.slice(0, 2), Buffer.from("group-aad"))
          .map((p) => Buffer.from(p).toString()),
      ).toEqual(['{"a":1}', '{"b":22}'])
      expect(Buffer.from(vault.open(payloads[2]!, Buffer.from("single-aad"))).toString()).toBe('{"c":333}')
      // Without a `prev`, the next chunk links to the last record built.
      const next = await new Promise<Parameters<Parameters<typeof worker.build>[2]>[1]>((resolve, reject) =>
        worker.build(
          [
            {
              fields: [{ ...fields[2]!, sequence: 10, streamVersion: 2 }],
              plains: [Buffer.from("{}")],
              aad: "x",
            },
          ],
          undefined,
          (error, b) => (error ? reject(error) : resolve(b)),
        ),
      )
      expect(next!.records.subarray(18, 50).equals(link)).toBe(true)
    } finally {
      await worker.close()
    }
  })

  it("fails what is still out with a typed error once closed, and builds nothing after", async () => {
    const { vault } = createVault({ key: new Uint8Array(32).fill(4) })
    const worker = startAppendWorker(vault)!
    await worker.close()
    const error = await new Promise((resolve) =>
      worker.build([{ fields: [], plains: [], aad: "" }], undefined, (e) => resolve(e)),
    )
    expect(error).toMatchObject({ _tag: "VaultError", reason: "missing-key" })
  })
})

describe("LevelDB event store: appends through the worker", () => {
  it("offloads concurrent appends and keeps the chain, the versions and every payload", async () => {
    const dataDir = await freshDir()
    const key = new Uint8Array(32).fill(6)
    const store = await open({ dataDir, key })
    await appendConcurrently(store, 24, 5)
    expect(store.stats().chunksOffloaded).toBeGreaterThan(0)
    expect(await Effect.runPromise(store.verifyChain)).toEqual({ head: 240, verified: 240 })
    const all = await Effect.runPromise(Stream.runCollect(store.readAll(1)))
    expect(all.length).toBe(240)
    expect(all[0]!.envelope.prevHash).toBe(GENESIS_HASH)
    const w3 = await Effect.runPromise(store.read("wallet/w3"))
    expect(w3.map((r) => r.envelope.streamVersion)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(w3.map((r) => r.envelope.eventId)).toEqual(
      [0, 1, 2, 3, 4].flatMap((r) => newEvents("w3", r * 2, 2).map((e) => e.eventId)),
    )
  })

  it("falls back to sealing on its own thread when the worker dies, losing nothing", async () => {
    const dataDir = await freshDir()
    const { vault } = createVault({ key: new Uint8Array(32).fill(8) })
    // A worker that crashes on its first chunk.
    const crashing: PayloadSealer = {
      seal: vault.seal,
      open: vault.open,
      group: vault.group,
      startKeyedWorker: () =>
        vault.startKeyedWorker(
          `require("node:worker_threads").parentPort.on("message", () => { throw new Error("boom") })`,
        ),
    }
    const store = await open({ dataDir, sealer: crashing, sealWorker: "always" })
    await appendConcurrently(store, 10, 3)
    expect(store.stats().chunksOffloaded).toBeGreaterThan(0)
    expect(await Effect.runPromise(store.verifyChain)).toEqual({ head: 60, verified: 60 })
    const all = await Effect.runPromise(Stream.runCollect(store.readAll(1)))
    expect(all.map((r) => r.envelope.sequence)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))
  })

  it("keeps secrets out of every file when appends go through the worker", async () => {
    const dataDir = await freshDir()
    const store = await open({ dataDir, key: new Uint8Array(32).fill(2), sealWorker: "always" })
    const events: NewEvent[] = [{ eventId: "created", event: walletCreated("w") }, ...newEvents("w", 0, 3)]
    await Effect.runPromise(store.append("wallet/w", 0, events))
    const needles = [MNEMONIC, proofSecret(0), proofSecret(1), proofSecret(2)]
    for (const name of await readdir(dataDir)) {
      const text = (await readFile(join(dataDir, name))).toString("latin1")
      for (const n of needles) expect(text.includes(n)).toBe(false)
    }
  })
})

// The AAD helpers the writer sends to the worker as text produce the vault's aad bytes.
describe("aad texts", () => {
  it("are the UTF-8 of groupAad/payloadAad", () => {
    const f = { streamId: "wallet/a", eventId: "e", type: "T", schemaVersion: 1 }
    expect(Buffer.from(payloadAad(f)).toString()).toBe('["e","wallet/a","T",1]')
    expect(Buffer.from(groupAad([f, f])).toString()).toBe('[["e","wallet/a","T",1],["e","wallet/a","T",1]]')
  })
})
