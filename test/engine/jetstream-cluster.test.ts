/**
 * The engine on a real 3-node NATS cluster with an R3 stream (issue #12, "Kill one NATS server of three →
 * appends continue"): wallets mint, send and receive against the in-process mint without pause while the
 * stream's leader server is SIGKILLed.
 *
 * - Operations keep completing on the remaining quorum (the client reconnects, the two survivors elect a
 *   leader; none has failed in our runs, and a failure may only be a typed error); the killed server restarts with its store and catches up (its replica current, no
 *   lag). The log line prints the stalls. Killing the leader used to stall traffic 10 s (once 4.3 s): two
 *   5 s timeouts in the store — the publish in flight to the dead leader, then the catch-up's stream info
 *   while no leader was elected. The store now ends such a publish when its connection drops or the stream
 *   elects a new leader, and asks in 1 s tries (`src/infra/jetstream-store.ts`): the stall is the election
 *   itself, 5.2–8.5 s here (the servers' raft election; 5.3–6 s with the store alone). Killing a follower:
 *   ~0.2–0.3 s.
 * - Then a second server — one that stayed up the first time — is SIGKILLed: the quorum now needs the
 *   restarted one, so traffic going on proves it really caught up; it restarts too.
 * - After traffic: every wallet's audit is clean and value is conserved against the mint (outstanding = Σ
 *   unspent + reserved + pending, no proof left reserved).
 * - An engine opened on the same stream with a fresh dataDir (nothing but the log) rebuilds every wallet's
 *   balances and history identically.
 */
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { describe, expect, it } from "vitest"
import type { Engine } from "../../src/engine/engine.js"
import type { Wallet } from "../../src/engine/wallet.js"
import { freshDir, fund, openTestEngine, testMint } from "../support/engine.js"
import { natsClosedAfterAll } from "../support/nats.js"

const nats = natsClosedAfterAll()

const STREAM = "CLUSTER"
const WALLETS = 4

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const held = (w: Wallet): bigint => w.balances().reduce((s, b) => s + b.unspent + b.reserved + b.pending, 0n)

const tagOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "_tag" in e ? String(e._tag) : String(e)

