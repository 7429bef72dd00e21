/**
 * An append whose outcome the log does not confirm (issue #12, money safety first). A store may fail an
 * append it has written all the same — JetStream after a lost acknowledgement, LevelDB after a failed
 * fsync — or fail one it has not written. The engine cannot tell which, so it must not say "nothing was
 * recorded": the call fails with `OperationInDoubt` (reason `append-in-doubt`; `StoreUnavailable`
 * `in-doubt` outside an operation), the wallet's stream is re-read before its next append (no stale
 * version), and recovery settles the operation from whatever the log holds, value conserved.
 *
 * The wallet under test runs on the engine's LevelDB log through a store that can fail the next matching
 * append after writing it (`lost-ack`) or without writing it (`not-written`).
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { Engine } from "../../src/engine/engine.js"
import { engineServices, newWallet, walletRuntime } from "../../src/engine/internal.js"
import { walletPrivateKey } from "../../src/engine/keys.js"
import { WalletRuntime } from "../../src/engine/runtime.js"
import type { Wallet } from "../../src/engine/wallet.js"
import type { WalletEvent } from "../../src/events/catalogue.js"
import { OperationInDoubt, StoreUnavailable } from "../../src/model/index.js"
import type { EventStoreShape, NewEvent } from "../../src/ports/event-store.js"
import { enginesClosedAfterEach, fund, testMint } from "../support/engine.js"
import type { TestMint } from "../support/mint/index.js"

const open = enginesClosedAfterEach()

type Fault = "lost-ack" | "not-written"

/** The engine's store, with one armed fault on the next append that `when` picks, and reads that can fail. */
const faultyStore = (inner: EventStoreShape) => {
  let armed:
    | { readonly fault: Fault; readonly when: (events: ReadonlyArray<NewEvent>) => boolean }
    | undefined
  let readFailures = 0
  const store: EventStoreShape = {
    ...inner,
    append: (streamId, expected, events) => {
      const a = armed
      if (a === undefined || !a.when(events)) return inner.append(streamId, expected, events)
      armed = undefined
      if (a.fault === "not-written")
        return Effect.fail(new StoreUnavailable({ reason: "io", message: "the write failed" }))
      return Effect.flatMap(inner.append(streamId, expected, events), () =>
        Effect.fail(new StoreUnavailable({ reason: "io", message: "no acknowledgement" })),
      )
    },
    read: (streamId, fromVersion) =>
      readFailures > 0
        ? Effect.suspend(() => {
            readFailures--
            return Effect.fail(new StoreUnavailable({ reason: "io", message: "the read failed" }))
          })
        : inner.read(streamId, fromVersion),
  }
  return {
    store,
    next: (fault: Fault, when: (events: ReadonlyArray<NewEvent>) => boolean) => {
      armed = { fault, when }
    },
    failReads: (n: number) => {
      readFailures = n
    },
    get armed() {
      return armed !== undefined
    },
  }
}

/** Picks the append holding an event with this tag. */
const holding =
  (tag: WalletEvent["_tag"]) =>
  (events: ReadonlyArray<NewEvent>): boolean =>
    events.some((e) => e.event._tag === tag)

const setup = async (name: string) => {
  // NUT-19 caching off: recovery settles by checkstate and restore only (no replay of the request).
  const mint = testMint(name, { cacheTtlSeconds: null })
  const other = testMint(`${name}-other`, { cacheTtlSeconds: null, seed: `${name}-other` })
  const engine = await open([mint, other])
  const created = await engine.createWallet({ walletId: "alice" })
  await created.addMint(mint.baseUrl)
  await fund(created, mint, 64n)
  // The same wallet, its runtime on the faulty store (the engine's projections and mint client).
  const services = engineServices(engine)
  const faulty = faultyStore(services.store)
  const hosted = walletRuntime(created)
  const version = await Effect.runPromise(services.store.streamVersion(hosted.stream))
  const rt = new WalletRuntime(
    hosted.walletId,
    hosted.seed.slice(),
    { ...services, store: faulty.store },
    version,
  )
  const alice = newWallet<Wallet>(rt, walletPrivateKey(rt.seed), () => engine.auditEffect())
  return { mint, other, engine, alice, faulty }
}

