/**
 * The JetStream event store against real nats-server processes on loopback (`scripts/nats.sh` through
 * `test/support/nats.ts`): the event-store contract on one server (plain and vault-sealed) and on a 3-node
 * cluster with R3 streams, then what only a shared log has — a second node with a stale view refused by
 * the server, an append whose acknowledgement was lost stored once, indexes rebuilt on reopen.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { jetstream, jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Cause, Effect, Exit, Fiber, Scope, Stream } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { GENESIS_HASH, verifyEventHash } from "../../src/events/envelope.js"
import { messageIdOf, streamIdOf, subjectOf } from "../../src/infra/jetstream/message.js"
import {
  type JetStreamAccess,
  type JetStreamEventStore,
  type JetStreamStoreOptions,
  openJetStreamEventStore,
} from "../../src/infra/jetstream-store.js"
import { createVault } from "../../src/infra/vault.js"
import { newEvents, runEventStoreContract } from "../ports/event-store-contract.js"
import { type NatsServers, natsClosedAfterAll } from "../support/nats.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"

const nats = natsClosedAfterAll()
const started = new Map<1 | 3, Promise<NatsServers>>()
/** One server (or one cluster) shared by the whole file; each store gets its own JetStream stream. */
const servers = (cluster: 1 | 3 = 1): Promise<ReadonlyArray<string>> => {
  let s = started.get(cluster)
  if (s === undefined) {
    s = nats({ cluster })
    started.set(cluster, s)
  }
  return s.then((n) => n.servers)
}

let streams = 0
/** A fresh stream name and subject prefix (JetStream streams may not share subjects). */
const freshLog = () => {
  const n = streams++
  return { stream: `CCTEST_${process.pid}_${n}`, subjectPrefix: `cct${process.pid}x${n}` }
}

const scopes: Scope.Closeable[] = []
afterAll(async () => {
  for (const scope of scopes.splice(0)) await Effect.runPromise(Scope.close(scope, Exit.void))
})

/** Opens a store in a scope of its own (closed after the file, or earlier by `store.close`). */
const open = async (opts: JetStreamStoreOptions): Promise<JetStreamEventStore> => {
  const scope = await Effect.runPromise(Scope.make())
  scopes.push(scope)
  return Effect.runPromise(Scope.provide(scope)(openJetStreamEventStore(opts)))
}

/** Deletes a test stream (the store never deletes anything). */
const dropStream = async (urls: ReadonlyArray<string>, stream: string): Promise<void> => {
  const nc = await connect({ servers: [...urls] })
  try {
    const jsm = await jetstreamManager(nc)
    await jsm.streams.delete(stream).catch(() => undefined)
  } finally {
    await nc.close()
  }
}

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)
const collect = async <A, E>(stream: Stream.Stream<A, E>): Promise<A[]> =>
  Array.from(await run(Stream.runCollect(stream)))
const failure = async <A, E>(effect: Effect.Effect<A, E>): Promise<E> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
  const err = Cause.findErrorOption(exit.cause)
  if (err._tag === "None") throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return err.value
}

/** The contract's factory: a fresh stream per log on the shared server(s); `access` picks the sealing. */
const contractFactory =
  (cluster: 1 | 3, access: () => JetStreamAccess = () => ({ unencrypted: true })) =>
  async () => {
    const urls = await servers(cluster)
    const log = freshLog()
    const opts: JetStreamStoreOptions = { servers: urls, ...log, replicas: cluster, ...access() }
    return {
      store: await open(opts),
      reopen: () => open(opts),
      cleanup: () => dropStream(urls, log.stream),
    }
  }

const testVault = () => createVault({ passphrase: "jetstream test" }, INSECURE_TEST_VAULT_OPTIONS).vault

runEventStoreContract("jetstream, one server", contractFactory(1))

runEventStoreContract(
  "jetstream, one server, vault-sealed (groups)",
  contractFactory(1, () => ({ sealer: testVault() })),
  { propertyRuns: 5, appenders: 5, eventsPerAppender: 20 },
)

