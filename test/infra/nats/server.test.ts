/**
 * The real nats-server (v2.15.3, `scripts/nats.sh`) and the @nats-io 3.x client: the server features the
 * JetStream event store relies on, shown directly — the server, not the client, refuses a stale writer
 * (expected-last-subject-sequence, error 10071), a retried publish with the same message id is stored once
 * (Nats-Msg-Id within the duplicate window — but on a single server a retry that still carries its first
 * expectation is refused with 10071, in a cluster it is answered `duplicate`), an atomic batch is all or nothing, a KV entry updates only from the revision it was read at, and an
 * R3 stream on a 3-node cluster keeps taking writes when a server (its leader) is killed.
 *
 * No skips: without the binary these fail with the reason (`bash scripts/nats.sh install`).
 */
import { JetStreamApiError, jetstream, jetstreamManager } from "@nats-io/jetstream"
import { Kvm } from "@nats-io/kv"
import { connect, headers, type NatsConnection } from "@nats-io/transport-node"
import { afterEach, describe, expect, it } from "vitest"
import { type NatsServers, natsClosedAfterAll, natsClosedAfterEach } from "../../support/nats.js"

/** JetStream's error for a failed expected-last-(subject-)sequence check. */
const WRONG_LAST_SEQUENCE = 10071

const enc = (s: string) => new TextEncoder().encode(s)

const nats = natsClosedAfterAll() // the single server, shared by its tests
const natsPerTest = natsClosedAfterEach() // the cluster, stopped after its test
// Registered after the servers' hooks, so (hooks run last-registered first) connections close before the
// servers stop.
const connections: NatsConnection[] = []
const open = async (servers: ReadonlyArray<string>): Promise<NatsConnection> => {
  const nc = await connect({ servers: [...servers], maxReconnectAttempts: -1, reconnectTimeWait: 100 })
  connections.push(nc)
  return nc
}
afterEach(async () => {
  for (const nc of connections.splice(0)) await nc.close()
})

/** The JetStream API error code a promise rejects with (fails the test if it resolves). */
const apiErrorCode = async (p: Promise<unknown>): Promise<number> => {
  const e = await p.then(
    (v) => {
      throw new Error(`expected a JetStream API error, got ${JSON.stringify(v)}`)
    },
    (e: unknown) => e,
  )
  if (e instanceof JetStreamApiError) return e.code
  throw e
}

/**
 * An atomic batch (ADR-50) by hand: every message carries Nats-Batch-Id and Nats-Batch-Sequence, the last one
 * Nats-Batch-Commit; the first and the last are requests. Returns the commit's JSON reply (an ack or an error).
 */
const rawAtomicBatch = async (
  nc: NatsConnection,
  subject: string,
  payloads: ReadonlyArray<string>,
  lastSubjectSequence: number,
): Promise<{ count?: number; seq?: number; error?: { err_code: number } }> => {
  const id = `batch-${Date.now()}-${Math.random().toString(36).slice(2)}`
  let reply = ""
  for (const [k, payload] of payloads.entries()) {
    const h = headers()
    h.set("Nats-Batch-Id", id)
    h.set("Nats-Batch-Sequence", String(k + 1))
    if (k === 0) h.set("Nats-Expected-Last-Subject-Sequence", String(lastSubjectSequence))
    const isLast = k === payloads.length - 1
    if (isLast) h.set("Nats-Batch-Commit", "1")
    if (k === 0 || isLast)
      reply = (await nc.request(subject, enc(payload), { headers: h, timeout: 5_000 })).string()
    else nc.publish(subject, enc(payload), { headers: h })
  }
  return JSON.parse(reply)
}