const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error("expected a rejection")
    },
    (e: unknown) => e,
  )

const inDoubt = async (p: Promise<unknown>, kind: string): Promise<OperationInDoubt> => {
  const e = await rejection(p)
  expect(e).toBeInstanceOf(OperationInDoubt)
  expect(e).toMatchObject({ _tag: "OperationInDoubt", kind, reason: "append-in-doubt", code: undefined })
  expect((e as OperationInDoubt).message).toMatch(/may have been recorded or not/)
  return e as OperationInDoubt
}

const statusOf = (w: Wallet, operationId: string) =>
  w.history().find((o) => o.operationId === operationId)?.status

const swaps = (mint: TestMint) => mint.stats().requests["POST /v1/swap"] ?? 0

/** Every unit the mint has out is in the wallets' books, and the log audits clean. */
const consistent = async (engine: Engine, mint: TestMint, ...wallets: Wallet[]) => {
  const held = wallets.reduce((s, w) => s + w.balance() + w.pending().reduce((p, e) => p + e.amount, 0n), 0n)
  expect(mint.stats().outstanding).toBe(held)
  expect((await engine.audit()).ok).toBe(true)
}

describe("an append the log did not confirm", () => {
  it("a send's intent stored but unacknowledged: in doubt, the next call appends, recovery releases its input", async () => {
    const { mint, engine, alice, faulty } = await setup("aid-send-intent")
    const before = swaps(mint)
    faulty.next("lost-ack", holding("OperationPrepared"))
    const e = await inDoubt(alice.send({ mintUrl: mint.baseUrl, amount: 10n }), "send")
    expect(faulty.armed).toBe(false)
    // The intent is in the log (the input reserved under it); its request never left.
    expect(swaps(mint)).toBe(before)
    expect(statusOf(alice, e.operationId)).toBe("requested")
    expect(alice.balance()).toBe(0n)
    // The next call on the wallet appends at the stream's true version.
    await fund(alice, mint, 16n)
    expect(alice.balance()).toBe(16n)
    // Recovery: the mint never saw the request (every input unspent): the input is released.
    expect(await alice.recover()).toEqual({ recovered: 0, compensated: 1, pending: 0 })
    expect(statusOf(alice, e.operationId)).toBe("compensated")
    expect(alice.balance()).toBe(80n)
    await consistent(engine, mint, alice)
    const sent = await alice.send({ mintUrl: mint.baseUrl, amount: 10n })
    expect(sent.amount).toBe(10n)
    await consistent(engine, mint, alice)
  })

  it("a swap's intent not written: in doubt, no such operation, nothing held", async () => {
    const { mint, engine, alice, faulty } = await setup("aid-swap-intent")
    const before = swaps(mint)
    faulty.next("not-written", holding("OperationPrepared"))
    const e = await inDoubt(alice.swap({ mintUrl: mint.baseUrl, amount: 20n }), "swap")
    expect(swaps(mint)).toBe(before)
    // Whether it is in the log was not known to the call; it is not: the operation never started.
    expect(statusOf(alice, e.operationId)).toBeUndefined()
    expect(alice.balance()).toBe(64n)
    expect(await alice.recover()).toEqual({ recovered: 0, compensated: 0, pending: 0 })
    const done = await alice.swap({ mintUrl: mint.baseUrl, amount: 20n })
    expect(done.operationId).not.toBe(e.operationId)
    expect(alice.balance()).toBe(64n)
    await consistent(engine, mint, alice)
  })

  it("a swap's finalisation stored but unacknowledged: in doubt, then found completed", async () => {
    const { mint, engine, alice, faulty } = await setup("aid-swap-final")
    faulty.next("lost-ack", holding("OperationCompleted"))
    const e = await inDoubt(alice.swap({ mintUrl: mint.baseUrl, amount: 20n }), "swap")
    expect(statusOf(alice, e.operationId)).toBe("completed")
    expect(alice.balance()).toBe(64n)
    await fund(alice, mint, 8n)
    expect(await alice.recover()).toEqual({ recovered: 0, compensated: 0, pending: 0 })
    expect(alice.balance()).toBe(72n)
    await consistent(engine, mint, alice)
  })

  it("a send's finalisation not written after the mint signed: in doubt, recovery finishes it from the mint", async () => {
    const { mint, engine, alice, faulty } = await setup("aid-send-final")
    faulty.next("not-written", holding("OperationCompleted"))
    const e = await inDoubt(alice.send({ mintUrl: mint.baseUrl, amount: 10n }), "send")
    // The mint swapped: the input is spent there, the outputs signed, and none of it is in the books yet.
    expect(statusOf(alice, e.operationId)).toBe("requested")
    await fund(alice, mint, 8n)
    expect(alice.balance()).toBe(8n)
    // Recovery: the inputs are spent, the outputs restored by B_, the send finalised.
    expect(await alice.recover()).toEqual({ recovered: 1, compensated: 0, pending: 0 })
    expect(statusOf(alice, e.operationId)).toBe("completed")
    expect(alice.pending()).toEqual([expect.objectContaining({ operationId: e.operationId, amount: 10n })])
    await consistent(engine, mint, alice)
    // The unclaimed token's proofs come back by reclaim, as after any send.
    await alice.reclaim(e.operationId)
    expect(alice.balance()).toBe(72n)
    await consistent(engine, mint, alice)
  })

  it("outside an operation (addMint): StoreUnavailable in-doubt, and the call may simply be repeated", async () => {
    const { other, engine, alice, faulty } = await setup("aid-add-mint")
    faulty.next("lost-ack", holding("MintTrusted"))
    const e = await rejection(alice.addMint(other.baseUrl))
    expect(e).toBeInstanceOf(StoreUnavailable)
    expect(e).toMatchObject({ reason: "in-doubt" })
    expect((e as StoreUnavailable).message).toMatch(/may have been recorded or not/)
    // It was recorded: a repeat finds nothing new to append.
    expect(await alice.addMint(other.baseUrl)).toEqual({ learned: 0, changed: 0 })
    await fund(alice, other, 5n)
    expect(alice.balance(other.baseUrl)).toBe(5n)
    expect(other.stats().outstanding).toBe(5n)
    expect((await engine.audit()).ok).toBe(true)
  })

  it("while the stream cannot be re-read, appends are refused (nothing recorded); then the wallet goes on", async () => {
    const { mint, engine, alice, faulty } = await setup("aid-reread")
    faulty.next("lost-ack", holding("OperationPrepared"))
    const e = await inDoubt(alice.swap({ mintUrl: mint.baseUrl, amount: 20n }), "swap")
    faulty.failReads(1)
    const refused = await rejection(alice.mintQuote({ mintUrl: mint.baseUrl, amount: 8n }))
    expect(refused).toMatchObject({ _tag: "EngineInvariant" })
    expect((refused as Error).message).toMatch(/nothing of this step was recorded/)
    expect(alice.history().filter((o) => o.kind === "mint")).toHaveLength(1) // the setup's funding only
    // Readable again: re-read at the next write, recovery settles the swap.
    expect(await alice.recover()).toEqual({ recovered: 0, compensated: 1, pending: 0 })
    expect(statusOf(alice, e.operationId)).toBe("compensated")
    await fund(alice, mint, 8n)
    expect(alice.balance()).toBe(72n)
    await consistent(engine, mint, alice)
  })
})
