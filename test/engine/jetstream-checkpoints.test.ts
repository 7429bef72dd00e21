/**
 * Engines on a JetStream log share their projection checkpoints through the log's `<stream>-checkpoints`
 * bucket (issue #12), against a real nats-server: a node that ran operations saves its checkpoints when it
 * closes; a second node opened with a fresh, empty data directory (a new container) loads them and folds
 * none of the events they cover — the runner's subscription starts past the head — and shows the same
 * balances, history and audit; neither node writes checkpoints to its data directory.
 *
 * How much a runner folds is observed by wrapping `startProjectionRunner` (`vi.mock` of its module): the
 * event store it is given records the sequence each subscription starts from.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { Objm } from "@nats-io/obj"
import { connect } from "@nats-io/transport-node"
import { Effect } from "effect"
import { describe, expect, it, vi } from "vitest"
import { engineStore } from "../../src/engine/internal.js"
import { ALL_PROJECTIONS } from "../../src/projections/index.js"
import { freshDir, fund, openTestEngine, testMint } from "../support/engine.js"
import { natsClosedAfterAll } from "../support/nats.js"

/** For each projection runner started, the sequences its subscriptions started from. */
const runners = vi.hoisted(() => [] as Array<{ readonly subscribedFrom: number[] }>)

vi.mock("../../src/projections/runner.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/projections/runner.js")>()
  const { EventStore } = await import("../../src/ports/event-store.js")
  const startProjectionRunner: typeof original.startProjectionRunner = (opts) =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const seen = { subscribedFrom: [] as number[] }
      runners.push(seen)
      return yield* original.startProjectionRunner(opts).pipe(
        Effect.provideService(EventStore, {
          ...store,
          subscribe: (from) => {
            seen.subscribedFrom.push(from ?? 1)
            return store.subscribe(from)
          },
        }),
      )
    })
  return { ...original, startProjectionRunner }
})

const nats = natsClosedAfterAll()

describe("Engine on JetStream: shared checkpoints", () => {
  it("a node with an empty data dir opens from the checkpoints another node saved, folding none of the log", async () => {
    const { servers } = await nats()
    const mint = testMint("js-checkpoints")
    const stream = "SHAREDCP"
    const open = (dataDir: string) =>
      openTestEngine([mint], {
        dataDir,
        store: { kind: "jetstream", servers, stream, subjectPrefix: "sharedcp" },
      })

    const dirA = freshDir()
    const a = await open(dirA)
    expect(runners.at(-1)!.subscribedFrom).toEqual([1])
    const alice = await a.createWallet({ walletId: "alice" })
    const bob = await a.createWallet({ walletId: "bob" })
    await alice.addMint(mint.baseUrl)
    await bob.addMint(mint.baseUrl)
    await fund(alice, mint, 100n)
    await fund(bob, mint, 5n)
    const { token } = await alice.send({ mintUrl: mint.baseUrl, unit: "sat", amount: 21n })
    await bob.receive(token)
    const head = await Effect.runPromise(engineStore(a).head)
    expect(head).toBeGreaterThan(20)
    const balances = { alice: alice.balance(), bob: bob.balance() }
    expect(balances).toEqual({ alice: 79n, bob: 26n })
    const histories = { alice: alice.history(), bob: bob.history() }
    const pending = { alice: alice.pending(), bob: bob.pending() }
    await a.close()

    // Closing saved every projection's checkpoint at the head, in the bucket beside the stream.
    const nc = await connect({ servers: [...servers] })
    try {
      const bucket = await new Objm(nc).open(`${stream}-checkpoints`)
      for (const p of ALL_PROJECTIONS) {
        const info = await bucket.info(p.name)
        expect(info?.metadata).toEqual({ sequence: String(head), version: String(p.version) })
      }
    } finally {
      await nc.close()
    }

    // A new node: an empty data dir, the same stream. Its runner starts past the head: it folds nothing.
    const dirB = freshDir()
    const b = await open(dirB)
    expect(runners.at(-1)!.subscribedFrom).toEqual([head + 1])
    expect(await Effect.runPromise(engineStore(b).head)).toBe(head)
    const alice2 = b.wallet("alice")
    const bob2 = b.wallet("bob")
    expect({ alice: alice2.balance(), bob: bob2.balance() }).toEqual(balances)
    expect({ alice: alice2.history(), bob: bob2.history() }).toEqual(histories)
    expect({ alice: alice2.pending(), bob: bob2.pending() }).toEqual(pending)
    expect(alice2.mnemonic()).toBe(alice.mnemonic())
    expect((await b.audit()).ok).toBe(true)

    // It goes on from there, and its own checkpoints replace the first node's.
    await fund(bob2, mint, 8n)
    expect(bob2.balance()).toBe(34n)
    const later = await Effect.runPromise(engineStore(b).head)
    await b.close()
    const c = await open(freshDir())
    expect(runners.at(-1)!.subscribedFrom).toEqual([later + 1])
    expect(c.wallet("bob").balance()).toBe(34n)
    expect(c.wallet("alice").history()).toEqual(histories.alice)
    await c.close()

    // No node kept checkpoints in its data directory.
    expect(existsSync(join(dirA, "checkpoints"))).toBe(false)
    expect(existsSync(join(dirB, "checkpoints"))).toBe(false)
  })
})