describe("Engine on a 3-node NATS cluster (R3): one server SIGKILLed under traffic", () => {
  it("operations go on, the server catches up, the books balance and a fresh node rebuilds every wallet", async () => {
    const cluster = await nats({ cluster: 3 })
    const servers = [...cluster.servers]
    const mint = testMint("cluster")
    const store = { kind: "jetstream", servers, stream: STREAM, subjectPrefix: "clu", replicas: 3 } as const
    const dataDir = freshDir()
    let engine: Engine = await openTestEngine([mint], { dataDir, store })
    const nc = await connect({ servers, reconnectTimeWait: 100, maxReconnectAttempts: -1 })
    const jsm = await jetstreamManager(nc, { timeout: 2_000 })
    let rebuilt: Engine | undefined
    try {
      const wallets = await Promise.all(
        Array.from({ length: WALLETS }, async (_, i) => {
          const w = await engine.createWallet({ walletId: `w${i}` })
          await w.addMint(mint.baseUrl)
          await fund(w, mint, 500n)
          return w
        }),
      )

      // Traffic: each wallet in turn mints a little, sends to the next one, which receives the token.
      const done: Array<{ at: number; kind: string }> = []
      const failures: Array<{ at: number; kind: string; tag: string; message: string }> = []
      let stop = false
      const op = async (kind: string, f: () => Promise<unknown>): Promise<unknown> => {
        try {
          const r = await f()
          done.push({ at: Date.now(), kind })
          return r
        } catch (e) {
          failures.push({ at: Date.now(), kind, tag: tagOf(e), message: (e as Error).message ?? "" })
          await sleep(50)
          return undefined
        }
      }
      const workers = wallets.map(async (w, i) => {
        const to = wallets[(i + 1) % WALLETS]!
        for (let n = 0; !stop; n++) {
          if (n % 4 === 0)
            await op("mint", async () => {
              const q = await w.mintQuote({ mintUrl: mint.baseUrl, amount: 7n })
              return w.mint(q.operationId)
            })
          const sent = (await op("send", () =>
            w.send({ mintUrl: mint.baseUrl, unit: "sat", amount: BigInt(1 + (n % 5)) }),
          )) as { token: string } | undefined
          if (sent !== undefined) await op("receive", () => to.receive(sent.token))
        }
      })
      const completedSince = (t: number) => done.filter((d) => d.at >= t).length
      /** The longest wait for a completed operation from `t` over the next 20 s (how long a kill stalled traffic). */
      const stallAfter = (t: number): number => {
        const times = [t, ...done.map((d) => d.at).filter((at) => at >= t && at <= t + 20_000)]
        return times.slice(1).reduce((max, at, i) => Math.max(max, at - times[i]!), 0)
      }
      const waitForOps = async (since: number, count: number, what: string) => {
        const until = Date.now() + 30_000
        while (completedSince(since) < count) {
          if (Date.now() > until)
            throw new Error(
              `${what}: ${completedSince(since)} of ${count} operations in 30 s; failures: ${JSON.stringify(failures.slice(-5))}`,
            )
          await sleep(50)
        }
      }
      const leaderIndex = async (): Promise<number> => {
        const leader = (await jsm.streams.info(STREAM)).cluster?.leader
        expect(leader).toMatch(/^n[123]$/)
        return Number(leader!.slice(1)) - 1
      }
      /** Waits until every replica of the stream is current with no lag (all three servers up). */
      const caughtUp = async () => {
        const until = Date.now() + 20_000
        for (;;) {
          const info = await jsm.streams.info(STREAM).catch(() => undefined)
          const replicas = info?.cluster?.replicas ?? []
          if (replicas.length === 2 && replicas.every((r) => r.current && (r.lag ?? 0) === 0)) return info!
          if (Date.now() > until) throw new Error(`replicas not caught up: ${JSON.stringify(replicas)}`)
          await sleep(100)
        }
      }

      const t0 = Date.now()
      await waitForOps(t0, 12, "before any kill")

      // 1. The stream's leader server dies.
      const first = await leaderIndex()
      const kill1 = Date.now()
      await cluster.kill(first)
      await waitForOps(kill1, 24, `after SIGKILL of n${first + 1}`)
      expect(await leaderIndex()).not.toBe(first)
      await cluster.restart(first)
      await caughtUp()

      // 2. Another server dies, one that stayed up the first time: the quorum needs the restarted one.
      const second = (first + 1) % 3
      const leaderAtKill2 = await leaderIndex()
      const kill2 = Date.now()
      await cluster.kill(second)
      await waitForOps(kill2, 24, `after SIGKILL of n${second + 1}`)
      await cluster.restart(second)
      const final = await caughtUp()
      const restored = Date.now()
      await waitForOps(restored, 8, "with all three back")

      stop = true
      await Promise.all(workers)
      // What failed, if anything, failed in the kills' windows and as a store-side refusal, never as a bug.
      for (const f of failures) expect(f.tag, JSON.stringify(f)).not.toMatch(/Defect|Bug|Corrupt|Invariant/)
      expect(done.filter((d) => d.kind === "receive" && d.at > kill1).length).toBeGreaterThan(0)

      // Settle what is in flight, then the books.
      for (let pass = 0; pass < 3; pass++)
        for (const w of wallets) {
          await w.recover()
          await w.checkPending(mint.baseUrl)
        }
      for (const w of wallets) expect((await w.audit()).ok).toBe(true)
      expect((await engine.audit()).ok).toBe(true)
      const total = wallets.reduce((s, w) => s + held(w), 0n)
      expect(total).toBe(mint.stats().outstanding)
      for (const w of wallets) expect(w.balances().every((b) => b.reserved === 0n)).toBe(true)

      // The log holds every message once on all three servers.
      const head = final.state.last_seq
      expect(head).toBeGreaterThan(0)

      // A fresh node (no dataDir state) rebuilds every wallet from the stream alone.
      const snapshot = wallets.map((w) => ({ id: w.id, balances: w.balances(), history: w.history() }))
      await engine.close()
      rebuilt = await openTestEngine([mint], { dataDir: freshDir(), store })
      engine = rebuilt
      expect([...rebuilt.walletIds()].sort()).toEqual(wallets.map((w) => w.id).sort())
      const again = snapshot.map(({ id }) => {
        const w = rebuilt!.wallet(id)
        return { id, balances: w.balances(), history: w.history() }
      })
      expect(again).toEqual(snapshot)
      expect((await rebuilt.audit()).ok).toBe(true)
      console.log(
        `cluster: ${done.length} operations (${completedSince(kill1)} after the first kill; longest wait ${stallAfter(kill1)} ms after killing the leader n${first + 1}, ${stallAfter(kill2)} ms after killing n${second + 1}, the leader then n${leaderAtKill2 + 1}), ${failures.length} failed (${[...new Set(failures.map((f) => f.tag))].join(", ") || "none"}), log head ${head}, value ${total}`,
      )
    } finally {
      await engine.close().catch(() => undefined)
      await nc.close()
    }
  }, 90_000)
})