describe("nats-server, single node", () => {
  // Started by the first test and shared; a failure to start fails every test with the reason (none skipped).
  let started: Promise<NatsServers> | undefined
  const single = () => (started ??= nats())

  it("is the pinned version, with JetStream", async () => {
    const nc = await open((await single()).servers)
    expect(nc.info?.version).toBe("2.15.3")
    expect(nc.info?.jetstream).toBe(true)
    const info = await (await jetstreamManager(nc)).getAccountInfo()
    expect(info.streams).toBeGreaterThanOrEqual(0)
  })

  it("refuses a publish whose expected last subject sequence is stale (10071); other subjects are independent", async () => {
    const nc = await open((await single()).servers)
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: "EXPECT", subjects: ["expect.>"] })
    const js = jetstream(nc)

    const a1 = await js.publish("expect.w1", enc("a1"), { expect: { lastSubjectSequence: 0 } })
    const b1 = await js.publish("expect.w2", enc("b1"), { expect: { lastSubjectSequence: 0 } })
    const a2 = await js.publish("expect.w1", enc("a2"), { expect: { lastSubjectSequence: a1.seq } })
    expect([a1.seq, b1.seq, a2.seq]).toEqual([1, 2, 3])

    // A writer that still believes w1 ends at a1 (it missed a2) is refused by the server.
    expect(
      await apiErrorCode(js.publish("expect.w1", enc("stale"), { expect: { lastSubjectSequence: a1.seq } })),
    ).toBe(WRONG_LAST_SEQUENCE)
    // So is a writer that believes w1 is new.
    expect(
      await apiErrorCode(js.publish("expect.w1", enc("stale"), { expect: { lastSubjectSequence: 0 } })),
    ).toBe(WRONG_LAST_SEQUENCE)
    // w2's position is its own: a2 on w1 did not move it.
    const b2 = await js.publish("expect.w2", enc("b2"), { expect: { lastSubjectSequence: b1.seq } })
    expect(b2.seq).toBe(4)

    const state = (await jsm.streams.info("EXPECT")).state
    expect([state.messages, state.last_seq]).toEqual([4, 4])
    const last = await jsm.streams.getMessage("EXPECT", { last_by_subj: "expect.w1" })
    expect(last?.string()).toBe("a2")
  })

  it("stores a message id once within the duplicate window; on one server a retry carrying its stale expectation gets 10071", async () => {
    const nc = await open((await single()).servers)
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: "DEDUPE", subjects: ["dedupe.>"], duplicate_window: 60_000_000_000 }) // 60 s, in ns
    const js = jetstream(nc)

    const first = await js.publish("dedupe.w1", enc("e1"), {
      msgID: "event-1",
      expect: { lastSubjectSequence: 0 },
    })
    expect(first.duplicate).toBe(false)
    // The retry of an append whose ack was lost, as sent the first time: same id, same expectation (now stale).
    // A single server checks the expectation before the id (stream.go, processJetStreamMsg) and refuses it with
    // 10071; a cluster checks the id first and answers `duplicate` (see the cluster test). The event store must
    // read a 10071 as "maybe my own earlier append" and look at the subject's tail for its event ids.
    expect(
      await apiErrorCode(
        js.publish("dedupe.w1", enc("e1"), { msgID: "event-1", expect: { lastSubjectSequence: 0 } }),
      ),
    ).toBe(WRONG_LAST_SEQUENCE)
    // Without the expectation the id alone answers: the original sequence, marked duplicate, nothing stored.
    const again = await js.publish("dedupe.w1", enc("e1"), { msgID: "event-1" })
    expect(again).toMatchObject({ duplicate: true, seq: first.seq })

    const next = await js.publish("dedupe.w1", enc("e2"), {
      msgID: "event-2",
      expect: { lastSubjectSequence: first.seq },
    })
    expect(next).toMatchObject({ duplicate: false, seq: first.seq + 1 })
    const state = (await jsm.streams.info("DEDUPE")).state
    expect(state.messages).toBe(2)
  })

  it("applies an atomic batch all or nothing: a stale expectation on its first message stores none of it", async () => {
    const nc = await open((await single()).servers)
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: "BATCH", subjects: ["batch.>"], allow_atomic: true })
    const js = jetstream(nc)

    // Through the client: a batch of three, the first expecting w1 to be new.
    const batch = await js.startBatch("batch.w1", enc("e1"), { expect: { lastSubjectSequence: 0 } })
    batch.add("batch.w1", enc("e2"))
    const ack = await batch.commit("batch.w1", enc("e3"))
    expect([ack.count, ack.seq]).toEqual([3, 3])

    // A second writer's batch still expecting w1 to be new: the server refuses the whole batch at its commit
    // with 10071. @nats-io/jetstream 3.4.0's Batch.commit does not parse an error reply (it throws "batch didn't
    // contain number of published messages"), so the code is read from the raw commit reply here.
    const reply = await rawAtomicBatch(nc, "batch.w1", ["x1", "x2", "x3"], 0)
    expect(reply.error?.err_code).toBe(WRONG_LAST_SEQUENCE)
    await expect(
      (async () => {
        const stale = await js.startBatch("batch.w1", enc("y1"), { expect: { lastSubjectSequence: 0 } })
        stale.add("batch.w1", enc("y2"))
        return stale.commit("batch.w1", enc("y3"))
      })(),
    ).rejects.toThrow()
    const state = (await jsm.streams.info("BATCH")).state
    expect([state.messages, state.last_seq]).toEqual([3, 3])
    const last = await jsm.streams.getMessage("BATCH", { last_by_subj: "batch.w1" })
    expect(last?.string()).toBe("e3")
  })

  it("KV: create only if absent, update only from the revision read; a stale revision is refused", async () => {
    const nc = await open((await single()).servers)
    const kv = await new Kvm(nc).create("leases", { history: 1 })

    const r1 = await kv.create("wallet.alice", enc("node-a epoch 1"))
    await expect(kv.create("wallet.alice", enc("node-b epoch 1"))).rejects.toThrow()
    const r2 = await kv.update("wallet.alice", enc("node-a epoch 1 renewed"), r1)
    expect(r2).toBeGreaterThan(r1)
    // node-b read the lease at r1 and tries to take it over: refused, the server has r2.
    expect(await apiErrorCode(kv.update("wallet.alice", enc("node-b epoch 2"), r1))).toBe(WRONG_LAST_SEQUENCE)
    const entry = await kv.get("wallet.alice")
    expect([entry?.revision, entry?.string()]).toEqual([r2, "node-a epoch 1 renewed"])
  })
})