runEventStoreContract("jetstream, 3-node cluster, R3", contractFactory(3), {
  propertyRuns: 5,
  appenders: 5,
  eventsPerAppender: 20,
})

describe("subjects and message ids", () => {
  it("maps stream ids to subjects injectively and back", () => {
    const ids = [
      "wallet/alice",
      "engine",
      "wallet/a.b",
      "wallet/*",
      "wallet/>",
      "wallet/ü ~x",
      "",
      "a//b",
      "wallet/",
    ]
    const subjects = ids.map((id) => subjectOf("cc", id))
    expect(new Set(subjects).size).toBe(ids.length)
    expect(subjectOf("cc", "wallet/alice")).toBe("cc.wallet.alice")
    for (let i = 0; i < ids.length; i++) {
      expect(subjects[i]).toMatch(/^cc(\.[A-Za-z0-9_~-]+)+$/)
      expect(streamIdOf("cc", subjects[i]!)).toBe(ids[i])
    }
    expect(streamIdOf("cc", "cc.wallet.~zz")).toBeUndefined()
    expect(streamIdOf("cc", "other.wallet")).toBeUndefined()
  })

  it("gives an append's msg id from its stream and ids, in order", () => {
    expect(messageIdOf("wallet/a", ["x", "y"])).toBe(messageIdOf("wallet/a", ["x", "y"]))
    expect(messageIdOf("wallet/a", ["x", "y"])).not.toBe(messageIdOf("wallet/a", ["y", "x"]))
    expect(messageIdOf("wallet/a", ["x"])).not.toBe(messageIdOf("wallet/b", ["x"]))
  })
})

describe("jetstream event store: group commit", () => {
  for (const cluster of [1, 3] as const)
    it(`commits appends made together as one atomic batch, one message each, chained in call order (${cluster === 1 ? "one server, sealed" : "3-node cluster, R3"})`, async () => {
      const urls = await servers(cluster)
      const log = freshLog()
      const vault = testVault()
      const store = await open({ servers: urls, ...log, replicas: cluster, sealer: vault })
      await run(store.append("wallet/0", 0, newEvents(1)))
      const wallets = Array.from({ length: 8 }, (_, w) => `wallet/${w}`)
      const results = await Promise.all(
        wallets.map((w, i) => run(store.append(w, i === 0 ? 1 : 0, newEvents(2)))),
      )
      expect(results).toEqual(
        wallets.map((_, i) => ({
          firstSequence: 2 + 2 * i,
          lastSequence: 3 + 2 * i,
          streamVersion: i === 0 ? 3 : 2,
          deduplicated: false,
        })),
      )
      expect(store.stats()).toMatchObject({ published: 9, refused: 0, batches: 1, messages: 9 })
      // Another node reads the same log: every group sealed at its place, one chain.
      const other = await open({ servers: urls, ...log, replicas: cluster, sealer: vault })
      expect(await run(other.verifyChain)).toEqual({ head: 17, verified: 17 })
      const all = await collect(other.readAll())
      expect(all.map((r) => r.envelope.streamId)).toEqual(["wallet/0", ...wallets.flatMap((w) => [w, w])])
      expect((await run(other.read("wallet/0"))).map((r) => r.envelope.streamVersion)).toEqual([1, 2, 3])
    })

  it("keeps one wallet's appends in call order: a wallet appears once per batch", async () => {
    const urls = await servers(1)
    const store = await open({ servers: urls, ...freshLog(), unencrypted: true })
    const results = await Promise.all([
      run(store.append("wallet/a", "any", newEvents(1))),
      run(store.append("wallet/b", "any", newEvents(1))),
      run(store.append("wallet/a", "any", newEvents(1))),
      run(store.append("wallet/a", "any", newEvents(1))),
    ])
    expect(results.map((r) => [r.firstSequence, r.streamVersion])).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 3],
    ])
    // [a, b] together, then the second a, then the third.
    expect(store.stats()).toMatchObject({ published: 4, batches: 1, messages: 4 })
  })
})

