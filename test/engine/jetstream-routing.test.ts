/**
 * Routed wallet calls (issue #12, "Routing"), against a real nats-server: engine nodes over one JetStream log
 * (`store.node`), each answering on NATS for the wallets it owns (`src/engine/routing.ts`).
 *
 * - Node A owns w; node B calls w's balance, send, receive, history through `b.remote("w")` and gets the same
 *   results as A's embedded wallet (bigints as bigints); A calls B's wallet the same way; a thin client
 *   (`connectCluster`) too.
 * - Errors raised on A arrive on B as instances of their class: InsufficientFunds (bigint fields),
 *   InvalidArgument (A's own check of a number where an amount belongs), OperationInDoubt (A's mint call
 *   timed out) — `instanceof` and `isCorecashuError` hold.
 * - After a takeover by B, B serves w locally and A's routed calls reach B.
 * - A wallet nobody serves → WalletNotOwned (writes at once; reads after their retries).
 * - A malformed reply → DecodeError for a read, RemoteInDoubt for a write (never retried); no reply → a
 *   write is RemoteInDoubt (sent once), a read RemoteUnavailable after its retries.
 */
import { connect } from "@nats-io/transport-node"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Engine, type EngineOpenOptions } from "../../src/engine/engine.js"
import { engineServices } from "../../src/engine/internal.js"
import { connectCluster } from "../../src/engine/routing.js"
import type { Wallet } from "../../src/engine/wallet.js"
import type { JetStreamWalletLeases } from "../../src/infra/jetstream-leases.js"
import {
  DecodeError,
  InsufficientFunds,
  InvalidArgument,
  isCorecashuError,
  MintTimeout,
  OperationInDoubt,
  RemoteInDoubt,
  RemoteUnavailable,
  WalletNotOwned,
} from "../../src/model/index.js"
import type { MintClientShape } from "../../src/ports/mint-client.js"
import { directMintClient } from "../support/direct-mint-client.js"
import { freshDir, fund, testMint } from "../support/engine.js"
import type { TestMint } from "../support/mint/index.js"
import { natsClosedAfterAll } from "../support/nats.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"

const natsServer = natsClosedAfterAll()
let started: ReturnType<typeof natsServer> | undefined
const nats = () => (started ??= natsServer())

const TTL = 1500
let streams = 0

const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error("expected a failure")
    },
    (e: unknown) => e,
  )

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const eventually = async (f: () => Promise<boolean> | boolean, ms: number): Promise<void> => {
  const until = Date.now() + ms
  while (!(await f())) {
    if (Date.now() > until) throw new Error("condition not met in time")
    await sleep(50)
  }
}

/** The in-process mint client, except that while armed every swap times out (the mint never sees it). */
const flakyClient = (mint: TestMint) => {
  const direct = directMintClient(mint)
  let armed = false
  const client: MintClientShape = {
    ...direct,
    swap: ((mintUrl, body) =>
      Effect.suspend(() => {
        if (!armed) return direct.swap(mintUrl, body)
        return Effect.fail(
          new MintTimeout({
            mintUrl: mint.baseUrl,
            endpoint: "swap",
            afterMs: 100,
            message: "swap: stalled",
          }),
        )
      })) as typeof direct.swap,
  }
  return {
    client,
    arm: (on: boolean) => {
      armed = on
    },
  }
}

/** A log of its own, and a way to open nodes on it. */
const cluster = async (name: string) => {
  const { servers } = await nats()
  const mint = testMint(name)
  const n = ++streams
  const subjectPrefix = `rt${n}`
  const open = (nodeId: string, extra: Partial<EngineOpenOptions> = {}) =>
    Engine.open({
      dataDir: freshDir(),
      passphrase: "routing",
      vault: INSECURE_TEST_VAULT_OPTIONS,
      mintClient: directMintClient(mint),
      options: { quotePollMs: 5 },
      store: {
        kind: "jetstream",
        servers,
        stream: `RT${n}`,
        subjectPrefix,
        node: { id: nodeId, leaseTtlMs: TTL },
      },
      ...extra,
    } as EngineOpenOptions)
  return { servers, mint, open, subjectPrefix }
}