describe("nats-server, 3-node cluster", () => {
  it("an R3 stream keeps taking writes, with its expectations, when its leader's server is SIGKILLed", async () => {
    const cluster = await natsPerTest({ cluster: 3 })
    expect(cluster.servers).toHaveLength(3)
    const nc = await open(cluster.servers)
    const jsm = await jetstreamManager(nc)
    const info = await jsm.streams.add({ name: "R3", subjects: ["r3.>"], num_replicas: 3 })
    expect(info.config.num_replicas).toBe(3)
    const js = jetstream(nc, { timeout: 2_000 })

    let last = 0
    for (let i = 0; i < 5; i++) {
      last = (await js.publish("r3.w1", enc(`before ${i}`), { expect: { lastSubjectSequence: last } })).seq
    }
    // In a cluster the message id is checked before the expectation: the retry of an append whose ack was lost,
    // stale expectation and all, is answered `duplicate` with the original sequence (one server says 10071).
    const once = await js.publish("r3.w1", enc("once"), {
      msgID: "once",
      expect: { lastSubjectSequence: last },
    })
    const retried = await js.publish("r3.w1", enc("once"), {
      msgID: "once",
      expect: { lastSubjectSequence: last },
    })
    expect(retried).toMatchObject({ duplicate: true, seq: once.seq })
    last = once.seq

    const leader = (await jsm.streams.info("R3")).cluster?.leader
    expect(leader).toMatch(/^n[123]$/)
    const victim = Number(leader?.slice(1)) - 1
    await cluster.kill(victim)

    // Writes go on once the two survivors elect a new leader (the client may see timeouts meanwhile).
    const deadline = Date.now() + 30_000
    let after: number | undefined
    let lastError: unknown
    while (after === undefined && Date.now() < deadline) {
      try {
        after = (
          await js.publish("r3.w1", enc("after"), {
            msgID: "after-kill",
            expect: { lastSubjectSequence: last },
          })
        ).seq
      } catch (e) {
        lastError = e
        await new Promise((r) => setTimeout(r, 200))
      }
    }
    expect(after, `no write accepted within 30 s of the kill: ${String(lastError)}`).toBe(last + 1)
    // The stale writer is still refused under the new leader.
    expect(
      await apiErrorCode(js.publish("r3.w1", enc("stale"), { expect: { lastSubjectSequence: last } })),
    ).toBe(WRONG_LAST_SEQUENCE)
    const now = await jsm.streams.info("R3")
    expect(now.state.messages).toBe(7)
    expect(now.cluster?.leader).not.toBe(leader)

    // The killed server comes back with its store and catches up.
    await cluster.restart(victim)
    const nc2 = await open([cluster.servers[victim] as string])
    const direct = await jetstreamManager(nc2)
    const caughtUp = Date.now() + 30_000
    let replicas: ReadonlyArray<{ current: boolean }> = []
    while (Date.now() < caughtUp) {
      replicas = (await direct.streams.info("R3")).cluster?.replicas ?? []
      if (replicas.length === 2 && replicas.every((r) => r.current)) break
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(replicas.map((r) => r.current)).toEqual([true, true])
  })
})
