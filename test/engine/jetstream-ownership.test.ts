/**
 * Wallet ownership with fencing (issue #12), against a real nats-server: engine nodes over one JetStream log
 * (`store.node`), each serving only the wallets whose lease it holds.
 *
 * - Node A creates and owns w; node B is refused (`WalletNotOwned`, naming A) and cannot acquire it while A
 *   renews. A pauses (its heartbeat suspended: its timers do not fire); after the TTL, on the server's
 *   clock, B acquires w — ownership event epoch 2 —, recovers it, serves it and appends. A wakes and goes on
 *   as if it still owned w: its append is refused (the log moved under epoch 2), A drops w and answers
 *   `WalletNotOwned` from then on; nothing of A's attempt reached the log or the mint, and the books balance.
 * - The same with a real process: node A in a child process is SIGSTOPped past its lease, B takes over and
 *   appends, A is SIGCONTed with a send already waiting — the send fails `WalletNotOwned` (in practice by
 *   the fence: its append refused), and the books balance against the mint.
 * - A lease whose renewal fails makes the wallet unavailable at once.
 * - Nodes racing to acquire one wallet: exactly one wins, and the log holds one epoch 2.
 * - The new options are checked like every other argument.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Kvm } from "@nats-io/kv"
import { connect } from "@nats-io/transport-node"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Engine, type EngineOpenOptions } from "../../src/engine/engine.js"
import { engineServices, engineStore } from "../../src/engine/internal.js"
import type { Wallet } from "../../src/engine/wallet.js"
import { type JetStreamWalletLeases, leaseKeyOf } from "../../src/infra/jetstream-leases.js"
import { isCorecashuError } from "../../src/model/index.js"
import type { MintClientShape } from "../../src/ports/mint-client.js"
import { directMintClient } from "../support/direct-mint-client.js"
import { freshDir, fund, testMint } from "../support/engine.js"
import { createTestMint, serve } from "../support/mint/index.js"
import { natsClosedAfterAll } from "../support/nats.js"
import type { OwnerCommand, OwnerReport, OwnerSpec } from "../support/owner-child.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"

const natsServer = natsClosedAfterAll()
let started: ReturnType<typeof natsServer> | undefined
const nats = () => (started ??= natsServer())

const TTL = 1500
const OWNER_CHILD = fileURLToPath(new URL("../support/owner-child.ts", import.meta.url))
let streams = 0

const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error("expected a failure")
    },
    (e: unknown) => e,
  )

const thrown = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  throw new Error("expected a throw")
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `f` until it holds (fails after `ms`). */
const eventually = async (f: () => Promise<boolean> | boolean, ms: number): Promise<void> => {
  const until = Date.now() + ms
  while (!(await f())) {
    if (Date.now() > until) throw new Error("condition not met in time")
    await sleep(50)
  }
}

/** A log of its own, and a way to open nodes on it. */
const cluster = async (name: string) => {
  const { servers } = await nats()
  const mint = testMint(name)
  const n = ++streams
  const open = (nodeId: string, extra: Partial<EngineOpenOptions> = {}) =>
    Engine.open({
      dataDir: freshDir(),
      passphrase: "ownership",
      vault: INSECURE_TEST_VAULT_OPTIONS,
      mintClient: directMintClient(mint),
      options: { quotePollMs: 5 },
      store: {
        kind: "jetstream",
        servers,
        stream: `OWN${n}`,
        subjectPrefix: `own${n}`,
        node: { id: nodeId, leaseTtlMs: TTL },
      },
      ...extra,
    } as EngineOpenOptions)
  return { servers, mint, open, stream: `OWN${n}` }
}

const leasesOf = (engine: Engine): JetStreamWalletLeases =>
  engineServices(engine).leases as JetStreamWalletLeases

/** The wallet's ownership events, in log order. */
const ownership = async (engine: Engine, walletId: string) => {
  const recs = await Effect.runPromise(engineStore(engine).read(`wallet/${walletId}`, 1))
  return recs.flatMap((r) =>
    r.event._tag === "WalletOwnerChanged" ? [{ nodeId: r.event.nodeId, epoch: r.event.epoch }] : [],
  )
}