describe("jetstream event store: several nodes on one log", () => {
  /** Two stores over one fresh stream: `a` follows live, `b` (unless told) sees only what it catches up on. */
  const twoNodes = async (b: Partial<JetStreamStoreOptions> = { follow: false }) => {
    const urls = await servers(1)
    const log = freshLog()
    const base = { servers: urls, ...log, unencrypted: true } as JetStreamStoreOptions
    const a = await open(base)
    const other = await open({ ...base, ...b } as JetStreamStoreOptions)
    return { urls, log, base, a, b: other }
  }

  it("refuses, at the server, a second node's append on a stale version, and names the actual version", async () => {
    const { a, b } = await twoNodes()
    await run(a.append("wallet/w", 0, newEvents(2)))
    // b has not seen a's append: it believes the wallet is new, and says so.
    expect(await run(b.streamVersion("wallet/w"))).toBe(0)
    const err = await failure(b.append("wallet/w", 0, newEvents(1)))
    expect(err).toMatchObject({ _tag: "WrongExpectedVersion", streamId: "wallet/w", expected: 0, actual: 2 })
    expect(b.stats().refused).toBe(1)
    expect(b.stats().published).toBe(1)
    expect(await run(a.sync)).toBe(2)
    // With the version it now knows, b appends; a's next append on its old version is refused in turn.
    expect(await run(b.append("wallet/w", 2, newEvents(1)))).toEqual({
      firstSequence: 3,
      lastSequence: 3,
      streamVersion: 3,
      deduplicated: false,
    })
    const stale = a.stats()
    const again = await failure(a.append("wallet/w", 2, newEvents(1)))
    expect(again).toMatchObject({ _tag: "WrongExpectedVersion", actual: 3 })
    expect(a.stats().published - stale.published).toBeLessThanOrEqual(1)
  })

  it("re-chains on the new tail when another node appended to another wallet, keeping one gapless chain", async () => {
    const { a, b } = await twoNodes()
    for (let i = 0; i < 5; i++) {
      await run(a.append("wallet/a", "any", newEvents(2)))
      await run(b.append("wallet/b", "any", newEvents(1 + (i % 2))))
    }
    expect(b.stats().refused).toBeGreaterThanOrEqual(5)
    await run(a.sync)
    await run(b.sync)
    const rawA = await collect(a.readRaw())
    const rawB = await collect(b.readRaw())
    expect(rawA.map((r) => r.envelope)).toEqual(rawB.map((r) => r.envelope))
    expect(rawA.map((r) => r.envelope.sequence)).toEqual(rawA.map((_, i) => i + 1))
    let prev = GENESIS_HASH
    for (const stored of rawA) {
      expect(verifyEventHash(prev, stored)).toBe(true)
      prev = stored.envelope.hash
    }
    expect(await run(a.streamVersion("wallet/b"))).toBe(7)
    expect(await run(b.verifyChain)).toEqual({ head: 17, verified: 17 })
  })

  it("delivers another node's appends to a live subscriber", async () => {
    const { a, b } = await twoNodes({ follow: true })
    const fiber = Effect.runFork(Stream.runCollect(Stream.take(b.subscribe(), 6)))
    for (let i = 0; i < 3; i++) await run(a.append("wallet/a", i * 2, newEvents(2)))
    const got = Array.from(await run(Effect.timeout(Fiber.join(fiber), "20 seconds")))
    expect(got.map((r) => r.envelope.sequence)).toEqual([1, 2, 3, 4, 5, 6])
  })

  it("stores an append once when its acknowledgement is lost, and answers its retry with the original positions", async () => {
    const urls = await servers(1)
    const log = freshLog()
    let lose = 1
    const store = await open({
      servers: urls,
      ...log,
      unencrypted: true,
      onAcknowledged: () => {
        if (lose-- > 0) throw new Error("simulated lost acknowledgement")
      },
    })
    await run(store.append("wallet/x", 0, newEvents(1)))
    const batch = newEvents(3)
    // The message lands, its acknowledgement is "lost": the store catches up and finds it there.
    const first = await run(store.append("wallet/x", 1, batch))
    expect(first).toEqual({ firstSequence: 2, lastSequence: 4, streamVersion: 4, deduplicated: false })
    expect(store.stats()).toMatchObject({ inDoubt: 1, messages: 2 })
    // The caller, not knowing, retries: nothing is stored twice.
    expect(await run(store.append("wallet/x", 1, batch))).toEqual({ ...first, deduplicated: true })
    // The same publish straight to the server, inside its duplicate window, is answered "duplicate".
    const nc = await connect({ servers: [...urls] })
    const ack = await jetstream(nc).publish(subjectOf(log.subjectPrefix, "wallet/x"), new Uint8Array([1]), {
      msgID: messageIdOf(
        "wallet/x",
        batch.map((e) => e.eventId),
      ),
    })
    await nc.close()
    expect(ack).toMatchObject({ seq: 2, duplicate: true })
    expect(await run(store.sync)).toBe(4)
    expect(store.stats().messages).toBe(2)
  })

  it("answers a stale node's retry of another node's append from the log, storing nothing", async () => {
    const { a, b } = await twoNodes()
    const batch = newEvents(2)
    const original = await run(a.append("wallet/r", 0, batch))
    await run(a.append("wallet/r", 2, newEvents(1)))
    expect(await run(b.append("wallet/r", 0, batch))).toEqual({ ...original, deduplicated: true })
    expect(await run(b.head)).toBe(3)
    expect(b.stats().messages).toBe(2)
  })

  it("rebuilds its indexes on reopen: versions, ids, the chain continues, and the server still fences", async () => {
    const { base, a, b } = await twoNodes()
    const kept = newEvents(2)
    await run(a.append("wallet/a", 0, kept))
    await run(a.append("engine", 0, newEvents(1)))
    await run(a.close)
    const reopened = await open(base)
    expect(await run(reopened.head)).toBe(3)
    expect(await run(reopened.streamVersion("wallet/a"))).toBe(2)
    expect(await run(reopened.append("wallet/a", "any", kept))).toMatchObject({
      firstSequence: 1,
      deduplicated: true,
    })
    const next = await run(reopened.append("wallet/a", 2, newEvents(1)))
    expect(next).toEqual({ firstSequence: 4, lastSequence: 4, streamVersion: 3, deduplicated: false })
    const all = await collect(reopened.readAll())
    expect(all[3]!.envelope.prevHash).toBe(all[2]!.envelope.hash)
    expect(await run(reopened.verifyChain)).toEqual({ head: 4, verified: 4 })
    // b opened before all this: its stale append is refused by the server.
    expect(await failure(b.append("wallet/a", 0, newEvents(1)))).toMatchObject({
      _tag: "WrongExpectedVersion",
      actual: 3,
    })
  })

  it("seals an append of several events as one group, bound to its places", async () => {
    const urls = await servers(1)
    const vault = testVault()
    const store = await open({ servers: urls, ...freshLog(), sealer: vault })
    await run(store.append("wallet/g", 0, newEvents(3)))
    await run(store.append("wallet/g", 3, newEvents(1)))
    const raw = await collect(store.readRaw())
    expect(raw.map((r) => vault.group.positionOf(r.payload))).toEqual([
      { index: 0, count: 3 },
      { index: 1, count: 3 },
      { index: 2, count: 3 },
      undefined,
    ])
    expect((await run(store.read("wallet/g"))).map((r) => r.envelope.streamVersion)).toEqual([1, 2, 3, 4])
  })

  it("refuses an append larger than a message may be, writing nothing", async () => {
    const { a } = await twoNodes()
    const huge = newEvents(1).map((e) => ({
      ...e,
      event: {
        _tag: "OperationStarted",
        kind: "melt",
        operationId: "op-huge",
        mintUrl: "https://mint.example.com",
        unit: "sat",
        method: "bolt11",
        quoteId: "q",
        amount: 1n,
        feeReserve: 1n,
        request: `lnbc${"x".repeat(2_000_000)}`,
      },
    })) as ReturnType<typeof newEvents>
    const err = await failure(a.append("wallet/h", 0, huge))
    expect(err).toMatchObject({ _tag: "StoreUnavailable", reason: "io" })
    expect(await run(a.head)).toBe(0)
    expect(a.stats().published).toBe(0)
  })

  it("refuses a group commit when another node appended first, storing none of it, then appends one by one", async () => {
    const { a, b } = await twoNodes()
    await run(a.append("wallet/x", 0, newEvents(2)))
    // b has not seen it: four appends made together leave as one batch on b's stale tail (0), wallet/x's
    // expectation stale too. The server refuses the whole batch; b catches up and runs them one at a time.
    const results = await Promise.all([
      Effect.runPromiseExit(b.append("wallet/p", 0, newEvents(2))),
      Effect.runPromiseExit(b.append("wallet/q", 0, newEvents(1))),
      Effect.runPromiseExit(b.append("wallet/x", 0, newEvents(1))),
      Effect.runPromiseExit(b.append("wallet/r", "any", newEvents(2))),
    ])
    expect(results.map((r) => (Exit.isSuccess(r) ? r.value : Cause.findErrorOption(r.cause)))).toEqual([
      { firstSequence: 3, lastSequence: 4, streamVersion: 2, deduplicated: false },
      { firstSequence: 5, lastSequence: 5, streamVersion: 1, deduplicated: false },
      expect.objectContaining({
        value: expect.objectContaining({ _tag: "WrongExpectedVersion", expected: 0, actual: 2 }),
      }),
      { firstSequence: 6, lastSequence: 7, streamVersion: 2, deduplicated: false },
    ])
    // 4 in the refused batch, then p, q and r alone (x fails on the caught-up view, unsent).
    expect(b.stats()).toMatchObject({ published: 7, refused: 1, batches: 0, messages: 4 })
    expect(await run(a.sync)).toBe(7)
    expect(await run(a.verifyChain)).toEqual({ head: 7, verified: 7 })
  })

  it("resolves every append of a batch whose commit answer was lost from the log, stored once", async () => {
    const urls = await servers(1)
    let lose = 0
    const store = await open({
      servers: urls,
      ...freshLog(),
      unencrypted: true,
      onAcknowledged: () => {
        if (lose-- > 0) throw new Error("simulated lost acknowledgement")
      },
    })
    await run(store.append("wallet/a", 0, newEvents(1)))
    lose = 1
    const batches = [newEvents(2), newEvents(1), newEvents(3)]
    const results = await Promise.all(
      ["wallet/a", "wallet/b", "wallet/c"].map((w, i) => run(store.append(w, i === 0 ? 1 : 0, batches[i]!))),
    )
    expect(results).toEqual([
      { firstSequence: 2, lastSequence: 3, streamVersion: 3, deduplicated: false },
      { firstSequence: 4, lastSequence: 4, streamVersion: 1, deduplicated: false },
      { firstSequence: 5, lastSequence: 7, streamVersion: 3, deduplicated: false },
    ])
    // One publish of each (the batch), none again: the catch-up found them all.
    expect(store.stats()).toMatchObject({ published: 4, inDoubt: 1, batches: 0, messages: 4 })
    expect(await run(store.append("wallet/c", 0, batches[2]!))).toEqual({ ...results[2], deduplicated: true })
    expect(await run(store.verifyChain)).toEqual({ head: 7, verified: 7 })
  })

  it("gives a stream made without atomic batches the option on open, and commits groups on it", async () => {
    const urls = await servers(1)
    const log = freshLog()
    const nc = await connect({ servers: [...urls] })
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({
      name: log.stream,
      subjects: [`${log.subjectPrefix}.>`],
      storage: "file" as never,
      deny_delete: true,
      deny_purge: true,
      allow_direct: true,
      duplicate_window: 120_000_000_000,
    })
    const store = await open({ servers: urls, ...log, unencrypted: true })
    expect((await jsm.streams.info(log.stream)).config.allow_atomic).toBe(true)
    await nc.close()
    await Promise.all([0, 1, 2].map((w) => run(store.append(`wallet/${w}`, 0, newEvents(1)))))
    expect(store.stats()).toMatchObject({ published: 3, batches: 1, messages: 3 })
  })

  it("keeps one gapless chain while two nodes group-commit concurrently", async () => {
    const { a, b } = await twoNodes({ follow: true })
    const node = async (store: JetStreamEventStore, name: string) => {
      const versions = [0, 0, 0, 0]
      for (let round = 0; round < 6; round++)
        await Promise.all(
          versions.map(async (v, w) => {
            versions[w] = (
              await run(store.append(`wallet/${name}${w}`, v, newEvents(1 + (w % 2))))
            ).streamVersion
          }),
        )
      return versions
    }
    const [va, vb] = await Promise.all([node(a, "a"), node(b, "b")])
    expect(va).toEqual([6, 12, 6, 12])
    expect(vb).toEqual([6, 12, 6, 12])
    expect(a.stats().batches + b.stats().batches).toBeGreaterThan(0)
    expect(await run(a.sync)).toBe(72)
    expect(await run(b.sync)).toBe(72)
    expect(await run(a.verifyChain)).toEqual({ head: 72, verified: 72 })
    const rawA = await collect(a.readRaw())
    expect(rawA.map((r) => r.envelope)).toEqual((await collect(b.readRaw())).map((r) => r.envelope))
  })

  it("fails to open a log holding a foreign message, naming the first bad sequence", async () => {
    const { urls, base, a } = await twoNodes()
    await run(a.append("wallet/a", 0, newEvents(2)))
    await run(a.close)
    const nc = await connect({ servers: [...urls] })
    await jetstream(nc).publish(
      subjectOf(base.subjectPrefix!, "wallet/a"),
      new TextEncoder().encode("not a chunk"),
    )
    await nc.close()
    const exit = await Effect.runPromiseExit(Effect.scoped(openJetStreamEventStore(base)))
    expect(exit).toMatchObject({ _tag: "Failure" })
    expect(JSON.stringify(exit)).toContain("StoreCorrupted")
    expect(JSON.stringify(exit)).toContain('"firstBadSequence":3')
  })
})

