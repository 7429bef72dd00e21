/**
 * Projection checkpoints in a JetStream Object Store bucket (`src/infra/jetstream-checkpoints.ts`), against
 * the real nats-server: save, load and remove; a state of several MiB (many chunks); sealed (no byte of the
 * bucket holds the plaintext); an object that is tampered with, sealed under another key or filed under
 * another projection is dropped, and the next save replaces it; an older save never replaces a newer one;
 * two nodes saving at once leave one whole checkpoint and no stray chunk; a reader racing a writer gets a
 * whole checkpoint or nothing, never an error; and a node opening while another saves past its view of the
 * log still opens (`checkpointsAtOpen`).
 */
import { jetstreamManager } from "@nats-io/jetstream"
import { Objm } from "@nats-io/obj"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import { Cause, Effect, Exit, Scope } from "effect"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import {
  checkpointsAtOpen,
  type JetStreamCheckpointStore,
  openJetStreamCheckpoints,
} from "../../src/infra/jetstream-checkpoints.js"
import { type JetStreamEventStore, openJetStreamEventStore } from "../../src/infra/jetstream-store.js"
import { createVault } from "../../src/infra/vault.js"
import { StoreCorrupted } from "../../src/model/index.js"
import { EventStore } from "../../src/ports/event-store.js"
import type { Checkpoint, CheckpointSealer } from "../../src/projections/checkpoint.js"
import type { Projection } from "../../src/projections/projection.js"
import { startProjectionRunner } from "../../src/projections/runner.js"
import { newEvents } from "../ports/event-store-contract.js"
import { natsClosedAfterAll } from "../support/nats.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"

const natsServer = natsClosedAfterAll()
// One server for the file, started by the first test (a failure to start fails every test with the reason).
let started: ReturnType<typeof natsServer> | undefined
const servers = async () => {
  started ??= natsServer()
  return (await started).servers
}

const vault = createVault({ passphrase: "shared checkpoints" }, INSECURE_TEST_VAULT_OPTIONS).vault
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

const scopes: Scope.Closeable[] = []
const connections: NatsConnection[] = []
afterEach(async () => {
  for (const s of scopes.splice(0).reverse()) await run(Scope.close(s, Exit.void))
})
afterAll(async () => {
  for (const nc of connections.splice(0)) await nc.close()
})

/** Opens `effect` in a scope closed after the test. */
const scoped = async <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<A> => {
  const scope = await run(Scope.make())
  scopes.push(scope)
  return run(Scope.provide(scope)(effect))
}

let logs = 0
const freshStream = () => `CPTEST${process.pid}x${++logs}`

/** A node's view of the stream's checkpoint bucket (its own connection). */
const node = async (stream: string, sealer: CheckpointSealer = vault): Promise<JetStreamCheckpointStore> =>
  scoped(openJetStreamCheckpoints({ servers: await servers(), stream, sealer }))

/** A raw client of the bucket, to tamper with it and read its bytes as the server holds them. */
const raw = async (bucket: string) => {
  const nc = await connect({ servers: [...(await servers())] })
  connections.push(nc)
  const os = await new Objm(nc).open(bucket)
  const jsm = await jetstreamManager(nc)
  return {
    os,
    /** Purges the bucket's messages on `subject`. */
    purge: (subject: string) => jsm.streams.purge(`OBJ_${bucket}`, { filter: subject }),
    /** Every message of the bucket's stream, meta and chunks. */
    messages: async () => {
      const info = await jsm.streams.info(`OBJ_${bucket}`)
      const out: Uint8Array[] = []
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(`OBJ_${bucket}`, { seq }).catch(() => null)
        if (m !== null) out.push(m.data)
      }
      return { out, count: info.state.messages }
    },
  }
}

const MARKER = "plaintext-marker-7f3a"

/** A checkpoint whose state says its own sequence (and carries the marker), `size` bytes long. */
const checkpointAt = (sequence: number, size = 256, projection = "backup"): Checkpoint => {
  const state = Buffer.alloc(size)
  for (let i = 0; i < size; i++) state[i] = (i * 31 + sequence) & 0xff
  Buffer.from(`${MARKER}:${sequence}:`).copy(state, 0)
  return { projection, version: 1, sequence, hash: `hash-${sequence}`, state }
}

const sameAs = (loaded: Checkpoint | undefined, expected: Checkpoint): void => {
  expect(loaded).toBeDefined()
  expect(loaded).toMatchObject({
    projection: expected.projection,
    version: expected.version,
    sequence: expected.sequence,
    hash: expected.hash,
  })
  expect(Buffer.from(loaded!.state).equals(Buffer.from(expected.state))).toBe(true)
}

