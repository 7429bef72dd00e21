/**
 * Wallet leases in a JetStream KV bucket (`src/infra/jetstream-leases.ts`), against the real nats-server:
 * one holder at a time; renewals keep a lease past its TTL; a holder that stops renewing loses it on the
 * server's clock and another node takes it; the former holder's next renewal finds it lost and says so at
 * once; a lease removed underneath its holder is lost at the next renewal; racing nodes get exactly one
 * winner; release frees it at once; wallet ids with characters KV keys refuse map to distinct keys.
 */
import { Kvm } from "@nats-io/kv"
import { connect } from "@nats-io/transport-node"
import { Effect, Exit, Scope } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import {
  type JetStreamWalletLeases,
  leaseKeyOf,
  openJetStreamLeases,
} from "../../src/infra/jetstream-leases.js"
import { natsClosedAfterAll } from "../support/nats.js"

const natsServer = natsClosedAfterAll()
// One server for the file, started by the first test (a failure to start fails every test with the reason).
let started: ReturnType<typeof natsServer> | undefined
const nats = () => (started ??= natsServer())
const TTL = 1200

const scopes: Scope.Closeable[] = []
afterEach(async () => {
  for (const s of scopes.splice(0).reverse()) await Effect.runPromise(Scope.close(s, Exit.void))
})

let buckets = 0
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Nodes on one fresh bucket. */
const nodes = async (...ids: string[]): Promise<JetStreamWalletLeases[]> => {
  const { servers } = await nats()
  const stream = `LEASES${++buckets}`
  const out: JetStreamWalletLeases[] = []
  for (const nodeId of ids) {
    const scope = Effect.runSync(Scope.make())
    scopes.push(scope)
    out.push(
      await Effect.runPromise(
        Scope.provide(scope)(openJetStreamLeases({ servers, stream, nodeId, ttlMs: TTL })),
      ),
    )
  }
  return out
}

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

/** Waits until `f()` holds, polling (fails after `ms`). */
const eventually = async (f: () => Promise<boolean> | boolean, ms: number): Promise<void> => {
  const until = Date.now() + ms
  while (!(await f())) {
    if (Date.now() > until) throw new Error("condition not met in time")
    await sleep(50)
  }
}

describe("JetStream wallet leases", () => {
  it("one holder at a time; renewals keep it alive past the TTL; release frees it at once", async () => {
    const [a, b] = await nodes("node-a", "node-b")
    expect(a!.ttlMs).toBe(TTL)
    const lost: string[] = []
    expect(await run(a!.acquire("w", 1, (r) => lost.push(r)))).toEqual({ _tag: "Acquired" })
    expect(await run(b!.acquire("w", 1, () => undefined))).toEqual({ _tag: "Held", owner: "node-a" })
    expect(await run(b!.holder("w"))).toBe("node-a")
    // Three TTLs later A still holds it: its heartbeat renewed it.
    await sleep(TTL * 3)
    expect(await run(b!.acquire("w", 1, () => undefined))).toEqual({ _tag: "Held", owner: "node-a" })
    expect(a!.holds("w")).toBe(true)
    expect(lost).toEqual([])
    await run(a!.release("w"))
    expect(a!.holds("w")).toBe(false)
    expect(await run(b!.holder("w"))).toBeUndefined()
    expect(await run(b!.acquire("w", 2, () => undefined))).toEqual({ _tag: "Acquired" })
    expect(await run(a!.holder("w"))).toBe("node-b")
  })

  it("a holder that stops renewing loses the lease on the server's clock; its next renewal says so", async () => {
    const [a, b] = await nodes("node-a", "node-b")
    const lost: string[] = []
    await run(a!.acquire("w", 1, (r) => lost.push(r)))
    a!.heartbeat.suspend() // paused: its timers do not fire
    const started = Date.now()
    await eventually(
      async () => (await run(b!.acquire("w", 2, () => undefined)))._tag === "Acquired",
      TTL * 6,
    )
    // Not before the TTL had passed since A's last renewal (at most one heartbeat, TTL / 3, before the pause).
    expect(Date.now() - started).toBeGreaterThanOrEqual(TTL - TTL / 3 - 100)
    expect(lost).toEqual([])
    expect(a!.holds("w")).toBe(true) // A does not know yet
    a!.heartbeat.resume()
    await a!.heartbeat.beat()
    expect(lost).toHaveLength(1)
    expect(lost[0]).toMatch(/taken over or removed/)
    expect(a!.holds("w")).toBe(false)
    expect(await run(a!.acquire("w", 3, () => undefined))).toEqual({ _tag: "Held", owner: "node-b" })
  })

  it("a lease removed underneath its holder is lost at the next renewal, at once", async () => {
    const [a] = await nodes("node-a")
    const lost: string[] = []
    await run(a!.acquire("w", 1, (r) => lost.push(r)))
    // An operator (or anything but the holder) deletes the entry.
    const nc = await connect({ servers: [...(await nats()).servers] })
    const kv = await new Kvm(nc).open(a!.bucket)
    await kv.delete(leaseKeyOf("w"))
    await nc.close()
    await a!.heartbeat.beat()
    expect(lost).toHaveLength(1)
    expect(a!.holds("w")).toBe(false)
  })

  it("nodes racing for one wallet: exactly one wins", async () => {
    const racers = await nodes("r1", "r2", "r3", "r4", "r5")
    for (let round = 0; round < 5; round++) {
      const walletId = `race-${round}`
      const outcomes = await Promise.all(racers.map((n) => run(n.acquire(walletId, 1, () => undefined))))
      const winners = outcomes.flatMap((o, i) => (o._tag === "Acquired" ? [racers[i]!.nodeId] : []))
      expect(winners).toHaveLength(1)
      for (const o of outcomes) if (o._tag === "Held") expect(o.owner).toBe(winners[0])
    }
  })

  it("wallet ids with characters KV keys refuse get distinct keys", async () => {
    const ids = ["a.b", "a..b", "a.", "a=2eb", "a_b", "a-b", "ab"]
    expect(new Set(ids.map(leaseKeyOf)).size).toBe(ids.length)
    for (const k of ids.map(leaseKeyOf)) expect(k).toMatch(/^[A-Za-z0-9_=-]+$/)
    const [a, b] = await nodes("node-a", "node-b")
    for (const id of ids) expect(await run(a!.acquire(id, 1, () => undefined))).toEqual({ _tag: "Acquired" })
    for (const id of ids)
      expect(await run(b!.acquire(id, 1, () => undefined))).toMatchObject({ _tag: "Held" })
  })
})