describe("jetstream event store: the server lost under an append", () => {
  it("ends a publish in flight when the connection drops, rather than after its timeout, and stores it once", async () => {
    const node = await nats() // its own server: stopped and killed here
    const log = freshLog()
    const store = await open({ servers: node.servers, ...log, unencrypted: true, timeoutMs: 60_000 })
    await run(store.append("wallet/x", 0, newEvents(1)))
    // The server takes the publish into its socket and answers nothing; then it dies (SIGKILL).
    const pid = Number(readFileSync(join(node.dir, "n1", "launch.pid"), "utf8").trim())
    process.kill(pid, "SIGSTOP")
    const started = Date.now()
    const appending = Effect.runPromise(store.append("wallet/x", 1, newEvents(2)))
    await new Promise((r) => setTimeout(r, 300))
    await node.kill(0)
    await node.restart(0)
    // Before, the lost publish was waited for until its 60 s timeout; now the drop ends it, the store
    // catches up once the server is back and publishes again under the compare-and-set.
    expect(await appending).toEqual({
      firstSequence: 2,
      lastSequence: 3,
      streamVersion: 3,
      deduplicated: false,
    })
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(store.stats().inDoubt).toBeGreaterThan(0)
    expect(await run(store.sync)).toBe(3)
    expect(store.stats().messages).toBe(2)
  })
})