describe("JetStream checkpoint store", () => {
  it("saves, loads and removes, sealed: no byte in the bucket holds the plaintext", async () => {
    const stream = freshStream()
    const store = await node(stream)
    expect(store.bucket).toBe(`${stream}-checkpoints`)
    expect(await run(store.load("backup"))).toBeUndefined()
    const c = checkpointAt(7)
    await run(store.save(c))
    sameAs(await run(store.load("backup")), c)
    // Another node (its own connection) reads the same checkpoint.
    sameAs(await run((await node(stream)).load("backup")), c)
    expect(await run(store.load("proofs"))).toBeUndefined()

    const { out } = await (await raw(store.bucket)).messages()
    const all = Buffer.concat(out)
    expect(all.length).toBeGreaterThan(c.state.length)
    expect(all.includes(Buffer.from(MARKER))).toBe(false)
    expect(all.includes(Buffer.from(c.hash))).toBe(false)

    await run(store.remove("backup"))
    expect(await run(store.load("backup"))).toBeUndefined()
    await run(store.remove("backup"))
    // A removed checkpoint is saved again, even at an older sequence.
    const older = checkpointAt(3)
    await run(store.save(older))
    sameAs(await run(store.load("backup")), older)
  })

  it("round-trips a state of several MiB (many chunks), and keeps only the newest object's chunks", async () => {
    const store = await node(freshStream())
    const big = checkpointAt(100, 3 * 1024 * 1024 + 123)
    await run(store.save(big))
    sameAs(await run(store.load("backup")), big)
    const bigger = checkpointAt(101, 5 * 1024 * 1024 + 7)
    await run(store.save(bigger))
    sameAs(await run(store.load("backup")), bigger)
    const client = await raw(store.bucket)
    const info = (await client.os.info("backup"))!
    expect(info.chunks).toBeGreaterThan(8)
    const { out, count } = await client.messages()
    // One meta and the newest object's chunks: the first object's chunks were purged.
    expect(count).toBe(info.chunks + 1)
    expect(Buffer.concat(out).includes(Buffer.from(MARKER))).toBe(false)
  })

  it("never replaces a newer checkpoint with an older one (same projection version)", async () => {
    const stream = freshStream()
    const a = await node(stream)
    const b = await node(stream)
    await run(a.save(checkpointAt(50)))
    await run(b.save(checkpointAt(40)))
    await run(b.save(checkpointAt(50, 300)))
    sameAs(await run(b.load("backup")), checkpointAt(50))
    // Another projection version replaces it whatever its sequence.
    const v2 = { ...checkpointAt(10), version: 2 }
    await run(b.save(v2))
    sameAs(await run(a.load("backup")), v2)
  })

  it("drops a tampered, foreign or misfiled object, and the next save replaces it", async () => {
    const stream = freshStream()
    const store = await node(stream)
    const client = await raw(store.bucket)
    await run(store.save(checkpointAt(20)))

    // One flipped byte in the sealed object (the object store's own digest recomputed: only the seal sees it).
    const bytes = Buffer.from((await client.os.getBlob("backup"))!)
    bytes[bytes.length - 9]! ^= 1
    await client.os.putBlob({ name: "backup", metadata: { sequence: "20", version: "1" } }, bytes)
    expect(await run(store.load("backup"))).toBeUndefined()
    // Its meta claims a newer sequence than the next save: the save still replaces what could not be read.
    await run(store.save(checkpointAt(19)))
    sameAs(await run(store.load("backup")), checkpointAt(19))

    // Sealed under another vault (another log's key).
    const other = createVault({ passphrase: "another log" }, INSECURE_TEST_VAULT_OPTIONS).vault
    await run((await node(stream, other)).save(checkpointAt(30)))
    expect(await run(store.load("backup"))).toBeUndefined()
    await run(store.save(checkpointAt(21)))
    sameAs(await run(store.load("backup")), checkpointAt(21))

    // Another projection's object filed under this name: its seal names the other projection.
    await run(store.save(checkpointAt(22, 256, "proofs")))
    await client.os.putBlob(
      { name: "counters", metadata: { sequence: "22", version: "1" } },
      (await client.os.getBlob("proofs"))!,
    )
    expect(await run(store.load("counters"))).toBeUndefined()
    sameAs(await run(store.load("proofs")), checkpointAt(22, 256, "proofs"))

    // Garbage, and an empty object.
    await client.os.putBlob({ name: "operations" }, Buffer.from("not a checkpoint"))
    expect(await run(store.load("operations"))).toBeUndefined()
    await client.os.putBlob({ name: "owners" }, new Uint8Array(0))
    expect(await run(store.load("owners"))).toBeUndefined()
  })

  it("two nodes saving at once leave the newest whole checkpoint and no stray chunk", async () => {
    const stream = freshStream()
    const a = await node(stream)
    const b = await node(stream)
    const size = 600 * 1024
    // Each node saves one checkpoint at a time (as its runner does), both at once.
    const saving = async (store: JetStreamCheckpointStore, odd: number) => {
      for (let i = 1; i <= 12; i++) await run(store.save(checkpointAt(2 * i + odd, size)))
    }
    await Promise.all([saving(a, 0), saving(b, 1)])
    const loaded = await run(a.load("backup"))
    expect(loaded).toBeDefined()
    sameAs(loaded, checkpointAt(loaded!.sequence, size))
    expect(loaded!.sequence).toBeGreaterThanOrEqual(20)
    const client = await raw(a.bucket)
    const info = (await client.os.info("backup"))!
    expect((await client.messages()).count).toBe(info.chunks + 1)
  })

  it("drops an object whose chunks are gone (a writer's purge under a reader), and the next save replaces it", async () => {
    const store = await node(freshStream())
    await run(store.save(checkpointAt(9, 1200 * 1024)))
    const client = await raw(store.bucket)
    const info = (await client.os.info("backup"))!
    expect(info.chunks).toBeGreaterThan(1)
    await client.purge(`$O.${store.bucket}.C.${info.nuid}`)
    expect(await run(store.load("backup"))).toBeUndefined()
    await run(store.save(checkpointAt(8, 1200 * 1024)))
    sameAs(await run(store.load("backup")), checkpointAt(8, 1200 * 1024))
  })

  it("a reader racing a writer gets a whole checkpoint or nothing, never an error", async () => {
    const stream = freshStream()
    const writer = await node(stream)
    const reader = await node(stream)
    const size = 1536 * 1024
    await run(writer.save(checkpointAt(1, size)))
    let writing = true
    const writes = (async () => {
      for (let seq = 2; seq <= 25; seq++) await run(writer.save(checkpointAt(seq, size)))
      writing = false
    })()
    const seen: number[] = []
    let dropped = 0
    while (writing) {
      const cp = await run(reader.load("backup"))
      if (cp === undefined) dropped++
      else {
        sameAs(cp, checkpointAt(cp.sequence, size))
        seen.push(cp.sequence)
      }
    }
    await writes
    expect(seen.length).toBeGreaterThan(0)
    // Whatever it saw was a whole checkpoint of some save; `dropped` counts reads that lost every retry.
    expect(seen.length + dropped).toBeGreaterThan(1)
    sameAs(await run(reader.load("backup")), checkpointAt(25, size))
  })
})