const pendingOf = (w: Wallet): bigint => w.pending().reduce((s, p) => s + p.amount, 0n)

describe("Engine nodes on JetStream: wallet ownership with fencing", () => {
  it("B takes over a paused A's wallet after the TTL; A's next append is refused and A steps down", async () => {
    const { mint, open } = await cluster("own-fence")
    const a = await open("node-a")
    const b = await open("node-b")
    expect(a.nodeId).toBe("node-a")
    expect(a.walletIds()).toEqual([])

    const w = await a.createWallet({ walletId: "w" })
    await w.addMint(mint.baseUrl)
    await fund(w, mint, 64n)
    expect(await ownership(a, "w")).toEqual([{ nodeId: "node-a", epoch: 1 }])
    expect(a.walletIds()).toEqual(["w"])

    // B sees w in the log (it follows the stream) but does not own it.
    await eventually(() => {
      try {
        b.wallet("w")
        return false
      } catch (e) {
        return (e as { _tag?: string })._tag === "WalletNotOwned"
      }
    }, 5000)
    expect(thrown(() => b.wallet("w"))).toMatchObject({
      _tag: "WalletNotOwned",
      walletId: "w",
      owner: "node-a",
    })
    expect(thrown(() => b.wallet("nobody"))).toMatchObject({ _tag: "UnknownWallet" })
    expect(await rejection(b.acquire("w"))).toMatchObject({ _tag: "WalletNotOwned", owner: "node-a" })
    expect(await rejection(b.createWallet({ walletId: "w" }))).toMatchObject({ _tag: "WalletExists" })
    // A renews: two TTLs later B still cannot take it.
    await sleep(TTL * 2)
    expect(await rejection(b.acquire("w"))).toMatchObject({ _tag: "WalletNotOwned", owner: "node-a" })

    // A pauses: its heartbeat stops. After the TTL (the server's clock) B acquires w.
    leasesOf(a).heartbeat.suspend()
    const paused = Date.now()
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
    expect(Date.now() - paused).toBeGreaterThanOrEqual(TTL - TTL / 3 - 100)
    expect(await ownership(b, "w")).toEqual([
      { nodeId: "node-a", epoch: 1 },
      { nodeId: "node-b", epoch: 2 },
    ])
    expect(b.walletIds()).toEqual(["w"])
    expect(b.wallet("w")).toBe(wb)
    // B serves w: the same books, and it appends.
    expect(wb!.balance()).toBe(64n)
    await wb!.send({ mintUrl: mint.baseUrl, unit: "sat", amount: 10n })
    expect(wb!.balance()).toBe(54n)

    // A wakes, still believing it owns w (its heartbeat has not run yet), with B's events folded (so it
    // decides a send on what it sees, and does not stop short at a proof B held a moment ago): its append is
    // refused.
    const headB = await Effect.runPromise(engineStore(b).head)
    await Effect.runPromise(engineServices(a).runner.awaitSequence(headB))
    const stale = await rejection(w.send({ mintUrl: mint.baseUrl, unit: "sat", amount: 5n }))
    expect(isCorecashuError(stale)).toBe(true)
    expect(stale).toMatchObject({ _tag: "WalletNotOwned", walletId: "w" })
    // A dropped w: every call answers WalletNotOwned, naming the new owner.
    expect(a.walletIds()).toEqual([])
    await eventually(() => {
      const e = thrown(() => a.wallet("w")) as { owner?: string }
      return e.owner === "node-b"
    }, 5000)
    expect(thrown(() => a.wallet("w"))).toMatchObject({ _tag: "WalletNotOwned", owner: "node-b" })
    expect(await rejection(w.send({ mintUrl: mint.baseUrl, unit: "sat", amount: 5n }))).toMatchObject({
      _tag: "WalletNotOwned",
    })
    expect(await rejection(w.recover())).toMatchObject({ _tag: "WalletNotOwned" })
    leasesOf(a).heartbeat.resume()
    await leasesOf(a).heartbeat.beat()
    expect(leasesOf(b).holds("w")).toBe(true)

    // No value lost or duplicated: what the mint issued is what w holds plus what it sent, on both nodes' views.
    expect(mint.stats().outstanding).toBe(64n)
    expect(wb!.balance() + pendingOf(wb!)).toBe(64n)
    await wb!.send({ mintUrl: mint.baseUrl, unit: "sat", amount: 4n })
    expect(wb!.balance() + pendingOf(wb!)).toBe(mint.stats().outstanding)
    expect((await b.audit()).ok).toBe(true)
    await Effect.runPromise(engineStore(a).head) // A's view follows the log too
    expect((await a.audit()).ok).toBe(true)
    await a.close()
    await b.close()
  })

  it("a real process: node A SIGSTOPped past its lease, B takes over, A SIGCONTed is refused and steps down", async () => {
    const { servers } = await nats()
    const mint = createTestMint({ baseUrl: "http://127.0.0.1" })
    const served = await serve(mint)
    const n = ++streams
    const spec: OwnerSpec = {
      servers,
      stream: `OWN${n}`,
      subjectPrefix: `own${n}`,
      nodeId: "node-a",
      leaseTtlMs: TTL,
      dataDir: freshDir(),
      passphrase: "ownership",
      mintUrl: served.url,
      walletId: "w",
      fund: "64",
    }
    // Through tsx, not an esbuild bundle: the NATS client's CommonJS dependencies require Node built-ins,
    // which an ESM bundle cannot. One process, started once: the start-up cost does not matter here.
    const child = spawn(process.execPath, ["--import", "tsx", OWNER_CHILD], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: { ...process.env, OWNER_SPEC: JSON.stringify(spec) },
    })
    let stderr = ""
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString("utf8")
    })
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)))
    const reports: OwnerReport[] = []
    const waiters: Array<() => void> = []
    child.on("message", (m: OwnerReport) => {
      reports.push(m)
      for (const w of waiters.splice(0)) w()
    })
    const next = async (): Promise<OwnerReport> => {
      const until = Date.now() + 30_000
      while (reports.length === 0) {
        if (Date.now() > until) throw new Error(`no report from node A: ${stderr.slice(-2000)}`)
        await new Promise<void>((r) => {
          waiters.push(r)
          setTimeout(r, 200)
        })
      }
      return reports.shift()!
    }
    let b: Engine | undefined
    try {
      expect(await next()).toEqual({ t: "ready" })
      b = await Engine.open({
        dataDir: freshDir(),
        passphrase: "ownership",
        vault: INSECURE_TEST_VAULT_OPTIONS,
        mintClient: directMintClient((u) => (u === served.url ? mint : undefined)),
        options: { quotePollMs: 5 },
        store: {
          kind: "jetstream",
          servers: [...servers],
          stream: spec.stream,
          subjectPrefix: spec.subjectPrefix,
          node: { id: "node-b", leaseTtlMs: TTL },
        },
      })
      const nodeB = b
      expect(await rejection(nodeB.acquire("w"))).toMatchObject({ _tag: "WalletNotOwned", owner: "node-a" })

      // Pause A for real: no timer, no socket read, no renewal.
      child.kill("SIGSTOP")
      let wb: Wallet | undefined
      await eventually(async () => {
        const r = await nodeB.acquire("w").then(
          (x) => x,
          (e: unknown) => e,
        )
        if ((r as { _tag?: string })._tag === "WalletNotOwned") return false
        wb = r as Wallet
        return true
      }, TTL * 8)
      expect((await ownership(nodeB, "w")).map((o) => o.epoch)).toEqual([1, 2])
      expect(wb!.balance()).toBe(64n)

      // A's next step is already waiting when it wakes: a send, racing its own overdue heartbeat. (B's own
      // sends come after: A, folding B's events as it wakes, could otherwise see proofs B holds mid-send and
      // stop short with InsufficientFunds before it ever tries to append.)
      child.send({ t: "send", amount: "5" } satisfies OwnerCommand)
      child.kill("SIGCONT")
      const answer = await next()
      expect(answer).toMatchObject({ t: "failed", tag: "WalletNotOwned" })
      // Whichever came first after SIGCONT: the append refused by the fence, the overdue renewal refused, or
      // B's ownership event arriving through the log's feed before A's step.
      expect((answer as { message: string }).message).toMatch(
        /append was refused|taken over or removed|the log holds ownership epoch 2 \(node-b\)/,
      )

      // Nothing of A's attempt reached the log or the mint; B goes on; the books balance.
      expect((await ownership(nodeB, "w")).map((o) => o.nodeId)).toEqual(["node-a", "node-b"])
      await wb!.send({ mintUrl: served.url, unit: "sat", amount: 10n })
      await wb!.send({ mintUrl: served.url, unit: "sat", amount: 3n })
      expect(wb!.balance()).toBe(51n)
      expect(mint.stats().outstanding).toBe(64n)
      expect(wb!.balance() + pendingOf(wb!)).toBe(64n)
      expect((await nodeB.audit()).ok).toBe(true)
      child.send({ t: "close" } satisfies OwnerCommand)
      expect(await exited).toBe(0)
    } finally {
      child.kill("SIGCONT")
      child.kill("SIGKILL")
      await b?.close()
      await served.close()
    }
  })

  it("A's swap answered after B took over and recovered it: A's late step ends WalletNotOwned, B keeps the books", async () => {
    const { mint, open } = await cluster("own-late")
    const direct = directMintClient(mint)
    // A's mint client: the mint processes A's swap at once, but its answer reaches A only when released.
    let release: () => void = () => {}
    const answered = new Promise<void>((r) => {
      release = r
    })
    let swapsSent = 0
    const late: MintClientShape = {
      ...direct,
      swap: ((url, body) =>
        Effect.tap(Effect.sync(() => swapsSent++).pipe(Effect.andThen(direct.swap(url, body))), () =>
          Effect.promise(() => answered),
        )) as typeof direct.swap,
    }
    const a = await open("node-a", { mintClient: late })
    const b = await open("node-b")
    const w = await a.createWallet({ walletId: "w" })
    await w.addMint(mint.baseUrl)
    await fund(w, mint, 64n)

    // A sends by swap; the mint has spent its inputs and signed the outputs, the answer is held back; A pauses.
    const sending = rejection(w.send({ mintUrl: mint.baseUrl, unit: "sat", amount: 10n, forceSwap: true }))
    await eventually(() => swapsSent === 1, 5000)
    leasesOf(a).heartbeat.suspend()
    // B takes w over after the TTL; its recovery finds the inputs spent and restores the outputs.
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
    expect(wb!.history().find((op) => op.kind === "send")?.status).toBe("completed")
    expect(wb!.balance() + pendingOf(wb!)).toBe(64n)

    // A has folded B's events (its feed follows the log), then gets the mint's answer: its step ends
    // WalletNotOwned — not an engine invariant from a check against proofs B moved — and A drops w.
    const headB = await Effect.runPromise(engineStore(b).head)
    await Effect.runPromise(engineServices(a).runner.awaitSequence(headB))
    // A has not been told (its heartbeat is suspended), but the log says epoch 2: it drops w at the next look.
    expect(thrown(() => a.wallet("w"))).toMatchObject({ _tag: "WalletNotOwned", owner: "node-b" })
    expect(a.walletIds()).toEqual([])
    release()
    const stale = await sending
    expect(stale).toMatchObject({ _tag: "WalletNotOwned", walletId: "w" })
    expect(a.walletIds()).toEqual([])
    leasesOf(a).heartbeat.resume()

    // Nothing counted twice: B holds what the mint says is out, and A appended nothing after epoch 2.
    expect(wb!.balance() + pendingOf(wb!)).toBe(mint.stats().outstanding)
    const events = await Effect.runPromise(engineStore(b).read("wallet/w", 1))
    const epoch2 = events.findIndex((r) => r.event._tag === "WalletOwnerChanged" && r.event.epoch === 2)
    expect(events.slice(epoch2 + 1).filter((r) => r.event._tag === "ProofsIssued").length).toBe(1)
    expect((await b.audit()).ok).toBe(true)
    await a.close()
    await b.close()
  })

  it("a lease whose renewal fails makes the wallet unavailable at once", async () => {
    const { mint, open, servers } = await cluster("own-lost")
    const a = await open("node-a")
    const w = await a.createWallet({ walletId: "w" })
    await w.addMint(mint.baseUrl)
    await fund(w, mint, 8n)
    // The lease disappears underneath A (an operator, or the bucket's entry gone).
    const nc = await connect({ servers: [...servers] })
    const kv = await new Kvm(nc).open(leasesOf(a).bucket)
    await kv.delete(leaseKeyOf("w"))
    await nc.close()
    await leasesOf(a).heartbeat.beat()
    expect(a.walletIds()).toEqual([])
    expect(thrown(() => a.wallet("w"))).toMatchObject({ _tag: "WalletNotOwned", walletId: "w" })
    expect(await rejection(w.send({ mintUrl: mint.baseUrl, unit: "sat", amount: 1n }))).toMatchObject({
      _tag: "WalletNotOwned",
    })
    // It can take it back: a new tenure, the next epoch.
    const again = await a.acquire("w")
    expect(again.balance()).toBe(8n)
    expect(await ownership(a, "w")).toEqual([
      { nodeId: "node-a", epoch: 1 },
      { nodeId: "node-a", epoch: 2 },
    ])
    expect((await a.audit()).ok).toBe(true)
    await a.close()
  })

  it("nodes racing to acquire a free wallet: exactly one wins, the log holds one epoch 2", async () => {
    const { mint, open } = await cluster("own-race")
    const a = await open("node-a")
    const w = await a.createWallet({ walletId: "w" })
    await w.addMint(mint.baseUrl)
    await fund(w, mint, 16n)
    await a.close() // releases its lease: free at once
    const nodes = await Promise.all(["node-b", "node-c", "node-d"].map((id) => open(id)))
    const results = await Promise.allSettled(nodes.map((n) => n.acquire("w")))
    const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [nodes[i]!] : []))
    expect(won).toHaveLength(1)
    for (const r of results)
      if (r.status === "rejected")
        expect(r.reason).toMatchObject({ _tag: "WalletNotOwned", owner: won[0]!.nodeId })
    expect(await ownership(won[0]!, "w")).toEqual([
      { nodeId: "node-a", epoch: 1 },
      { nodeId: won[0]!.nodeId, epoch: 2 },
    ])
    expect(won[0]!.wallet("w").balance()).toBe(16n)
    expect((await won[0]!.audit()).ok).toBe(true)
    for (const n of nodes) await n.close()
  })

  it("without a node, an engine on the same log hosts every wallet, as before", async () => {
    const { mint, open, servers, stream } = await cluster("own-plain")
    const a = await open("node-a")
    const w = await a.createWallet({ walletId: "w" })
    await w.addMint(mint.baseUrl)
    await fund(w, mint, 8n)
    await a.close()
    const plain = await Engine.open({
      dataDir: freshDir(),
      passphrase: "ownership",
      vault: INSECURE_TEST_VAULT_OPTIONS,
      mintClient: directMintClient(mint),
      store: { kind: "jetstream", servers: [...servers], stream, subjectPrefix: stream.toLowerCase() },
    })
    expect(plain.nodeId).toBeUndefined()
    expect(plain.walletIds()).toEqual(["w"])
    expect(plain.wallet("w").balance()).toBe(8n)
    expect((await plain.audit()).ok).toBe(true)
    await plain.close()
  })

  it("checks the node option like every other argument", async () => {
    const { servers } = await nats()
    const bad = [
      { node: "a" },
      { node: { id: "" } },
      { node: { id: "a b" } },
      { node: { leaseTtlMs: 10 } },
      { node: { leaseTtlMs: 1.5 } },
      { node: { ttl: 1000 } },
    ]
    for (const extra of bad) {
      const store = { kind: "jetstream", servers, stream: "ARGS", subjectPrefix: "args", ...extra }
      const e = await rejection(
        Engine.open({ dataDir: freshDir(), unencrypted: true, store } as unknown as EngineOpenOptions),
      )
      expect(e, JSON.stringify(extra)).toMatchObject({ _tag: "InvalidArgument" })
    }
  })
})