const leasesOf = (engine: Engine): JetStreamWalletLeases =>
  engineServices(engine).leases as JetStreamWalletLeases

/** Waits until `engine` has folded the log up to where `other` is (so both see the same wallets). */
const sees = (engine: Engine, walletId: string) =>
  eventually(() => {
    try {
      engine.wallet(walletId)
      return true
    } catch (e) {
      return (e as { _tag?: string })._tag === "WalletNotOwned"
    }
  }, 5000)

describe("Routed wallet calls over NATS (issue #12)", () => {
  it("B calls A's wallet, A calls B's, a thin client calls both: the same results as the embedded API", async () => {
    const { mint, open, servers, subjectPrefix } = await cluster("route-basic")
    const a = await open("node-a")
    const b = await open("node-b")
    try {
      const w = await a.createWallet({ walletId: "w" })
      await w.addMint(mint.baseUrl)
      await fund(w, mint, 64n)
      const v = await b.createWallet({ walletId: "v.1" })
      await v.addMint(mint.baseUrl)
      await sees(b, "w")

      const rw = b.remote("w")
      expect(rw.id).toBe("w")
      expect(await rw.balance()).toBe(64n)
      expect(await rw.balance(mint.baseUrl, "sat")).toBe(64n)
      expect(await rw.balances()).toStrictEqual(w.balances())
      expect(await rw.publicKey()).toBe(w.publicKey())

      // A send routed from B runs on A: A's own wallet shows it.
      const sent = await rw.send({ mintUrl: mint.baseUrl, amount: 10n })
      expect(typeof sent.amount).toBe("bigint")
      expect(sent).toMatchObject({ amount: 10n, offline: expect.any(Boolean) })
      expect(w.balance()).toBe(54n)
      expect(await rw.history()).toStrictEqual(w.history())
      expect(await rw.pending()).toStrictEqual(w.pending())

      // A receives into B's wallet through a.remote: routed to B.
      await sees(a, "v.1")
      const received = await a.remote("v.1").receive(sent.token)
      expect(received).toMatchObject({ amount: 10n, mintUrl: mint.baseUrl, unit: "sat" })
      expect(typeof received.fee).toBe("bigint")
      expect(v.balance()).toBe(10n - received.fee)

      // And back: B sends from its own wallet (locally), receives into w through the router.
      const back = await b.remote("v.1").send({ mintUrl: mint.baseUrl, amount: 4n })
      expect(v.balance()).toBe(10n - received.fee - 4n)
      const got = await rw.receive(back.token)
      expect(got.amount).toBe(4n)
      expect(w.balance()).toBe(54n + 4n - got.fee)
      expect(await rw.checkPending()).toMatchObject({ spent: expect.any(Number) })
      expect(await rw.recover()).toStrictEqual({ recovered: 0, compensated: 0, pending: 0 })

      // A mint quote and its claim, routed.
      const q = await rw.mintQuote({ mintUrl: mint.baseUrl, amount: 8n })
      expect(q.amount).toBe(8n)
      const minted = await rw.mint(q.operationId)
      expect(minted).toMatchObject({ operationId: q.operationId, amount: 8n })
      expect(await rw.balance()).toBe(w.balance())

      // A thin client with no log and no wallets.
      const thin = await connectCluster({ servers, subjectPrefix })
      try {
        expect(await thin.wallet("w").balance()).toBe(w.balance())
        expect(await thin.wallet("v.1").balance()).toBe(v.balance())
        expect(await thin.wallet("w").history()).toStrictEqual(w.history())
      } finally {
        await thin.close()
      }
    } finally {
      await b.close()
      await a.close()
    }
  })

  it("errors raised on the owner arrive typed: InsufficientFunds, InvalidArgument, OperationInDoubt", async () => {
    const { mint, open } = await cluster("route-errors")
    const flaky = flakyClient(mint)
    const a = await open("node-a", { mintClient: flaky.client })
    const b = await open("node-b")
    try {
      const w = await a.createWallet({ walletId: "w" })
      await w.addMint(mint.baseUrl)
      await fund(w, mint, 64n)
      await sees(b, "w")
      const rw = b.remote("w")

      const short = await rejection(rw.send({ mintUrl: mint.baseUrl, amount: 1000n }))
      expect(short).toBeInstanceOf(InsufficientFunds)
      expect(isCorecashuError(short)).toBe(true)
      expect(short).toMatchObject({ _tag: "InsufficientFunds", needed: 1000n, available: 64n, unit: "sat" })
      expect(typeof (short as InsufficientFunds).needed).toBe("bigint")

      // A number where an amount belongs: A's argument check refuses it; nothing ran.
      const wrong = await rejection(rw.send({ mintUrl: mint.baseUrl, amount: 5 as unknown as bigint }))
      expect(wrong).toBeInstanceOf(InvalidArgument)
      expect(wrong).toMatchObject({ _tag: "InvalidArgument", argument: "request.amount" })

      // A's swap times out at the mint: the send is in doubt on A, and so it is on B.
      flaky.arm(true)
      const doubt = await rejection(rw.send({ mintUrl: mint.baseUrl, amount: 5n, forceSwap: true }))
      expect(doubt).toBeInstanceOf(OperationInDoubt)
      expect(isCorecashuError(doubt)).toBe(true)
      expect(doubt).toMatchObject({ _tag: "OperationInDoubt", kind: "send", reason: "ambiguous" })
      const op = (doubt as OperationInDoubt).operationId
      expect((await rw.history()).map((o) => o.operationId)).toContain(op)
      expect(await rw.balance()).toBeLessThan(64n) // its inputs stay held by the operation
      // Recovery on the owner settles it once the mint answers (it never saw the swap).
      flaky.arm(false)
      await eventually(async () => (await rw.recover()).pending === 0, 10_000)
      // Settled forward (the swap redone, the send completed) or back (inputs released): never lost.
      expect([59n, 64n]).toContain(await rw.balance())
      expect(await rw.balance()).toBe(w.balance())
    } finally {
      await b.close()
      await a.close()
    }
  })

  it("after B takes w over, B serves it locally and A's routed calls reach B", async () => {
    const { mint, open } = await cluster("route-takeover")
    const a = await open("node-a")
    const b = await open("node-b")
    try {
      const w = await a.createWallet({ walletId: "w" })
      await w.addMint(mint.baseUrl)
      await fund(w, mint, 64n)
      await sees(b, "w")
      expect(await b.remote("w").balance()).toBe(64n)

      // A pauses; after the TTL B acquires w.
      leasesOf(a).heartbeat.suspend()
      let wb: Wallet | undefined
      await eventually(async () => {
        const r = await b.acquire("w").then(
          (x) => x,
          (e: unknown) => e,
        )
        if ((r as { _tag?: string })._tag === "WalletNotOwned") return false
        wb = r as Wallet
        return true
      }, TTL * 8)
      // A wakes: its next renewal finds the lease gone, it drops w and stops answering for it.
      leasesOf(a).heartbeat.resume()
      await leasesOf(a).heartbeat.beat()
      expect(a.walletIds()).toEqual([])

      // B serves w locally; A's calls are routed to B.
      const sent = await b.remote("w").send({ mintUrl: mint.baseUrl, amount: 10n })
      expect(wb!.balance()).toBe(54n)
      expect(await a.remote("w").balance()).toBe(54n)
      const more = await a.remote("w").send({ mintUrl: mint.baseUrl, amount: 5n })
      expect(more.amount).toBe(5n)
      expect(wb!.balance()).toBe(49n)
      expect(await a.remote("w").history()).toStrictEqual(wb!.history())
      expect(sent.amount).toBe(10n)
    } finally {
      await b.close()
      await a.close()
    }
  })

  it("a wallet nobody serves: WalletNotOwned; a released one names its last owner", async () => {
    const { mint, open } = await cluster("route-nobody")
    const a = await open("node-a")
    const b = await open("node-b")
    try {
      const ghost = b.remote("ghost", { readRetries: 1 })
      const write = await rejection(ghost.send({ mintUrl: mint.baseUrl, amount: 1n }))
      expect(write).toBeInstanceOf(WalletNotOwned)
      expect(write).toMatchObject({ walletId: "ghost", owner: undefined })
      expect(await rejection(ghost.balance())).toBeInstanceOf(WalletNotOwned)

      const w = await a.createWallet({ walletId: "w" })
      await w.addMint(mint.baseUrl)
      await sees(b, "w")
      await a.close() // releases w's lease and stops answering for it
      const orphan = await rejection(b.remote("w").send({ mintUrl: mint.baseUrl, amount: 1n }))
      expect(orphan).toBeInstanceOf(WalletNotOwned)
      expect(orphan).toMatchObject({ walletId: "w", owner: "node-a" })
    } finally {
      await b.close()
      await a.close()
    }
  })

  it("a malformed reply is a typed error; a lost reply makes a write RemoteInDoubt, sent once", async () => {
    const { mint, open, servers, subjectPrefix } = await cluster("route-bad")
    const b = await open("node-b")
    const nc = await connect({ servers: [...servers] })
    try {
      let seen = 0
      nc.subscribe(`${subjectPrefix}-rpc.liar`, {
        callback: (_e, m) => {
          seen++
          m.respond("{ this is not json")
        },
      })
      nc.subscribe(`${subjectPrefix}-rpc.mute`, {
        callback: () => {
          seen++
        },
      })
      nc.subscribe(`${subjectPrefix}-rpc.tagger`, {
        callback: (_e, m) => {
          m.respond(JSON.stringify({ v: 1, ok: false, error: { _tag: "Nope", message: "x" } }))
        },
      })
      await nc.flush()

      const liar = b.remote("liar", { readRetries: 0 })
      const read = await rejection(liar.balance())
      expect(read).toBeInstanceOf(DecodeError)
      seen = 0
      const write = await rejection(liar.send({ mintUrl: mint.baseUrl, amount: 1n }))
      expect(write).toBeInstanceOf(RemoteInDoubt)
      expect(write).toMatchObject({ walletId: "liar", method: "send", reason: "malformed-reply" })
      expect(seen).toBe(1)
      expect(await rejection(b.remote("tagger").balance())).toMatchObject({
        _tag: "DecodeError",
        reason: "schema",
      })

      const mute = b.remote("mute", { timeoutMs: 200, readRetries: 2 })
      seen = 0
      const lost = await rejection(mute.melt("op-1"))
      expect(lost).toBeInstanceOf(RemoteInDoubt)
      expect(lost).toMatchObject({ method: "melt", reason: "timeout" })
      expect(seen).toBe(1) // never retried
      seen = 0
      const gone = await rejection(mute.balance())
      expect(gone).toBeInstanceOf(RemoteUnavailable)
      expect(gone).toMatchObject({ reason: "timeout" })
      expect(seen).toBe(3) // a read: tried again
    } finally {
      await nc.close()
      await b.close()
    }
  })

  it("checks its arguments", async () => {
    const { open, servers } = await cluster("route-args")
    const b = await open("node-b")
    try {
      expect(() => b.remote("bad id!")).toThrow(InvalidArgument)
      expect(() => b.remote("w", { timeoutMs: 1 })).toThrow(InvalidArgument)
      expect(() => b.remote("w", { nope: 1 } as never)).toThrow(InvalidArgument)
      await expect(connectCluster({ servers: "http://x" })).rejects.toBeInstanceOf(InvalidArgument)
      await expect(connectCluster({ servers, subjectPrefix: "a.b" })).rejects.toBeInstanceOf(InvalidArgument)
    } finally {
      await b.close()
    }
  })
})