describe("opening from checkpoints another node saved meanwhile", () => {
  /** Counts the events folded by this process (what a checkpoint spares). */
  let folded = 0
  const countProjection: Projection<number> = {
    name: "counted",
    version: 1,
    initial: 0,
    evolve: (n) => {
      folded++
      return n + 1
    },
    serialize: (n) => Buffer.from(String(n)),
    deserialize: (b) => Number(Buffer.from(b).toString()),
  }

  const openLog = async (stream: string, follow: boolean): Promise<JetStreamEventStore> =>
    scoped(
      openJetStreamEventStore({
        servers: await servers(),
        stream,
        subjectPrefix: stream.toLowerCase(),
        sealer: vault,
        follow,
      }),
    )

  const runnerOn = (log: JetStreamEventStore, checkpoints: Parameters<typeof startProjectionRunner>[0]) =>
    scoped(startProjectionRunner(checkpoints).pipe(Effect.provideService(EventStore, log)))

  it("reads the checkpoints, then catches the log up: a checkpoint past this node's view is used, not a cut", async () => {
    const stream = freshStream()
    const writer = await openLog(stream, true)
    await run(writer.append("wallet/a", 0, newEvents(5)))
    // This node opens its log now (it sees 5 events and does not follow) …
    const late = await openLog(stream, false)
    expect(await run(late.head)).toBe(5)
    // … while the other appends and saves a checkpoint at 12.
    await run(writer.append("wallet/a", 5, newEvents(7)))
    const head = await run(writer.head)
    const last = (await run(writer.read("wallet/a", 12)))[0]
    await run(
      (await node(stream)).save({
        projection: "counted",
        version: 1,
        sequence: head,
        hash: last!.envelope.hash,
        state: Buffer.from(String(head)),
      }),
    )
    const shared = await node(stream)

    // Loaded as the runner does by itself, that checkpoint is past the head it read: a cut log, to it.
    const scope = await run(Scope.make())
    scopes.push(scope)
    const exit = await Effect.runPromiseExit(
      Scope.provide(scope)(
        startProjectionRunner({ projections: [countProjection], checkpoints: shared }).pipe(
          Effect.provideService(EventStore, late),
        ),
      ),
    )
    const cut = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
    expect(cut instanceof StoreCorrupted && cut.firstBadSequence === 6).toBe(true)

    // Read first, the log caught up next: the node opens from it and folds nothing.
    folded = 0
    const checkpoints = await run(checkpointsAtOpen(shared, ["counted"], late.sync))
    const runner = await runnerOn(late, { projections: [countProjection], checkpoints })
    expect(runner.position()).toBe(head)
    expect(runner.state(countProjection)).toBe(head)
    expect(folded).toBe(0)

    // Without a checkpoint the same node folds the whole log.
    folded = 0
    await run(shared.remove("counted"))
    const fresh = await runnerOn(late, {
      projections: [countProjection],
      checkpoints: await run(checkpointsAtOpen(shared, ["counted"], late.sync)),
    })
    expect(fresh.state(countProjection)).toBe(head)
    expect(folded).toBe(head)
  })
})
